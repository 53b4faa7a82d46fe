package fakecloud

import (
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// TestKeyPolicySemantics: what a key policy grants is what KMS honours
// (corrections.md §3): actions off the documented administrator and user
// lists grant nothing; other accounts get only the 11 user actions, and
// only as RAM users or roles (a foreign :* or :root is accepted by
// SetKeyPolicy but grants nothing). Condition is evaluated with the
// documented keys: kms:EncryptionContext:<key> and acs:SecureTransport here.
func TestKeyPolicySemantics(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	owner := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	dev := must(w.app1.NewUser("dev", "AliyunKMSFullAccess"))
	other := must(w.app2.NewUser("other", "AliyunKMSFullAccess"))
	ops := must(w.sec.NewUser("ops")) // no identity policy: only the key policy can grant
	gen := func(u *User, ec map[string]interface{}) error {
		c := newClients(t, w.c.Config(u.Credentials(), region)).kms
		_, err := c.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ARN), EncryptionContext: ec}, rt)
		return err
	}
	doc := `{"Version":"1","Statement":[` +
		`{"Effect":"Allow","Principal":{"RAM":["` + w.secAdmin.ARN + `"]},"Action":["kms:*"],"Resource":["*"]},` +
		`{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + w.sec.ID + `:user/ops"]},"Action":["kms:Gen*"],"Resource":["*"]},` +
		`{"Effect":"Allow","Principal":{"RAM":["` + w.app2.RootARN() + `","acs:ram::` + w.app2.ID + `:*"]},"Action":["kms:*"],"Resource":["*"]},` +
		`{"Effect":"Allow","Principal":{"RAM":["` + dev.ARN + `"]},"Action":["kms:*"],"Resource":["*"],` +
		`"Condition":{"StringEquals":{"kms:EncryptionContext:purpose":["backup"]}}}]}`
	wantCode(t, setKeyPolicy(owner, w.key.ID, doc), "") // a foreign :root and :* are accepted

	wantCode(t, gen(ops, nil), "Forbidden.NoPermission")                                        // kms:Gen* is not a documented action
	wantCode(t, gen(other, nil), "Forbidden.NoPermission")                                      // a foreign :root or :* grants nothing
	wantCode(t, gen(dev, map[string]interface{}{"purpose": "backup"}), "")                      // condition holds
	wantCode(t, gen(dev, map[string]interface{}{"purpose": "other"}), "Forbidden.NoPermission") // condition fails
	wantCode(t, gen(dev, nil), "Forbidden.NoPermission")

	// The other account's user is refused administration even with kms:*.
	devKMS := newClients(t, w.c.Config(dev.Credentials(), region)).kms
	_, err := devKMS.DisableKeyWithContext(ctxb(), &kms.DisableKeyRequest{KeyId: tea.String(w.key.ARN)}, rt)
	wantCode(t, err, "Forbidden.NoPermission")

	// The owner's statement requires a secure transport: the in-process
	// transport is https, the HTTP server is not. The owner's admin still
	// has its identity policy (same account: either side suffices), so use
	// ops, which has none.
	wantCode(t, setKeyPolicy(owner, w.key.ID, `{"Version":"1","Statement":[`+
		`{"Effect":"Allow","Principal":{"RAM":["`+w.secAdmin.ARN+`"]},"Action":["kms:*"],"Resource":["*"]},`+
		`{"Effect":"Allow","Principal":{"RAM":["acs:ram::`+w.sec.ID+`:user/ops"]},"Action":["kms:GenerateDataKey"],"Resource":["*"],"Condition":{"Bool":{"acs:SecureTransport":["true"]}}}]}`), "")
	wantCode(t, gen(ops, nil), "")
	plain := newClients(t, configFor(t, w.c, overHTTP)(ops.Credentials())).kms
	_, err = plain.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ARN)}, rt)
	wantCode(t, err, "Forbidden.NoPermission")
}
