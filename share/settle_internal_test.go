package share

import (
	"testing"
	"time"
)

// TestSettleDelay: the settle wait is at least Options.SettleDelay and at
// least 4 times the longest read-modify-write round trip, as documented.
func TestSettleDelay(t *testing.T) {
	t.Parallel()
	least := func(d time.Duration) time.Duration { return d / 2 } // jitter's smallest draw
	most := func(d time.Duration) time.Duration { return 3*d/2 - 1 }
	tests := []struct {
		base, roundTrip, min, max time.Duration
	}{
		{200 * time.Millisecond, 10 * time.Millisecond, 250 * time.Millisecond, 350 * time.Millisecond},
		{200 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond, 700 * time.Millisecond},
		{time.Millisecond, time.Second, 5 * time.Second, 7 * time.Second},
	}
	for _, tt := range tests {
		lo, hi := settleDelay(tt.base, tt.roundTrip, least), settleDelay(tt.base, tt.roundTrip, most)
		if lo < tt.min || hi >= tt.max || lo < 4*tt.roundTrip || lo < tt.base {
			t.Errorf("settleDelay(%v, %v) in [%v, %v], want [%v, %v)", tt.base, tt.roundTrip, lo, hi, tt.min, tt.max)
		}
	}
}
