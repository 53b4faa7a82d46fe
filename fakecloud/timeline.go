package fakecloud

import "time"

// timeline is a value with its recent history, so that authorization can
// use the state as of now − propagation delay while reads show the latest
// state. The first entry is the value the thing was created with; it is in
// effect from the start (there was nothing to propagate from).
type timeline[T any] struct {
	entries []timed[T]
}

type timed[T any] struct {
	at time.Time
	v  T
}

// newTimeline returns a timeline holding v from the start.
func newTimeline[T any](v T) timeline[T] {
	return timeline[T]{entries: []timed[T]{{v: v}}}
}

// latest returns the newest value.
func (tl *timeline[T]) latest() T {
	return tl.entries[len(tl.entries)-1].v
}

// at returns the value in effect at t: the newest entry written at or
// before t, or the first entry if every change is newer than t.
func (tl *timeline[T]) at(t time.Time) T {
	for i := len(tl.entries) - 1; i > 0; i-- {
		if !tl.entries[i].at.After(t) {
			return tl.entries[i].v
		}
	}
	return tl.entries[0].v
}

// set records v as written at now, and forgets history no reader can ask
// for any more: entries superseded before horizon (now − the longest delay
// readers use).
func (tl *timeline[T]) set(now time.Time, v T, horizon time.Time) {
	if last := tl.entries[len(tl.entries)-1].at; now.Before(last) {
		now = last // emulator time never runs backwards
	}
	tl.entries = append(tl.entries, timed[T]{at: now, v: v})
	// Keep the newest entry at or before horizon and everything after it.
	keep := 0
	for i := len(tl.entries) - 1; i > 0; i-- {
		if !tl.entries[i].at.After(horizon) {
			keep = i
			break
		}
	}
	if keep > 0 {
		n := copy(tl.entries, tl.entries[keep:])
		clear(tl.entries[n:])
		tl.entries = tl.entries[:n]
	}
}

// reset replaces the history with v in effect from the start. The Go
// set-up API uses it: set-up describes how the cloud already is.
func (tl *timeline[T]) reset(v T) {
	clear(tl.entries)
	tl.entries = append(tl.entries[:0], timed[T]{v: v})
}
