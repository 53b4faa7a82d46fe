package fakecloud

import (
	"net/http"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

// TestAuthentication is the negative-signature test: requests signed with
// a wrong secret, an unknown key, an expired or mismatched STS token are
// rejected with the auth layer's codes, through the real SDK over both
// transports. The legacy HMAC-SHA1 signature is accepted when right.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, Options{})
			cfg := configFor(t, w.c, tr)
			session := assumeRole(t, cfg, w.pipeline.Credentials(), arn.ResourceDirectoryAccessRole(w.app1.ID).String(), "s1")
			other := assumeRole(t, cfg, w.pipeline.Credentials(), arn.ResourceDirectoryAccessRole(w.app2.ID).String(), "s2")
			short := func() Credentials {
				sc := must(sts.NewClient(cfg(w.pipeline.Credentials())))
				out, err := sc.AssumeRoleWithContext(ctxb(), &sts.AssumeRoleRequest{RoleArn: tea.String(arn.ResourceDirectoryAccessRole(w.app1.ID).String()),
					RoleSessionName: tea.String("short"), DurationSeconds: tea.Int64(900)}, rt)
				if err != nil {
					t.Fatal(err)
				}
				c := out.Body.Credentials
				return NewCredentials(*c.AccessKeyId, *c.AccessKeySecret, *c.SecurityToken)
			}()
			w.clock.Advance(15 * time.Minute) // "short" expires now; the others last an hour

			v2 := func(c *openapi.Config) *openapi.Config { c.SignatureAlgorithm = tea.String("v2"); return c }
			tests := []struct {
				name   string
				config *openapi.Config
				code   string
				status int
			}{
				{"valid user key", cfg(w.pipeline.Credentials()), "", 200},
				{"valid STS credentials", cfg(session), "", 200},
				{"wrong secret", cfg(w.pipeline.Credentials().WithSecret("not-the-secret")), "SignatureDoesNotMatch", 400},
				{"unknown access key", cfg(NewCredentials("LTAI0000000000000000nope", "x", "")), "InvalidAccessKeyId.NotFound", 404},
				{"expired STS token", cfg(short), "InvalidSecurityToken.Expired", 400},
				{"token of another session", cfg(session.WithSecurityToken(other.SecurityToken())), "InvalidSecurityToken.MismatchWithAccessKey", 400},
				{"STS key without token", cfg(session.WithSecurityToken("")), "MissingSecurityToken", 400},
				{"STS key with wrong secret", cfg(session.WithSecret("x")), "SignatureDoesNotMatch", 400},
				{"legacy signature", v2(cfg(w.pipeline.Credentials())), "", 200},
				{"legacy signature with STS", v2(cfg(session)), "", 200},
				{"legacy signature, wrong secret", v2(cfg(w.pipeline.Credentials().WithSecret("x"))), "SignatureDoesNotMatch", 400},
				{"legacy signature, expired token", v2(cfg(short)), "InvalidSecurityToken.Expired", 400},
			}
			for _, tc := range tests {
				sc := must(sts.NewClient(tc.config))
				_, err := sc.GetCallerIdentity()
				if errCode(err) != tc.code || (tc.code == "" && err != nil) || (err != nil && errStatus(err) != tc.status) {
					t.Errorf("%s: got %v, want %q (HTTP %d)", tc.name, err, tc.code, tc.status)
				}
			}
			// Failed authentications are logged without a caller.
			failed := w.c.Log().Entries(Match{Code: "SignatureDoesNotMatch"})
			if len(failed) != 3 {
				t.Errorf("logged %d SignatureDoesNotMatch, want 3", len(failed))
			}
			for _, e := range failed {
				if e.CallerAccount != "" || e.Caller != "" {
					t.Errorf("a failed authentication is logged with caller %q of %q", e.Caller, e.CallerAccount)
				}
			}
		})
	}
}

// TestUnknownAction calls an action the emulator does not have, and a
// known action under the wrong version, with a correctly signed request.
func TestUnknownAction(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	for _, tr := range transports {
		cfg := configFor(t, w.c, tr)
		client := must(openapi.NewClient(cfg(w.pipeline.Credentials())))
		for _, p := range []struct{ action, version string }{{"NoSuchAction", "2016-01-20"}, {"DescribeKey", "2015-04-01"}, {"GetRole", "2099-01-01"}} {
			params := &openapiutil.Params{Action: tea.String(p.action), Version: tea.String(p.version), Protocol: tea.String("HTTPS"),
				Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String("AK"), Style: tea.String("RPC"),
				ReqBodyType: tea.String("formData"), BodyType: tea.String("json")}
			_, err := client.CallApiWithCtx(ctxb(), params, &openapiutil.OpenApiRequest{}, &dara.RuntimeOptions{})
			if errCode(err) != "InvalidAction.NotFound" || errStatus(err) != http.StatusNotFound {
				t.Errorf("%s %s/%s: got %v, want 404 InvalidAction.NotFound", tr, p.action, p.version, err)
			}
		}
	}
}

// TestTamperedInTransit changes a signed request between the SDK and the
// emulator: the signature no longer matches.
func TestTamperedInTransit(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	cfg := w.c.Config(w.secAdmin.Credentials(), region)
	cfg.HttpClient = tamper{next: w.c.HTTPClient(region), edit: func(r *http.Request) {
		q := r.URL.Query()
		q.Set("KeyId", w.key.ARN) // same key, different spelling: still a different request
		r.URL.RawQuery = q.Encode()
	}}
	kc := must(kms.NewClient(cfg))
	_, err := kc.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{KeyId: tea.String(w.key.ID)}, rt)
	wantCode(t, err, "SignatureDoesNotMatch")

	// The legacy signature covers the query only: the operation is the
	// signed Action, and an x-acs-action header swapped on the way (here
	// turning a DescribeKey into a DisableKey) is refused, not obeyed.
	edits := map[string]func(r *http.Request){
		// dara keeps header keys in lower case, outside http.Header's
		// canonical form: replace that key itself.
		"replaced": func(r *http.Request) { r.Header["x-acs-action"] = []string{"DisableKey"} },
		// Set adds a canonical second copy beside dara's own: the request
		// carries both, in an order that varies.
		"second copy": func(r *http.Request) { r.Header.Set("x-acs-action", "DisableKey") },
	}
	for _, tr := range transports {
		for name, edit := range edits {
			cfg := configFor(t, w.c, tr)(w.secAdmin.Credentials())
			cfg.SignatureAlgorithm = tea.String("v2")
			cfg.HttpClient = tamper{next: cfg.HttpClient, edit: edit}
			kc := must(kms.NewClient(cfg))
			_, err := kc.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{KeyId: tea.String(w.key.ID)}, rt)
			if errCode(err) != "SignatureDoesNotMatch" {
				t.Errorf("%s, header %s: got %v, want SignatureDoesNotMatch", tr, name, err)
			}
			if got := w.key.State(); got != "Enabled" {
				t.Errorf("%s, header %s: key is %s after a tampered legacy request", tr, name, got)
			}
		}
	}
}

type tamper struct {
	next dara.HttpClient
	edit func(*http.Request)
}

func (t tamper) Call(r *http.Request, tr *http.Transport) (*http.Response, error) {
	t.edit(r)
	return t.next.Call(r, tr)
}
