package cloudapi

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"sync"
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
// attempts with DefaultBackoff, its jitter drawn from a source seeded from
// crypto/rand.
func DefaultRetry() Retry {
	return Retry{
		MaxAttempts: 8,
		Backoff:     DefaultBackoff(NewRand(RandomSeed())),
		Check:       IsRetryable,
	}
}

// DefaultBackoff is the stock wait between API call attempts: full-jitter
// exponential backoff from 100 ms, capped at 5 s, drawing from r.
func DefaultBackoff(r Rand) Backoff {
	return Exponential(100*time.Millisecond, 5*time.Second, FullJitter(r))
}

// Exponential is the one backoff of this module: jitter(min(base·2^(attempt-1),
// ceiling)) before retry number attempt. Random waits keep concurrent
// writers from retrying in lock step; jitter decides how random.
func Exponential(base, ceiling time.Duration, jitter Jitter) Backoff {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < ceiling; i++ {
			d *= 2
		}
		return jitter(min(d, ceiling))
	}
}

// Jitter turns a nominal wait into the one to take.
type Jitter func(d time.Duration) time.Duration

// FullJitter draws a wait uniformly from [0, d] ("full jitter").
func FullJitter(r Rand) Jitter {
	return func(d time.Duration) time.Duration {
		if d <= 0 {
			return 0
		}
		return time.Duration(r(int64(d) + 1))
	}
}

// SpreadJitter draws a wait uniformly from [d/2, 3d/2): random, but never
// less than half the nominal wait, for polling that must not hurry.
func SpreadJitter(r Rand) Jitter {
	return func(d time.Duration) time.Duration {
		if d <= 0 {
			return 0
		}
		return d/2 + time.Duration(r(int64(d)))
	}
}

// Rand returns a uniformly random int64 in [0, n), n > 0. Every random
// choice of a backoff comes from one, so that a caller who seeds it gets
// the same waits on every run. It must be safe for concurrent use (Locked
// makes it so).
type Rand func(n int64) int64

// NewRand returns a Rand that draws from a PCG generator seeded with seed:
// the same seed gives the same sequence. It is safe for concurrent use.
func NewRand(seed uint64) Rand {
	return Locked(rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Int64N)
}

// Locked returns a Rand that calls r under a lock, for sources such as
// (*rand.Rand).Int64N that are not safe for concurrent use.
func Locked(r Rand) Rand {
	var mu sync.Mutex
	return func(n int64) int64 {
		mu.Lock()
		defer mu.Unlock()
		return r(n)
	}
}

// RandomSeed returns a seed from crypto/rand, for the stock sources of
// callers who do not seed their own.
func RandomSeed() uint64 {
	var b [8]byte
	crand.Read(b[:]) // never fails since Go 1.24
	return binary.LittleEndian.Uint64(b[:])
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
