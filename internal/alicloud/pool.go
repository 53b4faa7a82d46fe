package alicloud

import (
	"context"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/internal/sdkpool"
)

// pool hands out SDK clients one caller at a time (sdkpool: the SDK
// clients are not safe for concurrent use).
type pool[T any] struct{ *sdkpool.Pool[T] }

func newPool[T any](build func() (*T, error)) *pool[T] {
	return &pool[T]{sdkpool.New(build)}
}

func (p *pool[T]) get() (*T, error) { return p.Get() }

func (p *pool[T]) put(c *T) { p.Put(c) }

// do runs one API call under r (retries and backoff) with a client of its
// own: fn's error is classified as service/action reports it
// (cloudapi.Classify), and the client goes back to the pool after every
// attempt.
func (p *pool[T]) do(ctx context.Context, r cloudapi.Retry, service, action string, fn func(ctx context.Context, cl *T) error) error {
	return r.Do(ctx, func(ctx context.Context) error {
		return cloudapi.Classify(service, action, p.Use(func(cl *T) error { return fn(ctx, cl) }))
	})
}
