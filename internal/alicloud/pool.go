package alicloud

import (
	"context"
	"sync"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// pool hands out SDK clients one caller at a time. The SDK clients are not
// safe for concurrent use: darabonba-openapi v2.1.16 sets Client.Headers to
// nil in every RPC call (GetRpcHeaders), a data race when goroutines share
// a client. Clients are cheap to build, so each concurrent call gets its own
// and returns it for reuse.
type pool[T any] struct {
	mu    sync.Mutex
	free  []*T
	build func() (*T, error)
}

func newPool[T any](build func() (*T, error)) *pool[T] {
	return &pool[T]{build: build}
}

func (p *pool[T]) get() (*T, error) {
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

func (p *pool[T]) put(c *T) {
	p.mu.Lock()
	p.free = append(p.free, c)
	p.mu.Unlock()
}

// do runs one API call under r (retries and backoff) with a client of its
// own: fn's error is classified as service/action reports it
// (cloudapi.Classify), and the client goes back to the pool after every
// attempt.
func (p *pool[T]) do(ctx context.Context, r cloudapi.Retry, service, action string, fn func(ctx context.Context, cl *T) error) error {
	return r.Do(ctx, func(ctx context.Context) error {
		cl, err := p.get()
		if err != nil {
			return cloudapi.Classify(service, action, err)
		}
		defer p.put(cl)
		return cloudapi.Classify(service, action, fn(ctx, cl))
	})
}
