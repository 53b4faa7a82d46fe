//go:build race

package stream

// raceEnabled: under the race detector sync.Pool drops a share of what is
// put in it on purpose, so allocation counts mean nothing.
const raceEnabled = true
