package fakecloud

import (
	"sync"
	"time"
)

// Clock tells the emulator what time it is. Emulator time drives STS
// expiry, policy propagation, quota release and key deletion; it never
// drives real waiting (injected latency is real time, see Fault).
type Clock interface {
	Now() time.Time
}

// realClock is wall-clock time in UTC.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now().UTC() }

// DefaultStart is the start of a ManualClock created with the zero time:
// a fixed instant, so test output is reproducible.
const DefaultStart = "2026-01-01T00:00:00Z"

// ManualClock is a clock that moves only when told to. Tests advance it
// past propagation, quota-release and expiry delays instead of sleeping.
// It is safe for concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock stopped at start, or at DefaultStart if
// start is the zero time.
func NewManualClock(start time.Time) *ManualClock {
	if start.IsZero() {
		start, _ = time.Parse(time.RFC3339, DefaultStart)
	}
	return &ManualClock{now: start.UTC()}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d. A negative d is ignored: emulator
// time never runs backwards.
func (c *ManualClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// ScaledClock is real time running faster (or slower) from a start
// instant: emulator time = start + Scale × real time elapsed. Examples use
// it to show minutes of propagation delay in seconds of wall time.
type ScaledClock struct {
	start time.Time // emulator time at creation
	real  time.Time // wall time at creation, with its monotonic reading
	scale float64
}

// NewScaledClock returns a clock that starts at start (DefaultStart if
// zero) and runs scale times faster than real time. A scale ≤ 0 means 1.
func NewScaledClock(start time.Time, scale float64) *ScaledClock {
	if start.IsZero() {
		start, _ = time.Parse(time.RFC3339, DefaultStart)
	}
	if scale <= 0 {
		scale = 1
	}
	return &ScaledClock{start: start.UTC(), real: time.Now(), scale: scale}
}

// Now returns the scaled time.
func (c *ScaledClock) Now() time.Time {
	elapsed := time.Since(c.real)
	return c.start.Add(time.Duration(float64(elapsed) * c.scale))
}
