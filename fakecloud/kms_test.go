package fakecloud

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

// keyPolicy builds a key policy: the owner's default statement plus one
// statement granting actions to principals.
func keyPolicy(owner string, principals []string, actions ...string) string {
	if len(actions) == 0 {
		actions = []string{"kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"}
	}
	return `{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:*"]},"Resource":["*"],"Sid":"kms default key policy"},` +
		`{"Action":["` + strings.Join(actions, `","`) + `"],"Effect":"Allow","Principal":{"RAM":["` + strings.Join(principals, `","`) + `"]},"Resource":["*"]}],"Version":"1"}`
}

func setKeyPolicy(kc *kms.Client, keyID, doc string) error {
	_, err := kc.SetKeyPolicyWithContext(ctxb(), &kms.SetKeyPolicyRequest{KeyId: tea.String(keyID), Policy: tea.String(doc)}, rt)
	return err
}

func getKeyPolicy(t *testing.T, kc *kms.Client, keyID string) string {
	t.Helper()
	out, err := kc.GetKeyPolicyWithContext(ctxb(), &kms.GetKeyPolicyRequest{KeyId: tea.String(keyID)}, rt)
	if err != nil {
		t.Fatal(err)
	}
	return tea.StringValue(out.Body.Policy)
}

// TestSetKeyPolicyValidation: SetKeyPolicy checks the document (size,
// Version, Resource "*", kms: actions) and the principals of other
// accounts (workflow W2), and a refused write changes nothing.
func TestSetKeyPolicyValidation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	before := getKeyPolicy(t, kc, w.key.ID)
	owner := w.sec.ID
	big := keyPolicy(owner, []string{"acs:ram::" + owner + ":user/admin"}, "kms:"+strings.Repeat("A", 33000))
	tests := []struct {
		name, keyID, policyName, doc, code string
	}{
		{"too large", w.key.ID, "", big, "InvalidParameter"},
		{"not JSON", w.key.ID, "", `{"Version":"1",`, "InvalidParameter"},
		{"version 2", w.key.ID, "", strings.Replace(keyPolicy(owner, []string{"acs:ram::" + owner + ":root"}), `"Version":"1"`, `"Version":"2"`, 1), "InvalidParameter"},
		{"resource not *", w.key.ID, "", strings.Replace(keyPolicy(owner, []string{"acs:ram::" + owner + ":root"}), `"Resource":["*"]}]`, `"Resource":["acs:kms:*:*:key/*"]}]`, 1), "InvalidParameter"},
		{"non-kms action", w.key.ID, "", keyPolicy(owner, []string{"acs:ram::" + owner + ":root"}, "ecs:CreateDisk"), "InvalidParameter"},
		{"no principal", w.key.ID, "", `{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Resource":["*"]}],"Version":"1"}`, "InvalidParameter"},
		{"role of other account missing", w.key.ID, "", keyPolicy(owner, []string{arn.RAMRole(w.app1.ID, "AliyunECSDiskEncryptDefaultRole").String()}), "InvalidParameter"},
		{"user of other account missing", w.key.ID, "", keyPolicy(owner, []string{arn.RAMUser(w.app1.ID, "nobody").String()}), "InvalidParameter"},
		{"unknown account", w.key.ID, "", keyPolicy(owner, []string{"acs:ram::1000000000000001:*"}), "InvalidParameter"},
		{"wildcard account", w.key.ID, "", keyPolicy(owner, []string{"acs:ram::*:*"}), "InvalidParameter"},
		{"policy name not default", w.key.ID, "other", keyPolicy(owner, []string{"acs:ram::" + owner + ":root"}), "Forbidden.ResourceNotFound"},
		{"unknown key", "key-hzz000000000000000000000", "", keyPolicy(owner, []string{"acs:ram::" + owner + ":root"}), "Forbidden.KeyNotFound"},
		{"role name case-insensitive", w.key.ID, "", keyPolicy(owner, []string{"acs:ram::" + w.app1.ID + ":role/RESOURCEDIRECTORYACCOUNTACCESSROLE"}), ""},
	}
	for _, tc := range tests {
		req := &kms.SetKeyPolicyRequest{KeyId: tea.String(tc.keyID), Policy: tea.String(tc.doc)}
		if tc.policyName != "" {
			req.PolicyName = tea.String(tc.policyName)
		}
		_, err := kc.SetKeyPolicyWithContext(ctxb(), req, rt)
		if errCode(err) != tc.code || (tc.code == "" && err != nil) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.code)
		}
		if tc.code != "" && getKeyPolicy(t, kc, w.key.ID) != before {
			t.Errorf("%s: the refused write changed the policy", tc.name)
		}
	}
	if n := w.c.Log().Count(Match{Action: "SetKeyPolicy", Status: 200}); n != 1 {
		t.Errorf("%d successful SetKeyPolicy, want 1", n)
	}

	// W2: once the recipient creates its role, the same document is accepted.
	doc := keyPolicy(owner, []string{arn.RAMRole(w.app1.ID, "AliyunECSDiskEncryptDefaultRole").String()})
	wantCode(t, setKeyPolicy(kc, w.key.ID, doc), "InvalidParameter")
	must(w.app1.NewRole("AliyunECSDiskEncryptDefaultRole", `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}`))
	wantCode(t, setKeyPolicy(kc, w.key.ID, doc), "")
	if got := getKeyPolicy(t, kc, w.key.ID); got != doc {
		t.Errorf("GetKeyPolicy = %s, want the document as written", got)
	}

	// CreateKey validates its Policy the same way.
	_, err := kc.CreateKeyWithContext(ctxb(), &kms.CreateKeyRequest{DKMSInstanceId: tea.String(w.inst.ID), Policy: tea.String(`{"Version":"1"}`)}, rt)
	wantCode(t, err, "InvalidParameter")
}

// TestKeyPolicyOnlyInInstances: keys outside a KMS instance have no key
// policy.
func TestKeyPolicyOnlyInInstances(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	dk := must(w.sec.NewDefaultKey(region, KeyOptions{}))
	kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	_, err := kc.GetKeyPolicyWithContext(ctxb(), &kms.GetKeyPolicyRequest{KeyId: tea.String(dk.ID)}, rt)
	wantCode(t, err, "Forbidden.KeyPolicyUnSupported")
	wantCode(t, setKeyPolicy(kc, dk.ID, keyPolicy(w.sec.ID, []string{"acs:ram::" + w.sec.ID + ":root"})), "Forbidden.KeyPolicyUnSupported")
	_, err = kc.CreateKeyWithContext(ctxb(), &kms.CreateKeyRequest{Policy: tea.String(keyPolicy(w.sec.ID, []string{"acs:ram::" + w.sec.ID + ":root"}))}, rt)
	wantCode(t, err, "Forbidden.KeyPolicyUnSupported")
	out, err := kc.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{KeyId: tea.String(dk.ID)}, rt)
	if err != nil || out.Body.KeyMetadata.DKMSInstanceId != nil {
		t.Fatalf("DescribeKey(default key) = %v, %v", out, err)
	}
	// The owner can use it; another account cannot, whatever its policies.
	if _, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(dk.ID)}, rt); err != nil {
		t.Fatal(err)
	}
	app := newClients(t, w.c.Config(w.app1.RootCredentials(), region)).kms
	_, err = app.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(dk.ARN)}, rt)
	wantCode(t, err, "Forbidden.NoPermission")
}

// TestShareQuota: each distinct foreign account in an instance's key
// policies (and each bound VPC) uses one unit of the access management
// quota; exceeding it fails with Rejected.ShareQuotaExceedLimit and
// changes nothing; a revoked account is released only after the release
// delay (5 minutes by default, configurable).
func TestShareQuota(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		release time.Duration // Options.QuotaReleaseDelay
		wait    time.Duration // how long the release takes
	}{
		{"default delay", 0, 5 * time.Minute},
		{"custom delay", time.Minute, time.Minute},
		{"immediate", -1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, Options{QuotaReleaseDelay: tc.release})
			inst := w.sec.NewKMSInstance(region, InstanceOptions{Quota: 3, VPCs: 1})
			k1 := must(inst.NewKey(KeyOptions{}))
			k2 := must(inst.NewKey(KeyOptions{}))
			kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
			owner := w.sec.ID
			role := func(a *Account) string { return arn.ResourceDirectoryAccessRole(a.ID).String() }
			used := func() int64 {
				out, err := kc.GetKmsInstanceQuotaInfosWithContext(ctxb(), &kms.GetKmsInstanceQuotaInfosRequest{KmsInstanceId: tea.String(inst.ID), ResourceType: tea.String("vpc")}, rt)
				if err != nil {
					t.Fatal(err)
				}
				return tea.Int64Value(out.Body.KmsInstanceQuotaInfos[0].UsedQuantity)
			}
			if used() != 1 {
				t.Fatalf("used = %d with one bound VPC, want 1", used())
			}
			// app-1 on both keys, twice over: one unit. app-2: a second.
			wantCode(t, setKeyPolicy(kc, k1.ID, keyPolicy(owner, []string{role(w.app1), "acs:ram::" + w.app1.ID + ":root"})), "")
			wantCode(t, setKeyPolicy(kc, k2.ID, keyPolicy(owner, []string{role(w.app1), role(w.app2)})), "")
			if used() != 3 {
				t.Fatalf("used = %d, want 3 (1 VPC + 2 accounts)", used())
			}
			// A third account does not fit, on either key; nothing changes.
			before := getKeyPolicy(t, kc, k1.ID)
			err := setKeyPolicy(kc, k1.ID, keyPolicy(owner, []string{role(w.app1), "acs:ram::" + w.mgmt.ID + ":*"}))
			wantCode(t, err, "Rejected.ShareQuotaExceedLimit")
			if errStatus(err) != 400 || getKeyPolicy(t, kc, k1.ID) != before || used() != 3 {
				t.Fatalf("refused share changed state: status %d, used %d", errStatus(err), used())
			}
			// A Deny naming a third account grants nothing: no unit.
			deny := `{"Action":["kms:*"],"Effect":"Deny","Principal":{"RAM":["acs:ram::` + w.mgmt.ID + `:*"]},"Resource":["*"]}`
			wantCode(t, setKeyPolicy(kc, k1.ID, strings.Replace(before, `],"Version"`, ","+deny+`],"Version"`, 1)), "")
			if used() != 3 {
				t.Fatalf("used = %d with a Deny naming a third account, want 3", used())
			}
			_, err = kc.CreateKeyWithContext(ctxb(), &kms.CreateKeyRequest{DKMSInstanceId: tea.String(inst.ID),
				Policy: tea.String(keyPolicy(owner, []string{"acs:ram::" + w.mgmt.ID + ":*"}))}, rt)
			wantCode(t, err, "Rejected.ShareQuotaExceedLimit")
			// Revoke app-2: its unit comes back only after the delay.
			wantCode(t, setKeyPolicy(kc, k2.ID, keyPolicy(owner, []string{role(w.app1)})), "")
			if tc.wait > 0 {
				if used() != 3 {
					t.Fatalf("used = %d right after the revoke, want 3", used())
				}
				wantCode(t, setKeyPolicy(kc, k1.ID, keyPolicy(owner, []string{"acs:ram::" + w.mgmt.ID + ":*"})), "Rejected.ShareQuotaExceedLimit")
				w.clock.Advance(tc.wait - time.Second)
				if used() != 3 {
					t.Fatalf("used = %d just before the delay ends, want 3", used())
				}
				w.clock.Advance(time.Second)
			}
			if used() != 2 {
				t.Fatalf("used = %d after the release, want 2", used())
			}
			wantCode(t, setKeyPolicy(kc, k1.ID, keyPolicy(owner, []string{role(w.app1), "acs:ram::" + w.mgmt.ID + ":*"})), "")
			// Re-adding a recently revoked account does not count it twice.
			if got := inst.QuotaUsed(); got != 3 {
				t.Fatalf("QuotaUsed = %d, want 3", got)
			}
		})
	}
}

// TestKeyStates: cryptographic calls refuse disabled and pending-deletion
// keys with the documented codes; a key past its deletion date is gone.
func TestKeyStates(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	id := tea.String(w.key.ID)
	enc, err := kc.EncryptWithContext(ctxb(), &kms.EncryptRequest{KeyId: id, Plaintext: tea.String("aGk=")}, rt)
	if err != nil {
		t.Fatal(err)
	}
	crypto := func() map[string]error {
		_, e1 := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: id}, rt)
		_, e2 := kc.GenerateDataKeyWithoutPlaintextWithContext(ctxb(), &kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: id}, rt)
		_, e3 := kc.EncryptWithContext(ctxb(), &kms.EncryptRequest{KeyId: id, Plaintext: tea.String("aGk=")}, rt)
		_, e4 := kc.DecryptWithContext(ctxb(), &kms.DecryptRequest{CiphertextBlob: enc.Body.CiphertextBlob}, rt)
		return map[string]error{"GenerateDataKey": e1, "GenerateDataKeyWithoutPlaintext": e2, "Encrypt": e3, "Decrypt": e4}
	}
	check := func(state, code string, status int) {
		t.Helper()
		for op, err := range crypto() {
			if errCode(err) != code || (err != nil && errStatus(err) != status) {
				t.Errorf("%s on a %s key: %v, want %d %s", op, state, err, status, code)
			}
		}
	}
	check("Enabled", "", 0)
	must(kc.DisableKeyWithContext(ctxb(), &kms.DisableKeyRequest{KeyId: id}, rt))
	check("Disabled", "Rejected.Disabled", 409)
	must(kc.EnableKeyWithContext(ctxb(), &kms.EnableKeyRequest{KeyId: id}, rt))
	_, err = kc.CancelKeyDeletionWithContext(ctxb(), &kms.CancelKeyDeletionRequest{KeyId: id}, rt)
	wantCode(t, err, "Rejected.UnexpectedState")
	_, err = kc.ScheduleKeyDeletionWithContext(ctxb(), &kms.ScheduleKeyDeletionRequest{KeyId: id, PendingWindowInDays: tea.Int32(6)}, rt)
	wantCode(t, err, "InvalidParameter")
	must(kc.ScheduleKeyDeletionWithContext(ctxb(), &kms.ScheduleKeyDeletionRequest{KeyId: id, PendingWindowInDays: tea.Int32(7)}, rt))
	check("PendingDeletion", "Rejected.PendingDeletion", 409)
	_, err = kc.EnableKeyWithContext(ctxb(), &kms.EnableKeyRequest{KeyId: id}, rt)
	wantCode(t, err, "Rejected.PendingDeletion")
	w.clock.Advance(7 * 24 * time.Hour)
	check("deleted", "Forbidden.KeyNotFound", 404)
	_, err = kc.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{KeyId: id}, rt)
	wantCode(t, err, "Forbidden.KeyNotFound")
}

// TestEncryptionContext: Decrypt needs an equal EncryptionContext,
// compared as parsed maps.
func TestEncryptionContext(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	ctx := map[string]interface{}{"tenant": "acme", "purpose": "envelope"}
	g, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ID), EncryptionContext: ctx}, rt)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ctx  map[string]interface{}
		code string
	}{
		{"same", map[string]interface{}{"purpose": "envelope", "tenant": "acme"}, ""},
		{"missing", nil, "InvalidParameter"},
		{"different value", map[string]interface{}{"tenant": "acme2", "purpose": "envelope"}, "InvalidParameter"},
		{"extra key", map[string]interface{}{"tenant": "acme", "purpose": "envelope", "x": "y"}, "InvalidParameter"},
		{"fewer keys", map[string]interface{}{"tenant": "acme"}, "InvalidParameter"},
	}
	for _, tc := range tests {
		d, err := kc.DecryptWithContext(ctxb(), &kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob, EncryptionContext: tc.ctx}, rt)
		if errCode(err) != tc.code || (tc.code == "" && (err != nil || tea.StringValue(d.Body.Plaintext) != tea.StringValue(g.Body.Plaintext))) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.code)
		}
	}
}

// TestCiphertextTampering: blobs are authenticated; changing any byte, or
// truncating, is detected, and a blob is only good in its key's region.
func TestCiphertextTampering(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	g, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ID)}, rt)
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := base64.StdEncoding.DecodeString(tea.StringValue(g.Body.CiphertextBlob))
	decrypt := func(b []byte) error {
		_, err := kc.DecryptWithContext(ctxb(), &kms.DecryptRequest{CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(b))}, rt)
		return err
	}
	if err := decrypt(blob); err != nil {
		t.Fatal(err)
	}
	for i := range blob {
		b := append([]byte{}, blob...)
		b[i] ^= 0x01
		if err := decrypt(b); err == nil || (errCode(err) != "InvalidParameter" && errCode(err) != "Forbidden.KeyNotFound") {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	for _, n := range []int{1, 4, len(blob) - 1} {
		wantCode(t, decrypt(blob[:n]), "InvalidParameter")
	}
	_, err = kc.DecryptWithContext(ctxb(), &kms.DecryptRequest{CiphertextBlob: tea.String("not base64!")}, rt)
	wantCode(t, err, "InvalidParameter")
	other := newClients(t, w.c.Config(w.secAdmin.Credentials(), "cn-shanghai")).kms
	_, err = other.DecryptWithContext(ctxb(), &kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob}, rt)
	wantCode(t, err, "Forbidden.KeyNotFound")
}

// TestKeyAccess: who may use a key, by the two-sided rule of kms.md §8:
// same account, the key policy or an identity policy suffices; another
// account needs both and must name the key by ARN.
func TestKeyAccess(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	cfg := configFor(t, w.c, inProc)
	owner := w.sec.ID
	// The key policy grants app-1's access role and app-2's "reader" user;
	// it explicitly denies the Security account's "blocked" user.
	readerNoID := must(w.app2.NewUser("reader"))                            // named by the key policy, no identity policy
	readerAllowed := must(w.app2.NewUser("reader2", "AliyunKMSFullAccess")) // named as "Reader2"
	doc := `{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:*"]},"Resource":["*"]},` +
		`{"Action":["kms:DescribeKey","kms:GenerateDataKey"],"Effect":"Allow","Principal":{"RAM":["` + arn.ResourceDirectoryAccessRole(w.app1.ID).String() +
		`","acs:ram::` + w.app2.ID + `:user/reader","acs:ram::` + w.app2.ID + `:user/Reader2"]},"Resource":["*"]},` +
		`{"Action":["kms:*"],"Effect":"Deny","Principal":{"RAM":["acs:ram::` + owner + `:user/blocked"]},"Resource":["*"]}],"Version":"1"}`
	wantCode(t, setKeyPolicy(newClients(t, cfg(w.secAdmin.Credentials())).kms, w.key.ID, doc), "")
	noPolicyUser := must(w.sec.NewUser("plain"))                     // same account, no identity policy: the key policy's acs:ram::<owner>:* suffices
	blocked := must(w.sec.NewUser("blocked", "AdministratorAccess")) // same account, explicit Deny in the key policy
	app1Role := assumeRole(t, cfg, w.pipeline.Credentials(), arn.ResourceDirectoryAccessRole(w.app1.ID).String(), "kk")
	app1Plain := must(w.app1.NewUser("plain", "AliyunKMSFullAccess")) // identity allows, key policy does not name it
	tests := []struct {
		name  string
		creds Credentials
		ref   string
		code  string
	}{
		{"owner root, by ID", w.sec.RootCredentials(), w.key.ID, ""},
		{"owner admin, by alias", w.secAdmin.Credentials(), "alias/shared", ""},
		{"owner user without identity policy", noPolicyUser.Credentials(), w.key.ID, ""},
		{"owner user denied by the key policy", blocked.Credentials(), w.key.ID, "Forbidden.NoPermission"},
		{"other account: both sides allow", app1Role, w.key.ARN, ""},
		{"other account: by bare ID", app1Role, w.key.ID, "Forbidden.KeyNotFound"},
		{"other account: by alias", app1Role, "alias/shared", "Forbidden.AliasNotFound"},
		{"other account: identity only", app1Plain.Credentials(), w.key.ARN, "Forbidden.NoPermission"},
		{"other account: key policy only", readerNoID.Credentials(), w.key.ARN, "Forbidden.NoPermission"},
		{"other account: user name case differs", readerAllowed.Credentials(), w.key.ARN, ""},
		{"other account root, not named", w.mgmt.RootCredentials(), w.key.ARN, "Forbidden.NoPermission"},
	}
	for _, tc := range tests {
		kc := newClients(t, cfg(tc.creds)).kms
		_, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(tc.ref)}, rt)
		if errCode(err) != tc.code || (tc.code == "" && err != nil) {
			t.Errorf("%s: GenerateDataKey: got %v, want %q", tc.name, err, tc.code)
		}
		// Decrypt finds the key in the blob and decides on that key.
		if tc.code == "" {
			continue
		}
		g := must(newClients(t, cfg(w.secAdmin.Credentials())).kms.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ID)}, rt))
		_, err = kc.DecryptWithContext(ctxb(), &kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob}, rt)
		if errCode(err) != "Forbidden.NoPermission" {
			t.Errorf("%s: Decrypt: got %v, want Forbidden.NoPermission", tc.name, err)
		}
	}
	// The log names the key's owner as the target of cross-account calls.
	if n := w.c.Log().Count(Match{Action: "GenerateDataKey", CallerAccount: w.app1.ID, TargetAccount: owner, Status: 200}); n != 1 {
		t.Errorf("log: %d cross-account GenerateDataKey by app-1 on the Security key, want 1", n)
	}
}

// TestExternalKeys: keys of an external key management instance (HYOK)
// are symmetric, do not rotate, and work only while the XKI proxy is
// connected and the external key enabled (workflow W3).
func TestExternalKeys(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	xki := w.sec.NewExternalKMSInstance(region, InstanceOptions{})
	kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	_, err := kc.CreateKeyWithContext(ctxb(), &kms.CreateKeyRequest{DKMSInstanceId: tea.String(xki.ID), KeySpec: tea.String("RSA_2048"), KeyUsage: tea.String("SIGN/VERIFY")}, rt)
	wantCode(t, err, "UnsupportedOperation")
	_, err = kc.CreateKeyWithContext(ctxb(), &kms.CreateKeyRequest{DKMSInstanceId: tea.String(xki.ID), EnableAutomaticRotation: tea.Bool(true)}, rt)
	wantCode(t, err, "UnsupportedOperation")
	ck, err := kc.CreateKeyWithContext(ctxb(), &kms.CreateKeyRequest{DKMSInstanceId: tea.String(xki.ID)}, rt)
	if err != nil || tea.StringValue(ck.Body.KeyMetadata.Origin) != "EXTERNAL" {
		t.Fatalf("CreateKey(external) = %v, %v", ck, err)
	}
	id := ck.Body.KeyMetadata.KeyId
	gen := func() error {
		_, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: id}, rt)
		return err
	}
	wantCode(t, gen(), "")
	xki.SetProxyConnected(false)
	wantCode(t, gen(), "Rejected.Unavailable")
	xki.SetProxyConnected(true)
	ek := w.sec.Key(tea.StringValue(id))
	if ek == nil || ek.Instance == nil || ek.Instance.ID != xki.ID {
		t.Fatalf("Account.Key = %+v", ek)
	}
	ek.SetExternalKeyEnabled(false)
	wantCode(t, gen(), "Rejected.Unavailable")
	ek.SetExternalKeyEnabled(true)
	wantCode(t, gen(), "")
}

// TestDataPlaneParameters: the documented limits of GenerateDataKey and
// Encrypt.
func TestDataPlaneParameters(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	id := tea.String(w.key.ID)
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"NumberOfBytes 0", func() error {
			_, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: id, NumberOfBytes: tea.Int32(0)}, rt)
			return err
		}, "InvalidParameter"},
		{"NumberOfBytes 1025", func() error {
			_, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: id, NumberOfBytes: tea.Int32(1025)}, rt)
			return err
		}, "InvalidParameter"},
		{"NumberOfBytes 1024", func() error {
			_, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: id, NumberOfBytes: tea.Int32(1024)}, rt)
			return err
		}, ""},
		{"KeySpec AES_512", func() error {
			_, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: id, KeySpec: tea.String("AES_512")}, rt)
			return err
		}, "InvalidParameter"},
		{"Plaintext not base64", func() error {
			_, err := kc.EncryptWithContext(ctxb(), &kms.EncryptRequest{KeyId: id, Plaintext: tea.String("%%%")}, rt)
			return err
		}, "InvalidParameter"},
		{"Plaintext 6 KB", func() error {
			_, err := kc.EncryptWithContext(ctxb(), &kms.EncryptRequest{KeyId: id, Plaintext: tea.String(base64.StdEncoding.EncodeToString(make([]byte, 6144)))}, rt)
			return err
		}, ""},
		{"Plaintext over 6 KB", func() error {
			_, err := kc.EncryptWithContext(ctxb(), &kms.EncryptRequest{KeyId: id, Plaintext: tea.String(base64.StdEncoding.EncodeToString(make([]byte, 6145)))}, rt)
			return err
		}, "InvalidParameter"},
		{"empty EncryptionContext accepted", func() error {
			_, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: id, EncryptionContext: map[string]interface{}{}}, rt)
			return err
		}, ""},
		{"KeyId missing", func() error {
			_, err := kc.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{}, rt)
			return err
		}, "MissingParameter"},
	}
	for _, tc := range tests {
		if err := tc.call(); errCode(err) != tc.code || (tc.code == "" && err != nil) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.code)
		}
	}
}
