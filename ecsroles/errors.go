package ecsroles

import (
	"strconv"

	"github.com/kmsshare/kmsshare/policy"
)

// Error reports an input that cannot make a correct role: a malformed or
// masked identifier, a key of the wrong account, a trust scope that would let
// the wrong callers in. It matches policy.ErrInvalid with errors.Is, and
// through Err whatever the cause matches: arn.ErrInvalid, arn.ErrMasked and
// arn.ErrPlaceholder for identifiers copied from documentation.
type Error struct {
	Role   string // the role being built, e.g. "AliyunECSShareEncryptImageDefaultRole"
	Input  string // which input: "owner", "account", "key", "resource directory ID", "folder path", "trust"
	Value  string // the offending value as given; "" when the input is missing
	Reason string // why it is wrong; may be "" when Err says it
	Err    error  // the underlying *arn.Error or policy error, if any
}

func (e *Error) Error() string {
	msg := "ecsroles: " + e.Role + ": " + e.Input
	if e.Value != "" {
		msg += " " + strconv.Quote(e.Value)
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns policy.ErrInvalid and the underlying error, if any.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{policy.ErrInvalid, e.Err}
	}
	return []error{policy.ErrInvalid}
}
