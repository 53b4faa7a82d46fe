package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is matched by every error about a malformed or invalid policy
// document, and by errors about invalid input to the builders.
var ErrInvalid = errors.New("policy: invalid")

// Problem is one thing wrong with a document.
type Problem struct {
	Path    string // JSON pointer to the offending element, e.g. "/Statement/0/Action"; "" for the document
	Message string

	code string // the stable finding code Lint reports this problem under
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Error reports why a document could not be parsed or is not valid for its
// kind. It matches ErrInvalid.
type Error struct {
	Kind     Kind // the kind validated against; 0 for parse errors
	Line     int  // 1-based position of a JSON syntax error; 0 otherwise
	Column   int
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("policy: ")
	switch {
	case e.Kind != 0:
		b.WriteString("invalid " + e.Kind.String())
	case e.Line > 0:
		fmt.Fprintf(&b, "malformed JSON at line %d, column %d", e.Line, e.Column)
	default:
		b.WriteString("malformed document")
	}
	for i, p := range e.Problems {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// problems collects Problems under JSON pointers.
type problems []Problem

func (ps *problems) add(path, format string, args ...any) {
	ps.addCode("malformed", path, format, args...)
}

func (ps *problems) addCode(code, path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...), code: code})
}

func (ps problems) err(k Kind) error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{Kind: k, Problems: ps}
}

// pointer appends a reference token to a JSON pointer (RFC 6901).
func pointer(base string, token any) string {
	s := fmt.Sprint(token)
	s = strings.ReplaceAll(s, "~", "~0")
	s = strings.ReplaceAll(s, "/", "~1")
	return base + "/" + s
}
