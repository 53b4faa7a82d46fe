package fakecloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

// TestCredentialsRedacted: no formatting of Credentials shows the secret
// or the token.
func TestCredentialsRedacted(t *testing.T) {
	t.Parallel()
	c := NewCredentials("STS.id", "very-secret-value", "CAIS-token-value")
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("creds", "c", c)
	js, _ := json.Marshal(c)
	outputs := []string{
		c.String(), c.GoString(), logged.String(), string(js),
		fmt.Sprintf("%v %+v %#v %s %q %x %d", c, c, c, c, c, c, c),
		fmt.Sprintf("%v %+v %#v", struct{ C Credentials }{c}, &struct{ C Credentials }{c}, []Credentials{c}),
	}
	for _, out := range outputs {
		if strings.Contains(out, "very-secret") || strings.Contains(out, "CAIS-token") {
			t.Errorf("secret leaked: %s", out)
		}
		if !strings.Contains(out, "STS.id") {
			t.Errorf("key ID missing: %s", out)
		}
	}
}

// TestNoSecretsInLogOrErrors: the request log and error messages never
// carry secrets, tokens or plaintext.
func TestNoSecretsInLogOrErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	cfg := configFor(t, w.c, inProc)
	session := assumeRole(t, cfg, w.pipeline.Credentials(), arn.ResourceDirectoryAccessRole(w.app1.ID).String(), "leak")
	kc := newClients(t, cfg(w.secAdmin.Credentials())).kms
	g := must(kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ID)}, rt))
	_, err := newClients(t, cfg(w.pipeline.Credentials().WithSecret("wrong-secret-123"))).sts.GetCallerIdentity()
	wantCode(t, err, "SignatureDoesNotMatch")
	secrets := []string{w.pipeline.Credentials().Secret(), w.secAdmin.Credentials().Secret(), session.Secret(), session.SecurityToken(),
		"wrong-secret-123", tea.StringValue(g.Body.Plaintext)}
	var all strings.Builder
	for _, e := range w.c.Log().Entries(Match{}) {
		fmt.Fprintf(&all, "%+v\n", e)
	}
	all.WriteString(err.Error())
	for _, s := range secrets {
		if s != "" && strings.Contains(all.String(), s) {
			t.Errorf("secret %.4s… appears in the log or an error", s)
		}
	}
}
