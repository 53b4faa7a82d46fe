package cloudapi

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff returns how long to wait before retry number attempt (1 for the
// first retry).
type Backoff func(attempt int) time.Duration

// CheckRetry decides whether a failed call is worth repeating.
type CheckRetry func(err error) bool

// Retry is a retry policy. The zero value is not useful; start from
// DefaultRetry and override fields.
type Retry struct {
	MaxAttempts int        // total attempts, including the first
	Backoff     Backoff    // wait before each retry
	Check       CheckRetry // which errors to retry
	// Sleep waits for d or until ctx is done. Tests replace it to run
	// without real waiting; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultRetry retries throttling, 5xx and transport failures up to 8
// attempts with full-jitter exponential backoff from 100 ms, capped at 5 s.
func DefaultRetry() Retry {
	return Retry{
		MaxAttempts: 8,
		Backoff:     ExponentialJitter(100*time.Millisecond, 5*time.Second),
		Check:       IsRetryable,
	}
}

// ExponentialJitter is "full jitter" backoff: a uniformly random wait between
// 0 and min(max, base·2^(attempt-1)). Random waits keep concurrent writers
// from retrying in lock step.
func ExponentialJitter(base, max time.Duration) Backoff {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		if d > max {
			d = max
		}
		return time.Duration(rand.Int64N(int64(d) + 1))
	}
}

// Do calls fn until it succeeds, fails with an error Check does not accept,
// runs out of attempts, or ctx is done. It returns fn's last error.
func (r Retry) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	attempts := r.MaxAttempts
	if attempts < 1 {
		attempts = 1
	}
	var err error
	for attempt := 1; ; attempt++ {
		if err = fn(ctx); err == nil {
			return nil
		}
		if attempt >= attempts || r.Check == nil || !r.Check(err) {
			return err
		}
		var wait time.Duration
		if r.Backoff != nil {
			wait = r.Backoff(attempt)
		}
		if serr := r.sleep(ctx, wait); serr != nil {
			return err
		}
	}
}

func (r Retry) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Sleep waits for d of real time, or until ctx is done, and returns
// ctx.Err() in that case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
