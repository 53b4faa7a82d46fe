package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// keyList joins key ARNs for a line of output.
func keyList(keys []arn.ARN) string {
	var s []string
	for _, k := range keys {
		s = append(s, k.String())
	}
	return strings.Join(s, ", ")
}

// sampleFile writes size bytes of a recognisable sample to dir.
func sampleFile(dir string, size int64) (string, error) {
	path := filepath.Join(dir, "backup.tar")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(f)
	line := []byte("2026-11-23T09:00:00Z order 42 paid 1000 CNY by account 1192853035118460\n")
	for written := int64(0); written < size; {
		n := int64(len(line))
		if size-written < n {
			n = size - written
		}
		if _, err := w.Write(line[:n]); err != nil {
			f.Close()
			return "", err
		}
		written += n
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}
