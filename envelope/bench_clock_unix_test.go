//go:build unix

package envelope

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used, user and system, all
// threads (the collector's included). On a machine shared with other busy
// processes, wall time mostly measures the scheduler; the CPU time an
// operation takes does not depend on how long it waited for a core.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
