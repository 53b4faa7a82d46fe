package aliesdk

import "errors"

// Errors callers branch on with errors.Is. KMS failures come as envelope's
// error types (*envelope.NoKeyError, *envelope.APIError) and match
// envelope.ErrNoKey, envelope.ErrAccessDenied and the other classes.
var (
	// ErrNotAuthentic means the header tag or the body's GCM tag did not
	// verify, or the caller's encryption context is not the message's. No
	// plaintext is returned with it.
	ErrNotAuthentic = errors.New("aliesdk: message authentication failed")

	// ErrFormat means the input is not a well-formed message of the format.
	ErrFormat = errors.New("aliesdk: malformed message")

	// ErrUnsupported means a version or algorithm suite this package does
	// not read or write, or an unauthenticated suite (CBC, CTR) the caller
	// has not opted into.
	ErrUnsupported = errors.New("aliesdk: unsupported message")

	// ErrLimit means a size limit was exceeded: of the parser (keys,
	// context, lengths) or the caller's MaxSize.
	ErrLimit = errors.New("aliesdk: size limit exceeded")
)
