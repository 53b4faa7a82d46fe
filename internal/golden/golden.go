// Package golden compares what a test produced with a file under testdata,
// and rewrites that file when the test binary runs with -update:
//
//	go test ./ecsroles -run TestGolden -update
//
// Golden files hold policy documents and example output, never secrets:
// the tests that write them run on the emulator's seeded IDs.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files from this run's output")

// Read returns the golden file at path. Under -update it first writes got
// there, creating the directory. A missing file fails the test with accept,
// the command that creates it.
func Read(t testing.TB, path string, got []byte, accept string) []byte {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (%s creates it)", err, accept)
	}
	return want
}

// Check compares got with the golden file at path byte for byte. On a
// difference it fails the test with a line diff and accept, the command
// that takes the new output as the golden one.
func Check(t testing.TB, path string, got []byte, accept string) {
	t.Helper()
	want := Read(t, path, got, accept)
	Equal(t, path, string(want), string(got), accept)
}

// Equal fails the test with a line diff and accept unless got equals
// want, the content of the golden file at path (after whatever
// normalization the caller applied to both).
func Equal(t testing.TB, path, want, got, accept string) {
	t.Helper()
	if want != got {
		t.Errorf("%s differs (-want +got); %s accepts the new output:\n%s", path, accept, cmp.Diff(strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")))
	}
}
