//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive flock on name without waiting. The kernel
// releases it when the process ends, however it ends.
func tryLock(name string) (*stateLock, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	l := &stateLock{f: f}
	l.release = func() error {
		// Closing the file releases the flock.
		return f.Close()
	}
	return l, nil
}
