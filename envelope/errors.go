package envelope

import (
	"errors"
	"strconv"
	"strings"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// Errors callers branch on with errors.Is.
var (
	// ErrNotAuthentic means the message failed authentication. It covers a
	// tampered header or segment, a truncated or extended body, reordered
	// segments, segments from another message, a failed key commitment and
	// an encryption context other than the one the message was written with.
	// No plaintext of the failing segment is ever returned.
	ErrNotAuthentic = errors.New("envelope: message authentication failed")

	// ErrNoKey means none of the allowed master keys could decrypt the
	// message's data key. The error is a *NoKeyError that holds one error per
	// key tried.
	ErrNoKey = errors.New("envelope: no allowed key could decrypt the data key")

	// ErrFormat means the input is not a well-formed envelope message.
	ErrFormat = format.ErrFormat

	// ErrUnsupported means the message has a version or algorithm suite this
	// package does not know. It also matches ErrFormat.
	ErrUnsupported = format.ErrUnsupported

	// ErrLimit means a size limit of the format or of the caller's settings
	// was exceeded. Examples are too many encrypted data keys, an oversized
	// context, a segment size out of range, too many segments, and writing
	// past a declared size. When it comes from reading a message it also
	// matches ErrFormat.
	ErrLimit = format.ErrLimit

	// ErrKeyMismatch means a key service decrypted an encrypted data key
	// under a different master key than the one the message names. This
	// guards the allowlist: an attacker could otherwise put a blob made under
	// their own key next to a trusted ARN.
	ErrKeyMismatch = format.ErrKeyMismatch

	// ErrClosed is returned by a Writer used after Close.
	ErrClosed = errors.New("envelope: writer is closed")
)

// APIError is the error of a failed KMS call, as the KMS key service returns
// it. It carries the KMS error code, HTTP status and request ID. Use
// errors.Is with the failure classes below, or errors.As with *APIError.
type APIError = cloudapi.Error

// Failure classes of KMS calls, matched with errors.Is.
var (
	ErrAccessDenied = cloudapi.ErrAccessDenied // denied by the key policy or the caller's RAM policy
	ErrKeyNotFound  = cloudapi.ErrNotFound     // unknown key or alias
	ErrKeyState     = cloudapi.ErrKeyState     // key disabled, pending deletion, unavailable
	ErrThrottled    = cloudapi.ErrThrottled    // still throttled after retries
	ErrUnavailable  = cloudapi.ErrUnavailable  // 5xx or transport failure, after retries
)

// KeyError is the failure of one master key, inside a *NoKeyError or on its
// own when encryption fails.
type KeyError struct {
	KeyARN string // the master key
	Op     string // "GenerateDataKey", "Encrypt" or "Decrypt"
	Err    error
}

func (e *KeyError) Error() string {
	return "envelope: " + e.Op + " under " + e.KeyARN + ": " + e.Err.Error()
}

func (e *KeyError) Unwrap() error { return e.Err }

// NoKeyError is returned when no allowed master key could decrypt the data
// key. It matches ErrNoKey. It also matches anything one of its per-key
// errors matches: errors.Is(err, ErrAccessDenied) is true if a key was denied.
type NoKeyError struct {
	// KeyARNs are the master keys the message is encrypted under.
	KeyARNs []string
	// Errors holds one *KeyError per key tried, in the order tried. It is
	// empty when the message names no allowed key.
	Errors []error
}

func (e *NoKeyError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoKey.Error())
	if len(e.Errors) == 0 {
		b.WriteString(": none of the message's ")
		b.WriteString(strconv.Itoa(len(e.KeyARNs)))
		b.WriteString(" keys is allowed (")
		b.WriteString(strings.Join(e.KeyARNs, ", "))
		b.WriteString(")")
		return b.String()
	}
	for i, err := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimPrefix(err.Error(), "envelope: "))
	}
	return b.String()
}

// Unwrap returns ErrNoKey followed by the per-key errors.
func (e *NoKeyError) Unwrap() []error {
	return append([]error{ErrNoKey}, e.Errors...)
}

// authError is an ErrNotAuthentic with a reason; the reason never holds key
// material or plaintext.
type authError struct{ reason string }

func (e *authError) Error() string { return ErrNotAuthentic.Error() + ": " + e.reason }
func (e *authError) Unwrap() error { return ErrNotAuthentic }

func notAuthentic(reason string) error { return &authError{reason} }
