// Package alicloud adapts the official Alibaba Cloud SDK clients (KMS, RAM,
// STS) to the small set of calls kmsshare makes. Every call uses the SDK's
// XxxWithContext method, is retried on throttling and 5xx by a
// cloudapi.Retry, and fails with a classified *cloudapi.Error. Values come
// back as plain Go types, never SDK pointers.
//
// A Factory builds clients for any credentials from one template, so the
// share orchestrator can hop into member accounts with STS credentials and
// talk to the same endpoints (or the same in-process emulator) as the caller.
package alicloud

import (
	"errors"
	"fmt"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/internal/sdkpool"
)

// Credentials are an access key pair, optionally temporary (STS). The
// secret and token are unexported, and String never prints them.
type Credentials struct {
	AccessKeyID string
	secret      string
	token       string
	Expiration  time.Time // zero for long-term keys
}

// NewCredentials returns credentials; token is "" for a long-term key.
func NewCredentials(accessKeyID, secret, token string, expiration time.Time) Credentials {
	return Credentials{AccessKeyID: accessKeyID, secret: secret, token: token, Expiration: expiration}
}

// String identifies the credentials without revealing the secret or token.
func (c Credentials) String() string {
	if c.token != "" {
		return fmt.Sprintf("STS credentials %s (expire %s)", c.AccessKeyID, c.Expiration.UTC().Format(time.RFC3339))
	}
	return "access key " + c.AccessKeyID
}

// GoString is String, so %#v does not print the secret either.
func (c Credentials) GoString() string { return c.String() }

// Factory builds SDK clients for given credentials from per-service
// templates: everything but the credentials (endpoint, protocol, region,
// timeouts, proxies, CA, in-process HTTP client) is copied.
type Factory struct {
	kms, ram, sts *openapi.Config
	retry         cloudapi.Retry
}

// FactoryFromConfig uses one configuration for all three services: the
// emulator's, or a real-cloud configuration without an Endpoint (each SDK
// then picks its own endpoint from RegionId).
// Without an HTTP client of its own, cfg gets sdkpool's (the SDK's shared
// one races under concurrent calls), shared by every client built from it.
func FactoryFromConfig(cfg *openapi.Config, retry cloudapi.Retry) Factory {
	cfg = sdkpool.WithHTTP(cfg)
	return Factory{kms: cfg, ram: cfg, sts: cfg, retry: retry}
}

// FactoryFromClients derives the templates from existing SDK clients, so
// that hopped clients reach the same endpoints as the given ones.
// The given clients stay as they are; the clients built from the templates
// get sdkpool's HTTP client where the given ones had none.
func FactoryFromClients(k *kms.Client, r *ram.Client, s *sts.Client, retry cloudapi.Retry) Factory {
	return Factory{kms: sdkpool.WithHTTP(configOf(&k.Client)), ram: sdkpool.WithHTTP(configOf(&r.Client)),
		sts: sdkpool.WithHTTP(configOf(&s.Client)), retry: retry}
}

func configOf(c *openapi.Client) *openapi.Config { return sdkpool.ConfigOf(c) }

// Region returns the region the KMS template is configured for.
func (f Factory) Region() string { return tea.StringValue(f.kms.RegionId) }

// Clients bundles the three adapters for one identity.
type Clients struct {
	KMS *KMS
	RAM *RAM
	STS *STS
}

// Base returns clients with the templates' own credentials.
func (f Factory) Base() (*Clients, error) {
	return f.build(nil)
}

// With returns clients that authenticate with creds.
func (f Factory) With(creds Credentials) (*Clients, error) {
	return f.build(&creds)
}

func (f Factory) build(creds *Credentials) (*Clients, error) {
	cfg := func(tmpl *openapi.Config) *openapi.Config {
		c := *tmpl
		if creds != nil {
			c.Credential = nil
			c.AccessKeyId = tea.String(creds.AccessKeyID)
			c.AccessKeySecret = tea.String(creds.secret)
			c.SecurityToken = nil
			if creds.token != "" {
				c.SecurityToken = tea.String(creds.token)
			}
		}
		return &c
	}
	// NewClient writes to the configuration it is given (Config.Type), so
	// every client gets its own copy.
	out := &Clients{
		KMS: &KMS{pool: newPool(func() (*kms.Client, error) { return kms.NewClient(cfg(f.kms)) }), retry: f.retry},
		RAM: &RAM{pool: newPool(func() (*ram.Client, error) { return ram.NewClient(cfg(f.ram)) }), retry: f.retry},
		STS: &STS{pool: newPool(func() (*sts.Client, error) { return sts.NewClient(cfg(f.sts)) }), retry: f.retry},
	}
	// Build one client of each now, so a bad configuration fails here.
	if err := warm(out.KMS.pool, "kms"); err != nil {
		return nil, err
	}
	if err := warm(out.RAM.pool, "ram"); err != nil {
		return nil, err
	}
	if err := warm(out.STS.pool, "sts"); err != nil {
		return nil, err
	}
	return out, nil
}

// warm builds one client of p and returns it to the pool, so a bad
// configuration fails when the clients are made, not at the first call.
func warm[T any](p *pool[T], service string) error {
	c, err := p.get()
	if err != nil {
		return fmt.Errorf("%s client: %w", service, err)
	}
	p.put(c)
	return nil
}

// DefaultChainConfig returns a configuration whose credentials come from
// credentials-go's default chain (environment variables, the credentials
// file, an ECS instance RAM role, ...), for real-cloud use.
func DefaultChainConfig(region string) (*openapi.Config, error) {
	cred, err := credentials.NewCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("no Alibaba Cloud credentials found by the default chain: %w", err)
	}
	if region == "" {
		return nil, errors.New("a region is needed for real-cloud use (e.g. cn-hangzhou)")
	}
	return &openapi.Config{Credential: cred, RegionId: tea.String(region)}, nil
}
