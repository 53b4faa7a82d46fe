//go:build !unix

package main

import (
	"errors"
	"io/fs"
	"os"
)

// tryLock creates name exclusively without waiting, and removes it on
// release. Unlike flock on Unix, a crashed command leaves the file behind;
// the error message names it, so that it can be deleted.
func tryLock(name string) (*stateLock, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, errLocked
	}
	if err != nil {
		return nil, err
	}
	l := &stateLock{f: f}
	l.release = func() error {
		err := f.Close()
		if rerr := os.Remove(name); err == nil {
			err = rerr
		}
		return err
	}
	return l, nil
}
