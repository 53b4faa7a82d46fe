package cloudapi

import (
	"slices"
	"sync"
	"testing"
	"time"
)

func TestExponentialBounds(t *testing.T) {
	t.Parallel()
	r := NewRand(RandomSeed())
	tests := []struct {
		name   string
		jitter Jitter
		lo, hi func(nominal time.Duration) time.Duration // [lo, hi]
	}{
		{"full", FullJitter(r), func(time.Duration) time.Duration { return 0 }, func(d time.Duration) time.Duration { return d }},
		{"spread", SpreadJitter(r), func(d time.Duration) time.Duration { return d / 2 }, func(d time.Duration) time.Duration { return 3*d/2 - 1 }},
	}
	for _, tt := range tests {
		b := Exponential(100*time.Millisecond, time.Second, tt.jitter)
		for attempt := 1; attempt <= 10; attempt++ {
			nominal := min(100*time.Millisecond<<(attempt-1), time.Second)
			for range 50 {
				if d := b(attempt); d < tt.lo(nominal) || d > tt.hi(nominal) {
					t.Fatalf("%s, attempt %d: wait %v outside [%v, %v]", tt.name, attempt, d, tt.lo(nominal), tt.hi(nominal))
				}
			}
		}
	}
	for _, j := range []Jitter{FullJitter(r), SpreadJitter(r)} {
		if d := j(0); d != 0 {
			t.Errorf("jitter of 0 = %v, want 0", d)
		}
	}
}

// TestBackoffDeterministic: with a fixed seed the waits are the same on
// every run; another seed gives other waits.
func TestBackoffDeterministic(t *testing.T) {
	t.Parallel()
	waits := func(seed uint64) []time.Duration {
		full, spread := DefaultBackoff(NewRand(seed)), Exponential(time.Second, time.Minute, SpreadJitter(NewRand(seed)))
		var out []time.Duration
		for attempt := 1; attempt <= 8; attempt++ {
			out = append(out, full(attempt), spread(attempt))
		}
		return out
	}
	a, b := waits(42), waits(42)
	if !slices.Equal(a, b) {
		t.Errorf("seed 42 gave %v, then %v", a, b)
	}
	if c := waits(43); slices.Equal(a, c) {
		t.Errorf("seeds 42 and 43 gave the same waits %v", a)
	}
	// Pinned: a change of generator or of how draws are made shows here
	// (example output seeded through share.Options.Rand would change too).
	full, spread := DefaultBackoff(NewRand(42)), Exponential(time.Second, time.Minute, SpreadJitter(NewRand(42)))
	got := []time.Duration{full(1), full(2), full(3), spread(1), spread(2)}
	want := []time.Duration{45401634, 194535432, 287651577, 954016343, 2945354316}
	if !slices.Equal(got, want) {
		t.Errorf("seed 42: waits %d, want %d", got, want)
	}
}

// TestNewRandConcurrent: one source shared by goroutines is race-free and
// still yields the seeded multiset of draws.
func TestNewRandConcurrent(t *testing.T) {
	t.Parallel()
	seq := NewRand(7)
	var want []int64
	for range 400 {
		want = append(want, seq(1000))
	}
	r := NewRand(7)
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				v := r(1000)
				mu.Lock()
				got = append(got, v)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Error("concurrent draws differ from the seeded sequence")
	}
}
