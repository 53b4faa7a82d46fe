package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// errLocked means that another command holds the state file's lock.
var errLocked = errors.New("locked")

// stateLock is the held lock of a simulation state file.
type stateLock struct {
	f       *os.File
	release func() error
}

// Unlock releases the lock.
func (l *stateLock) Unlock() error { return l.release() }

// lockState takes the lock of the state file at path (the file
// path+".lock", which stays behind), waiting up to wait for another command
// to release it. Polling, rather than a blocking lock, lets the wait end at
// a deadline and with ctx.
func lockState(ctx context.Context, path string, wait time.Duration) (*stateLock, error) {
	name := path + ".lock"
	deadline := time.Now().Add(wait)
	for {
		l, err := tryLock(name)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%w: cannot lock the simulation state %s: %v", errUsage, path, err)
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("%w: the simulation state %s is in use by another keyshare command (lock %s held for more than -lock-wait %s); "+
				"run commands on one state one at a time, or give each pipeline its own -state", errUsage, path, name, wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(50*time.Millisecond, time.Until(deadline))):
		}
	}
}
