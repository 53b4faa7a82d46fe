package fakecloud

import (
	"errors"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// TestDocTable keeps the package doc honest: every test it names exists,
// every Test function is named in it, and every assumed error code is
// listed.
func TestDocTable(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi os.FileInfo) bool { return strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]bool{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for name, obj := range f.Scope.Objects {
				if strings.HasPrefix(name, "Test") || strings.HasPrefix(name, "Benchmark") {
					tests[name] = obj != nil
				}
			}
		}
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile(`\b(Test|Benchmark)[A-Z]\w*`).FindAllString(string(doc), -1) {
		named[m] = true
		if !tests[m] {
			t.Errorf("doc.go names %s, which does not exist", m)
		}
	}
	for name := range tests {
		if !named[name] {
			t.Errorf("%s is not in the behaviour table of doc.go", name)
		}
	}
	for code, def := range errorTable() {
		if def.Evidence == assumed && !strings.Contains(string(doc), strings.TrimPrefix(code, "sts:")) {
			t.Errorf("assumed code %s is not listed in doc.go", code)
		}
	}
}

// TestErrorClassification: every code the emulator emits is classified by
// internal/cloudapi, the client side's single point of classification.
// Only the codes listed here land in ErrOther; the package doc says so.
func TestErrorClassification(t *testing.T) {
	t.Parallel()
	other := map[string]bool{"InvalidAction.NotFound": true, "Rejected.UnexpectedState": true}
	want := map[string]error{
		"SignatureDoesNotMatch":          cloudapi.ErrAuthentication,
		"InvalidAccessKeyId.NotFound":    cloudapi.ErrAuthentication,
		"InvalidSecurityToken.Expired":   cloudapi.ErrAuthentication,
		"Throttling.User":                cloudapi.ErrThrottled,
		"ServiceUnavailable":             cloudapi.ErrUnavailable,
		"Rejected.Throttling":            cloudapi.ErrThrottled,
		"SerivceUnvailableTemporary":     cloudapi.ErrUnavailable,
		"InternalFailure":                cloudapi.ErrUnavailable,
		"InternalError":                  cloudapi.ErrUnavailable,
		"Forbidden.NoPermission":         cloudapi.ErrAccessDenied,
		"NoPermission":                   cloudapi.ErrAccessDenied,
		"Rejected.ShareQuotaExceedLimit": cloudapi.ErrQuotaExceeded,
		"Rejected.Unavailable":           cloudapi.ErrKeyState,
		"EntityNotExist.Role":            cloudapi.ErrNotFound,
		"MalformedPolicyDocument":        cloudapi.ErrInvalidParameter,
		"DeleteConflict.Role.Policy":     cloudapi.ErrConflict,
	}
	var inOther []string
	for code, def := range errorTable() {
		code = strings.TrimPrefix(code, "sts:")
		class := cloudapi.ClassOf(code, def.Status)
		if errors.Is(class, cloudapi.ErrOther) {
			inOther = append(inOther, code)
			if !other[code] {
				t.Errorf("%s is classified as ErrOther", code)
			}
		}
		if w, ok := want[code]; ok && class != w {
			t.Errorf("%s is classified as %v, want %v", code, class, w)
		}
	}
	sort.Strings(inOther)
	if len(inOther) != len(other) {
		t.Errorf("codes in ErrOther: %v, want %v", inOther, other)
	}
}
