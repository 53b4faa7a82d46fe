package arn

import (
	"errors"
	"strconv"
)

// ErrInvalid is matched by every error this package returns:
// errors.Is(err, arn.ErrInvalid) tells a bad identifier from any other failure.
var ErrInvalid = errors.New("arn: invalid")

// The reasons below are matched with errors.Is in addition to ErrInvalid, for
// callers that want to tell a pasted documentation example from a typo.
var (
	// ErrMasked marks an ID copied from documentation, where account and key
	// IDs are shown with their last digits replaced by "****".
	ErrMasked = errors.New("arn: masked ID")
	// ErrPlaceholder marks a template placeholder such as "<UID>" or "${region}"
	// that was never filled in.
	ErrPlaceholder = errors.New("arn: unfilled placeholder")
	// ErrWildcard marks "*" or "?" in a value parsed as a concrete ARN.
	// Patterns are accepted only by ParsePattern and Match.
	ErrWildcard = errors.New("arn: wildcard in concrete ARN")
)

// Error describes why an input is not a valid ARN or service principal.
type Error struct {
	Input  string // the whole input, as given
	Field  string // "prefix", "service", "region", "account", "resource", "role name", ...
	Value  string // the offending part of Input
	Reason string // human-readable explanation
	kind   error  // ErrMasked, ErrPlaceholder, ErrWildcard or nil
}

func (e *Error) Error() string {
	msg := "arn: invalid " + e.Field + " in " + strconv.Quote(e.Input)
	if e.Value != "" && e.Value != e.Input {
		msg += ": " + strconv.Quote(e.Value)
	}
	return msg + ": " + e.Reason
}

// Unwrap returns ErrInvalid and, where one applies, the more specific reason
// (ErrMasked, ErrPlaceholder or ErrWildcard).
func (e *Error) Unwrap() []error {
	if e.kind != nil {
		return []error{ErrInvalid, e.kind}
	}
	return []error{ErrInvalid}
}

func newError(input, field, value, reason string) *Error {
	return &Error{Input: input, Field: field, Value: value, Reason: reason}
}

// Pasted reports whether s holds one of the two artefacts of a value copied
// from documentation: it returns ErrPlaceholder for an unfilled placeholder
// ("<UID>", "${region}"; any '<' or '>' counts, so a half-deleted "<UID" is
// caught too), ErrMasked for a
// masked ID (a run of three or more '*' after a letter or digit, as in
// "119285303511****"), and nil otherwise. Parse, ParsePattern and the
// Validate functions reject such values with an *Error matching the same
// reason; Pasted applies the same rule to any string, such as a policy's
// condition values.
func Pasted(s string) error {
	switch {
	case hasPlaceholder(s):
		return ErrPlaceholder
	case isMasked(s):
		return ErrMasked
	}
	return nil
}

// checkPasted reports a masked ID or an unfilled placeholder in value (see
// Pasted).
func checkPasted(input, field, value string) *Error {
	var e *Error
	switch Pasted(value) {
	case ErrPlaceholder:
		e = newError(input, field, value, "unfilled placeholder: replace it with the real value")
		e.kind = ErrPlaceholder
	case ErrMasked:
		e = newError(input, field, value, `documentation masks IDs with "****"; use the real, unmasked ID`)
		e.kind = ErrMasked
	}
	return e
}

func hasPlaceholder(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '>':
			return true
		case '$':
			if i+1 < len(s) && s[i+1] == '{' {
				return true
			}
		}
	}
	return false
}

// isMasked reports a run of at least three '*' that follows an ID character,
// as in "119285303511****" or "key-hzz630494463ejqjx****". A lone "*" or a
// "*" after a separator is a wildcard, not a mask.
func isMasked(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '*' {
			run++
			if run >= 3 && i-run >= 0 && isAlnum(s[i-run]) {
				return true
			}
			continue
		}
		run = 0
	}
	return false
}

func wildcardError(input, field, value string) *Error {
	e := newError(input, field, value, `wildcards ("*", "?") are allowed only in patterns (use ParsePattern)`)
	e.kind = ErrWildcard
	return e
}
