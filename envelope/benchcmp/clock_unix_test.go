//go:build unix

package benchcmp

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used, all threads, or false
// where the platform does not say.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
