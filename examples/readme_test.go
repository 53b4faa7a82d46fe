// Package examples holds only this test, which keeps the repository's
// README.md in step with the code it shows. The runnable examples are the
// directories below.
package examples

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite README.md's marked blocks from their sources")

const readme = "../README.md"

// marker introduces a fenced block that is a copy of something else:
//
//	<!-- from examples/landingzone/testdata/tour.txt -->   a file (from the repository root)
//	<!-- from share.ExampleClient_Verify -->                the body of a function in a package's Go files
var marker = regexp.MustCompile(`^<!-- from (\S+) -->$`)

// block is a marked fenced block of the README: lines[start:end] is its
// content, between the fences.
type block struct {
	source     string
	start, end int
}

func readREADME(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n")
}

// blocks finds the marked blocks; a marker must be followed at once by a
// fence.
func blocks(t *testing.T, lines []string) []block {
	t.Helper()
	var out []block
	for i, line := range lines {
		m := marker.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			t.Errorf("README.md:%d: %s is not followed by a fenced block", i+1, line)
			continue
		}
		end := i + 2
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		if end == len(lines) {
			t.Errorf("README.md:%d: unterminated block", i+2)
			continue
		}
		out = append(out, block{source: m[1], start: i + 2, end: end})
	}
	return out
}

// TestREADMEBlocks checks every marked block against its source: files are
// copied byte for byte (the tour is the landingzone example's output, the
// CLI usage is keyshare -h); Go blocks are the bodies of Example functions
// (or their helpers), dedented, so that every Go sample in the README
// compiles and its output is checked by go test. Every Go block must be
// marked. With -update the blocks are rewritten from their sources.
func TestREADMEBlocks(t *testing.T) {
	lines := readREADME(t)
	bs := blocks(t, lines)
	if len(bs) == 0 {
		t.Fatal("README.md has no marked blocks")
	}
	for i, line := range lines {
		if line == "```go" && (i == 0 || !marker.MatchString(lines[i-1])) {
			t.Errorf("README.md:%d: a Go block without a <!-- from pkg.Func --> marker", i+1)
		}
	}
	var out []string
	last := 0
	for _, b := range bs {
		want, err := source(b.source)
		if err != nil {
			t.Errorf("README.md:%d: %v", b.start-1, err)
			continue
		}
		got := strings.Join(lines[b.start:b.end], "\n")
		if got != want {
			if !*update {
				t.Errorf("README.md:%d: the block from %s is out of date (go test ./examples -update rewrites it):\n--- README\n%s\n--- %s\n%s",
					b.start-1, b.source, got, b.source, want)
			}
		}
		out = append(out, lines[last:b.start]...)
		out = append(out, strings.Split(want, "\n")...)
		last = b.end
	}
	if *update {
		out = append(out, lines[last:]...)
		if err := os.WriteFile(readme, []byte(strings.Join(out, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// source returns what a marked block must contain, without a final newline.
func source(name string) (string, error) {
	if pkg, fn, ok := strings.Cut(name, "."); ok && !strings.Contains(name, "/") && regexp.MustCompile(`^[A-Za-z_]\w*$`).MatchString(fn) {
		return funcBody(pkg, fn)
	}
	data, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(name)))
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(data), "\n"), nil
}

// funcBody returns the body of the named top-level function in the Go files
// of package pkg (a directory at the root or in internal/), dedented by one
// tab.
func funcBody(pkg, name string) (string, error) {
	dir := filepath.Join("..", pkg)
	if _, err := os.Stat(dir); err != nil {
		dir = filepath.Join("..", "internal", pkg)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("no Go files for package %s", pkg)
	}
	fset := token.NewFileSet()
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
		if err != nil {
			return "", err
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || fd.Name.Name != name || fd.Body == nil {
				continue
			}
			body := src[fset.Position(fd.Body.Lbrace).Offset+1 : fset.Position(fd.Body.Rbrace).Offset]
			var out []string
			for _, line := range strings.Split(strings.Trim(string(body), "\n"), "\n") {
				out = append(out, strings.TrimPrefix(line, "\t"))
			}
			return strings.Join(out, "\n"), nil
		}
	}
	return "", fmt.Errorf("no function %s in %s", name, dir)
}

// TestREADMEStart: the README opens with the two set-up commands, and the
// test command is the one CI runs.
func TestREADMEStart(t *testing.T) {
	t.Parallel()
	lines := readREADME(t)
	first := -1
	for i, line := range lines {
		if strings.HasPrefix(line, "```") {
			first = i
			break
		}
	}
	if first < 0 || first > 6 || lines[first] != "```sh" {
		t.Fatalf("the README's first block should be the set-up commands, near the top (line %d)", first+1)
	}
	var cmds []string
	for _, line := range lines[first+1:] {
		if line == "```" {
			break
		}
		cmd, _, _ := strings.Cut(line, "#")
		cmds = append(cmds, strings.TrimSpace(cmd))
	}
	if want := []string{"go run ./examples/landingzone", "go test -race -count=1 ./..."}; strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Errorf("set-up commands %q, want %q", cmds, want)
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ci, []byte("\ngo test -race -count=1 ./...\n")) {
		t.Error(".ci/run no longer runs go test -race -count=1 ./..., the README's test command")
	}
}

// TestREADMEMap: the package map links every package and every example,
// and every relative link in the README points at something that exists.
func TestREADMEMap(t *testing.T) {
	t.Parallel()
	text := strings.Join(readREADME(t), "\n")
	// The packages: the directories at the root and in internal/ that hold
	// Go files (but this one: the examples are listed one by one below).
	var want []string
	for _, parent := range []string{"", "internal"} {
		entries, err := os.ReadDir(filepath.Join("..", parent))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			p := path.Join(parent, e.Name())
			if !e.IsDir() || p == "examples" {
				continue
			}
			if files, _ := filepath.Glob(filepath.Join("..", p, "*.go")); len(files) > 0 {
				want = append(want, p)
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("no packages found")
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "internal" && e.Name() != "testdata" {
			if _, err := os.Stat(filepath.Join(e.Name(), "main.go")); err == nil {
				want = append(want, "examples/"+e.Name())
			}
		}
	}
	for _, p := range want {
		if !strings.Contains(text, "[`"+p+"`]("+p+")") {
			t.Errorf("the package map does not link %s as [`%s`](%s)", p, p, p)
		}
	}
	for _, m := range regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`).FindAllStringSubmatch(text, -1) {
		target := m[1]
		if strings.Contains(target, "://") {
			continue
		}
		if _, err := os.Stat(filepath.Join("..", filepath.FromSlash(target))); err != nil {
			t.Errorf("README.md links %s, which does not exist", target)
		}
	}
}
