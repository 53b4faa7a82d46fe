// Package sdkpool hands out Alibaba SDK clients one caller at a time, and
// makes the KMS calls the adapters share (KMSCall, KMSContext, CheckKeyID): the
// lower piece under every adapter of the module (internal/alicloud for
// share, envelope.KMS).
//
// The SDK clients are not safe for concurrent use: darabonba-openapi
// v2.1.16 sets Client.Headers to nil in every RPC call (GetRpcHeaders), a
// data race when goroutines share a client. Clients are cheap to build, so
// each concurrent call gets its own and returns it for reuse.
package sdkpool

import (
	"sync"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
)

// Pool is a set of interchangeable clients of one service.
type Pool[T any] struct {
	mu    sync.Mutex
	free  []*T
	build func() (*T, error)
}

// New returns an empty pool that builds clients with build when none is
// free.
func New[T any](build func() (*T, error)) *Pool[T] {
	return &Pool[T]{build: build}
}

// Get returns a client no one else holds, building one if none is free.
func (p *Pool[T]) Get() (*T, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		c := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	return p.build()
}

// Put returns c to the pool.
func (p *Pool[T]) Put(c *T) {
	p.mu.Lock()
	p.free = append(p.free, c)
	p.mu.Unlock()
}

// Use runs fn with a client of its own. An error building a client is
// returned as is.
func (p *Pool[T]) Use(fn func(cl *T) error) error {
	cl, err := p.Get()
	if err != nil {
		return err
	}
	defer p.Put(cl)
	return fn(cl)
}

// KMS returns a pool that hands out client first and, to callers that come
// while it is in use, clients built from its configuration (ConfigOf).
//
// Without a Config.HttpClient, the SDK sends every request to one domain
// through one process-wide http.Client (tea v1.5.4 dara.getDaraClient)
// whose Timeout it rewrites on each request while other requests read it:
// a data race between concurrent calls however many SDK clients there are,
// this module's or the caller's own. Then the pool never uses client: it
// hands out only clients built from its configuration with an HTTP of
// their own (see HTTP), so calls overlap without touching the SDK's
// shared client.
func KMS(client *kms.Client) *Pool[kms.Client] {
	given := client.HttpClient != nil
	cfg := WithHTTP(ConfigOf(&client.Client))
	p := New(func() (*kms.Client, error) {
		c := *cfg // NewClient writes to the configuration it is given
		return kms.NewClient(&c)
	})
	if given {
		p.Put(client)
	}
	return p
}

// ConfigOf returns the configuration of an existing client: endpoint,
// region, protocol, timeouts, proxies, TLS material, HTTP client and
// credentials provider, so that clients built from it reach the same place
// as the same identity.
func ConfigOf(c *openapi.Client) *openapi.Config {
	return &openapi.Config{
		Endpoint: c.Endpoint, RegionId: c.RegionId, Protocol: c.Protocol, Method: c.Method,
		UserAgent: c.UserAgent, Suffix: c.Suffix, ReadTimeout: c.ReadTimeout, ConnectTimeout: c.ConnectTimeout,
		HttpProxy: c.HttpProxy, HttpsProxy: c.HttpsProxy, NoProxy: c.NoProxy, Network: c.Network,
		MaxIdleConns: c.MaxIdleConns, EndpointType: c.EndpointType, SignatureVersion: c.SignatureVersion,
		SignatureAlgorithm: c.SignatureAlgorithm, Key: c.Key, Cert: c.Cert, Ca: c.Ca,
		DisableHttp2: c.DisableHttp2, HttpClient: c.HttpClient, Credential: c.Credential,
	}
}
