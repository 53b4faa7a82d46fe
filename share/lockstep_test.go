package share_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/fakecloud"
)

// lockstep runs a fixed set of actors (a pipeline, a console user) on the
// emulator's manual clock as a discrete-event simulation: an actor's Sleep
// blocks until every actor is asleep or finished, then the clock jumps to
// the earliest wake-up and the actors due then run. Emulated time therefore
// never passes while an actor is between two of its calls, and whatever an
// actor did at one instant is there for every actor that wakes later. A
// writer that reads and writes without sleeping in between takes no
// emulated time, and one that sleeps d in between takes exactly d, whatever
// the machine's load: timing races become orderings in emulated time.
//
// It assumes that while an actor sleeps, none of its other goroutines run
// (share runs one recipient per goroutine, and these tests give each
// pipeline one recipient); an actor found sleeping twice at once fails the
// test.
type lockstep struct {
	t       testing.TB
	clock   *fakecloud.ManualClock
	mu      sync.Mutex
	running int // actors neither asleep nor finished
	asleep  []*sleeper
}

type sleeper struct {
	a     *actor
	at    time.Time
	wake  chan struct{}
	woken bool
}

// actor is one participant's clock; pass it as share.Options.Clock.
type actor struct {
	s        *lockstep
	name     string
	sleeping bool
	finished bool
}

// newLockstep returns a lockstep on clock for the named actors, all
// running. Every actor must call Done when it is finished, or the others
// never wake again.
func newLockstep(t testing.TB, clock *fakecloud.ManualClock, names ...string) (*lockstep, []*actor) {
	s := &lockstep{t: t, clock: clock, running: len(names)}
	actors := make([]*actor, len(names))
	for i, n := range names {
		actors[i] = &actor{s: s, name: n}
	}
	return s, actors
}

// Now is the emulator's time.
func (a *actor) Now() time.Time { return a.s.clock.Now() }

// Sleep returns once d of emulated time has passed, which happens only
// after every other actor has slept or finished up to then.
func (a *actor) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	s := a.s
	s.mu.Lock()
	if a.sleeping || a.finished {
		s.mu.Unlock()
		s.t.Errorf("lockstep: %s sleeps while asleep or finished: it runs goroutines side by side, which lockstep cannot schedule", a.name)
		return nil
	}
	w := &sleeper{a: a, at: s.clock.Now().Add(d), wake: make(chan struct{})}
	a.sleeping = true
	s.asleep = append(s.asleep, w)
	s.running--
	s.step()
	s.mu.Unlock()
	select {
	case <-w.wake:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		if !w.woken {
			s.asleep = slices.DeleteFunc(s.asleep, func(x *sleeper) bool { return x == w })
			a.sleeping = false
			s.running++
		}
		return ctx.Err()
	}
}

// Done says the actor is finished: the others no longer wait for it.
func (a *actor) Done() {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.finished {
		return
	}
	a.finished = true
	s.running--
	s.step()
}

// step moves the clock to the earliest wake-up and wakes the actors due
// then, once no actor is running. Called with mu held.
func (s *lockstep) step() {
	if s.running > 0 || len(s.asleep) == 0 {
		return
	}
	next := s.asleep[0].at
	for _, w := range s.asleep[1:] {
		if w.at.Before(next) {
			next = w.at
		}
	}
	s.clock.Advance(next.Sub(s.clock.Now()))
	s.asleep = slices.DeleteFunc(s.asleep, func(w *sleeper) bool {
		if w.at.After(next) {
			return false
		}
		w.woken, w.a.sleeping = true, false
		s.running++
		close(w.wake)
		return true
	})
}

// TestLockstep: actors wake in the order of emulated time however the
// goroutines are scheduled, and time does not pass while one of them works.
func TestLockstep(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clock := fakecloud.NewManualClock(start)
	_, actors := newLockstep(t, clock, "a", "b", "c")
	var mu sync.Mutex
	var got []string
	var at []time.Duration // emulated time of each wake-up, in the order they ran
	note := func(a *actor, what string) {
		mu.Lock()
		got = append(got, a.Now().Sub(start).String()+" "+a.name+" "+what)
		at = append(at, a.Now().Sub(start))
		mu.Unlock()
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i, a := range actors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer a.Done()
			for round := 1; round <= 3; round++ {
				if err := a.Sleep(ctx, time.Duration(i+1)*300*time.Millisecond); err != nil {
					t.Error(err)
				}
				before := a.Now()
				note(a, "wakes")
				for range 1000 { // work takes no emulated time
					_ = a.Now()
				}
				if a.Now() != before {
					t.Errorf("%s: emulated time passed while it worked", a.name)
				}
			}
		}()
	}
	wg.Wait()
	if !slices.IsSorted(at) {
		t.Errorf("wake-ups ran out of emulated-time order: %v", got)
	}
	want := []string{
		"300ms a wakes", "600ms a wakes", "600ms b wakes", "900ms a wakes", "900ms c wakes",
		"1.2s b wakes", "1.8s b wakes", "1.8s c wakes", "2.7s c wakes",
	}
	// Actors waking at one instant run in either order: compare each
	// instant's set.
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("wake-ups\n got %q\nwant %q", got, want)
	}
	if end := clock.Now().Sub(start); end != 2700*time.Millisecond {
		t.Errorf("the clock ends at +%v, want +2.7s", end)
	}
	// A sleep cancelled while it waits returns ctx's error, and its actor
	// counts as running again.
	s, xy := newLockstep(t, fakecloud.NewManualClock(start), "x", "y")
	x, y := xy[0], xy[1]
	cctx, cancel := context.WithCancel(ctx)
	slept := make(chan error)
	go func() { slept <- x.Sleep(cctx, time.Minute) }()
	if err := y.Sleep(ctx, time.Millisecond); err != nil { // returns only once x sleeps
		t.Fatal(err)
	}
	cancel()
	if err := <-slept; err == nil {
		t.Error("a cancelled sleep returned nil")
	}
	s.mu.Lock()
	running, asleep := s.running, len(s.asleep)
	s.mu.Unlock()
	if running != 2 || asleep != 0 {
		t.Errorf("after a cancelled sleep: %d running, %d asleep; want 2 and 0", running, asleep)
	}
	x.Done()
	y.Done()
}
