package realcloud

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the table uses HOME")
	}
	withCLI := t.TempDir()
	mustWrite(t, filepath.Join(withCLI, ".aliyun", "config.json"), `{"current":"default"}`)
	withFile := t.TempDir()
	mustWrite(t, filepath.Join(withFile, ".alibabacloud", "credentials"), "[default]\ntype = access_key\n")
	dirNotFile := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dirNotFile, ".alibabacloud", "credentials"), 0o755); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "creds.ini")
	mustWrite(t, elsewhere, "[default]\n")
	empty := t.TempDir()

	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // a fragment of the description; "" for none found
	}{
		{"nothing", map[string]string{"HOME": empty}, ""},
		{"no home", map[string]string{}, ""},
		{"env keys", map[string]string{"HOME": empty, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIexample", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "Sup3rSecretValue"}, "environment variables"},
		{"env key id without secret", map[string]string{"HOME": empty, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIexample"}, ""},
		{"env wins over files", map[string]string{"HOME": withFile, "ALIBABA_CLOUD_ACCESS_KEY_ID": "a", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "Sup3rSecretValue"}, "environment variables"},
		{"oidc", map[string]string{"HOME": empty, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/var/run/token", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1:oidc-provider/x", "ALIBABA_CLOUD_ROLE_ARN": "acs:ram::1:role/ci"}, "OIDC role acs:ram::1:role/ci"},
		{"oidc without role", map[string]string{"HOME": empty, "ALIBABA_CLOUD_OIDC_TOKEN": "t", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "p"}, ""},
		{"cli config", map[string]string{"HOME": withCLI}, "CLI configuration " + filepath.Join(withCLI, ".aliyun", "config.json")},
		{"cli config disabled", map[string]string{"HOME": withCLI, "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "TRUE"}, ""},
		{"cli config named", map[string]string{"HOME": empty, "ALIBABA_CLOUD_CONFIG_FILE": elsewhere}, "CLI configuration " + elsewhere},
		{"credentials file", map[string]string{"HOME": withFile}, "credentials file " + filepath.Join(withFile, ".alibabacloud", "credentials")},
		{"credentials file named", map[string]string{"HOME": empty, "ALIBABA_CLOUD_CREDENTIALS_FILE": elsewhere}, "credentials file " + elsewhere},
		{"named file missing", map[string]string{"HOME": withFile, "ALIBABA_CLOUD_CREDENTIALS_FILE": filepath.Join(empty, "nope")}, ""},
		{"a directory is not a file", map[string]string{"HOME": dirNotFile}, ""},
		{"ecs role named", map[string]string{"HOME": empty, "ALIBABA_CLOUD_ECS_METADATA": "EcsRole"}, "RAM role EcsRole of this ECS instance"},
		{"ecs role disabled", map[string]string{"HOME": empty, "ALIBABA_CLOUD_ECS_METADATA": "EcsRole", "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}, ""},
		{"credentials uri", map[string]string{"HOME": empty, "ALIBABA_CLOUD_CREDENTIALS_URI": "http://127.0.0.1:9/creds?token=Sup3rSecretValue"}, "credentials URI"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Detect(func(k string) string { return tc.env[k] })
			if ok != (tc.want != "") || !strings.Contains(got, tc.want) {
				t.Errorf("Detect = %q, %v; want %q", got, ok, tc.want)
			}
			for k, v := range tc.env {
				if (strings.Contains(k, "SECRET") || strings.Contains(k, "URI")) && strings.Contains(got, v) {
					t.Errorf("the description %q shows the secret", got)
				}
			}
		})
	}
}

// Without credentials, NewClient and Config fail at once with
// ErrNoCredentials, before anything could reach the network.
func TestNoCredentials(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	getenv := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	if _, _, err := NewClient(getenv, "cn-hangzhou"); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("NewClient: %v", err)
	}
	if _, _, err := Config(getenv, "cn-hangzhou"); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("Config: %v", err)
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
