package fakecloud

import (
	"fmt"
	"log/slog"
	"time"
)

// Credentials are an access key issued by the emulator: an account's root
// key, a RAM user's key, or temporary STS credentials. The secret and the
// security token are reachable only through their methods; String,
// GoString, every fmt verb, slog and encoding/json show the key ID alone.
type Credentials struct {
	AccessKeyID string
	Expiration  time.Time // zero for permanent keys

	secret string
	token  string
}

// Secret returns the AccessKeySecret.
func (c Credentials) Secret() string { return c.secret }

// SecurityToken returns the STS token, or "" for permanent keys.
func (c Credentials) SecurityToken() string { return c.token }

// IsTemporary reports whether these are STS credentials.
func (c Credentials) IsTemporary() bool { return c.token != "" }

// WithSecret returns c with a different secret, for tests of bad
// signatures.
func (c Credentials) WithSecret(secret string) Credentials {
	c.secret = secret
	return c
}

// WithSecurityToken returns c with a different STS token, for tests of
// token checks.
func (c Credentials) WithSecurityToken(token string) Credentials {
	c.token = token
	return c
}

// NewCredentials builds credentials from their parts, for tests that need
// keys the emulator never issued.
func NewCredentials(accessKeyID, secret, securityToken string) Credentials {
	return Credentials{AccessKeyID: accessKeyID, secret: secret, token: securityToken}
}

// String shows the key ID only.
func (c Credentials) String() string {
	if c.token != "" {
		return "Credentials{" + c.AccessKeyID + ", secret and token redacted}"
	}
	return "Credentials{" + c.AccessKeyID + ", secret redacted}"
}

// GoString shows the key ID only.
func (c Credentials) GoString() string { return "fakecloud." + c.String() }

// Format makes every verb (%v, %+v, %#v, %s, %q, %x) print the redacted
// form.
func (c Credentials) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, c.GoString())
			return
		}
		fmt.Fprint(f, c.String())
	case 'q':
		fmt.Fprintf(f, "%q", c.String())
	default:
		fmt.Fprint(f, c.String())
	}
}

// LogValue keeps secrets out of structured logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", c.AccessKeyID), slog.Bool("temporary", c.token != ""))
}
