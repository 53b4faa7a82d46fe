package realcloud

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"
)

// ErrIncompleteCredentials means that a source of credentials is half
// configured: a pipeline that set ALIBABA_CLOUD_ACCESS_KEY_ID but misnamed
// the secret, an OIDC role without its token. It is never passed over for
// another source, nor for a simulation.
var ErrIncompleteCredentials = errors.New("incomplete Alibaba Cloud credentials")

// CredentialsError names what is missing from half-configured credentials.
// It matches ErrIncompleteCredentials. It never holds a secret's value.
type CredentialsError struct {
	Problems []string
}

func (e *CredentialsError) Error() string {
	return ErrIncompleteCredentials.Error() + ": " + strings.Join(e.Problems, "; ")
}

// Is matches ErrIncompleteCredentials.
func (e *CredentialsError) Is(target error) bool { return target == ErrIncompleteCredentials }

// Incomplete lists the half-configured sources of the default chain: the
// things a user evidently meant to set but did not finish. It reads only
// getenv and the file system.
func Incomplete(getenv func(string) string) []string {
	set := func(k string) bool { return getenv(k) != "" }
	var out []string
	both := func(a, b string) {
		switch {
		case set(a) && !set(b):
			out = append(out, a+" is set but "+b+" is not (check the variable's name in the pipeline's configuration)")
		case set(b) && !set(a):
			out = append(out, b+" is set but "+a+" is not (check the variable's name in the pipeline's configuration)")
		}
	}
	both("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	if set("ALIBABA_CLOUD_SECURITY_TOKEN") && !(set("ALIBABA_CLOUD_ACCESS_KEY_ID") && set("ALIBABA_CLOUD_ACCESS_KEY_SECRET")) {
		out = append(out, "ALIBABA_CLOUD_SECURITY_TOKEN is set without ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	}
	token := set("ALIBABA_CLOUD_OIDC_TOKEN") || set("ALIBABA_CLOUD_OIDC_TOKEN_FILE")
	if token || set("ALIBABA_CLOUD_OIDC_PROVIDER_ARN") {
		var missing []string
		if !token {
			missing = append(missing, "ALIBABA_CLOUD_OIDC_TOKEN_FILE (or ALIBABA_CLOUD_OIDC_TOKEN)")
		}
		for _, k := range []string{"ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_ROLE_ARN"} {
			if !set(k) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			out = append(out, "an OIDC role is half configured: "+strings.Join(missing, " and ")+" not set")
		}
	}
	for _, k := range []string{"ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_CONFIG_FILE"} {
		if p := getenv(k); p != "" {
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				out = append(out, k+" names "+p+", which is not a readable file")
			}
		}
	}
	return out
}

// Check returns where the default chain's credentials come from, or why
// there are none to use: a *CredentialsError if a source is half
// configured (even when another source is complete: the user meant the
// half one), else ErrNoCredentials if nothing is configured.
func Check(getenv func(string) string) (string, error) {
	if p := Incomplete(getenv); len(p) > 0 {
		return "", &CredentialsError{Problems: p}
	}
	source, ok := Detect(getenv)
	if !ok {
		return "", ErrNoCredentials
	}
	return source, nil
}

// Load asks the configuration's credential provider for credentials once,
// so that unusable ones (a malformed credentials file, an ECS metadata
// service that does not answer) fail before anything else. It returns the
// provider's name (credentials-go's ProviderName) and the access key ID,
// never the secret.
func Load(cfg *openapi.Config) (provider, accessKeyID string, err error) {
	if cfg.Credential == nil {
		return "static", tea.StringValue(cfg.AccessKeyId), nil
	}
	m, err := cfg.Credential.GetCredential()
	if err != nil {
		return "", "", fmt.Errorf("%w: the default chain found credentials but cannot load them: %v", ErrIncompleteCredentials, err)
	}
	if tea.StringValue(m.AccessKeyId) == "" || tea.StringValue(m.AccessKeySecret) == "" {
		return "", "", &CredentialsError{Problems: []string{"the default chain returned credentials without an access key ID or secret"}}
	}
	return tea.StringValue(m.ProviderName), tea.StringValue(m.AccessKeyId), nil
}

// EndpointVariable names the environment variable that sends every API
// call (KMS, RAM, STS, Resource Directory) to one endpoint instead of
// Alibaba Cloud's public ones. It is for tests (an emulator such as
// fakecloud's Serve on 127.0.0.1) and private gateways that route all four
// services; never needed on Alibaba Cloud itself.
const EndpointVariable = "KEYSHARE_ENDPOINT"

// WithEndpoint points cfg at endpoint, an http:// or https:// URL with a
// host and an optional port and nothing else.
func WithEndpoint(cfg *openapi.Config, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%s %q: want http://host[:port] or https://host[:port]", EndpointVariable, endpoint)
	}
	cfg.Endpoint = tea.String(u.Host)
	cfg.Protocol = tea.String(u.Scheme)
	// A client of our own: the SDK's pooled clients write
	// http.Client.Timeout on every request while others read it.
	cfg.HttpClient = httpClient{c: &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}, Timeout: time.Minute}}
	return nil
}

type httpClient struct{ c *http.Client }

func (h httpClient) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	return h.c.Do(req)
}
