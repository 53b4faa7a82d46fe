package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps failures instead of reporting them.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	panic(r)
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// run calls f with a recorder, stopping at a Fatal as testing does.
func run(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != any(r) {
				panic(p)
			}
		}()
		f(r)
	}()
	return r
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "story.txt")
	if err := os.WriteFile(path, []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	if r := run(t, func(tb testing.TB) { Check(tb, path, []byte("one\ntwo\nthree\n"), "go test -update") }); len(r.errors) != 0 {
		t.Errorf("same content: %v", r.errors)
	}

	r := run(t, func(tb testing.TB) { Check(tb, path, []byte("one\n2\nthree\n"), "go test ./x -update") })
	if len(r.errors) != 1 || r.fatal {
		t.Fatalf("changed content: %q, fatal %v; want one error", r.errors, r.fatal)
	}
	for _, want := range []string{path, "go test ./x -update", `"two\n",`, `"2\n",`} {
		if !strings.Contains(r.errors[0], want) {
			t.Errorf("report lacks %q:\n%s", want, r.errors[0])
		}
	}

	r = run(t, func(tb testing.TB) { Check(tb, filepath.Join(dir, "missing.txt"), []byte("x"), "go test ./y -update") })
	if !r.fatal || !strings.Contains(r.errors[0], "go test ./y -update creates it") {
		t.Errorf("missing file: %q, fatal %v; want a fatal naming the command", r.errors, r.fatal)
	}
}

func TestUpdate(t *testing.T) {
	old := *update
	*update = true
	defer func() { *update = old }()
	path := filepath.Join(t.TempDir(), "new", "dir", "out.json")
	if r := run(t, func(tb testing.TB) { Check(tb, path, []byte(`{"a":1}`), "") }); len(r.errors) != 0 {
		t.Fatalf("update: %v", r.errors)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != `{"a":1}` {
		t.Errorf("written %q, %v", b, err)
	}
}
