package share

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestSeededWaits: Options.Rand seeds every random wait of a Client (the
// retry backoff, Verify's and the visibility polling, the settle delay), so
// two clients seeded alike wait alike, and another seed waits otherwise.
func TestSeededWaits(t *testing.T) {
	t.Parallel()
	waits := func(seed uint64, retry *Retry) []time.Duration {
		o := options([]func(*Options){func(o *Options) {
			o.Rand = rand.New(rand.NewPCG(seed, seed)).Int64N
			if retry != nil {
				o.Retry = *retry
			}
		}})
		c := &Client{opts: o}
		var out []time.Duration
		verify, visible := c.backoff(2*time.Second, time.Minute), c.visibilityBackoff()
		for attempt := 1; attempt <= 5; attempt++ {
			out = append(out, c.opts.Retry.Backoff(attempt), verify(attempt), visible(attempt))
		}
		return append(out, settleDelay(c.opts.SettleDelay, 0, c.jitter()))
	}
	a := waits(1, nil)
	if b := waits(1, nil); !slices.Equal(a, b) {
		t.Errorf("seed 1 waited %v, then %v", a, b)
	}
	if b := waits(2, nil); slices.Equal(a, b) {
		t.Errorf("seeds 1 and 2 both waited %v", a)
	}
	// A Retry that leaves Backoff nil still draws from Rand.
	if b := waits(1, &Retry{MaxAttempts: 3}); !slices.Equal(a, b) {
		t.Errorf("Retry without Backoff: waited %v, want %v", b, a)
	}
	if o := options(nil); o.Rand == nil || o.Retry.Backoff == nil {
		t.Error("options without Rand: no stock source or backoff")
	}
}
