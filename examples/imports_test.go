package examples

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoInternalImports: a user can copy an example program or an Example
// function into their own module, so neither imports kmsshare's internal
// packages (which Go refuses outside this module). The examples' own
// helpers (examples/internal/...) and their tests are not copied and may,
// and so may keyshare: it is the module's CLI, installed rather than
// copied.
func TestNoInternalImports(t *testing.T) {
	t.Parallel()
	const internal = "github.com/kmsshare/kmsshare/internal"
	check := func(file string, onlyExamples bool) {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if onlyExamples {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(src), "\nfunc Example") {
				return
			}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == internal || strings.HasPrefix(p, internal+"/") {
				t.Errorf("%s imports %s", file, p)
			}
		}
	}
	// Example programs: every non-test file of examples/<name>/.
	programs, err := filepath.Glob("*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range programs {
		if dir := filepath.Dir(file); dir == "internal" || dir == "testdata" || dir == "keyshare" || strings.HasSuffix(file, "_test.go") {
			continue
		}
		n++
		check(file, false)
	}
	// Example functions: test files of the root packages that hold them.
	tests, err := filepath.Glob("../*/*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range tests {
		if !strings.HasPrefix(file, filepath.Join("..", "examples")) {
			check(file, true)
		}
	}
	if n == 0 {
		t.Fatal("no example programs found")
	}
}
