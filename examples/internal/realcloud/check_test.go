package realcloud

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"
)

// TestCheck: half-configured credentials are named, never passed over for
// another source; nothing at all is ErrNoCredentials.
func TestCheck(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	withFile := t.TempDir()
	mustWrite(t, filepath.Join(withFile, ".alibabacloud", "credentials"), "[default]\n")
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr error
		says    string
	}{
		{"nothing", map[string]string{"HOME": empty}, ErrNoCredentials, ""},
		{"complete", map[string]string{"HOME": empty, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "Sup3rSecretValue"}, nil, ""},
		{"id only", map[string]string{"HOME": empty, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI"}, ErrIncompleteCredentials,
			"ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"},
		{"id only, even with a credentials file", map[string]string{"HOME": withFile, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI"}, ErrIncompleteCredentials,
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"},
		{"secret only", map[string]string{"HOME": empty, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "Sup3rSecretValue"}, ErrIncompleteCredentials,
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but ALIBABA_CLOUD_ACCESS_KEY_ID is not"},
		{"token alone", map[string]string{"HOME": empty, "ALIBABA_CLOUD_SECURITY_TOKEN": "t"}, ErrIncompleteCredentials, "ALIBABA_CLOUD_SECURITY_TOKEN is set without"},
		{"oidc without role", map[string]string{"HOME": empty, "ALIBABA_CLOUD_OIDC_TOKEN": "t", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "p"}, ErrIncompleteCredentials,
			"an OIDC role is half configured: ALIBABA_CLOUD_ROLE_ARN not set"},
		{"named file missing", map[string]string{"HOME": withFile, "ALIBABA_CLOUD_CREDENTIALS_FILE": filepath.Join(empty, "nope")}, ErrIncompleteCredentials,
			"ALIBABA_CLOUD_CREDENTIALS_FILE names " + filepath.Join(empty, "nope") + ", which is not a readable file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Check(func(k string) string { return tc.env[k] })
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Check: %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.says) {
				t.Errorf("Check: %v, want it to say %q", err, tc.says)
			}
			if err != nil && strings.Contains(err.Error(), "Sup3rSecretValue") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestRegionProblem(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]string{
		"cn-hangzhou":    "",
		"us-east-1":      "",
		"ap-southeast-1": "",
		"cn-hangzou":     "did you mean cn-hangzhou?",
		"cn-shanghia":    "did you mean cn-shanghai?",
		"Cn-Beijing":     "region IDs are lower case: cn-beijing",
		"mars-north-1":   "not an Alibaba Cloud region (known regions: ",
	} {
		got := RegionProblem(id)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("RegionProblem(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestWithEndpoint(t *testing.T) {
	t.Parallel()
	for ep, ok := range map[string]bool{
		"http://127.0.0.1:8080": true, "https://kms.example.internal": true, "https://h/": true,
		"127.0.0.1:8080": false, "ftp://h": false, "http://h/path": false, "http://u:p@h": false, "http://h?x=1": false,
	} {
		cfg := &openapi.Config{}
		err := WithEndpoint(cfg, ep)
		if (err == nil) != ok {
			t.Errorf("WithEndpoint(%q): %v", ep, err)
		}
		if ok && (tea.StringValue(cfg.Endpoint) == "" || cfg.HttpClient == nil) {
			t.Errorf("WithEndpoint(%q) left %+v", ep, cfg)
		}
	}
}
