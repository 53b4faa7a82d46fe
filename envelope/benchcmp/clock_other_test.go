//go:build !unix

package benchcmp

import "time"

// cpuTime is not available here: the table falls back to wall time.
func cpuTime() (time.Duration, bool) { return 0, false }
