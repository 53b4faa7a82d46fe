package aliesdk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/kmsshare/kmsshare/envelope"
)

// DefaultMaxSize is the default of Decryptor.MaxSize: 64 MiB of plaintext.
const DefaultMaxSize = 64 << 20

// Decryptor decrypts messages of the format with the master keys it allows.
// It is read-only configuration, safe for concurrent use while its fields
// are not changed.
//
// The format has one tag, at the end of the body, so a message is held in
// memory whole and its tag verified before any plaintext is returned;
// MaxSize bounds that memory.
type Decryptor struct {
	// Keys are the master keys allowed, by exact ARN. Encrypted data keys are
	// tried in the order the message lists them, only those under an allowed
	// ARN, each through its key's service (which must reach the key's
	// region); the first that decrypts wins, as in the SDKs.
	Keys []envelope.MasterKey

	// AllowUnauthenticated names the CBC and CTR suites the caller accepts.
	// Their bodies carry no tag: anyone who can change the message can
	// change the plaintext undetected (the header tag covers only the
	// header). Messages in these suites are refused with ErrUnsupported
	// unless their suite is listed here.
	AllowUnauthenticated []Suite

	// MaxSize bounds the plaintext of one message, in bytes; larger
	// messages fail with ErrLimit before any KMS call (container A and C)
	// or before more than MaxSize bytes are read (container B). 0 means
	// DefaultMaxSize.
	MaxSize int64

	// MaxEncryptedKeys refuses messages with more encrypted data keys
	// before any KMS call. 0 means DefaultMaxEncryptedKeys; at most
	// MaxEncryptedKeys.
	MaxEncryptedKeys int
}

func (d *Decryptor) maxKeys() int {
	if d.MaxEncryptedKeys <= 0 {
		return DefaultMaxEncryptedKeys
	}
	return min(d.MaxEncryptedKeys, MaxEncryptedKeys)
}

func (d *Decryptor) maxSize() int64 {
	if d.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return d.MaxSize
}

// Info is what a message's header says, read without any key: use it to
// choose master keys or the context to expect, never as a fact. Nothing of
// it is authenticated until the message decrypts.
type Info struct {
	Suite   Suite
	KeyARNs []string          // in message order
	Context map[string]string // nil when the message has none
}

// Inspect parses a message in the ASN.1 format (container A) and returns
// what its header claims. It makes no KMS call and verifies nothing.
func Inspect(msg []byte) (*Info, error) {
	h, _, err := parseASN1(msg, MaxEncryptedKeys)
	if err != nil {
		return nil, err
	}
	return &Info{Suite: h.suite, KeyARNs: h.keyARNs(), Context: h.context()}, nil
}

// Decrypt decrypts a message in the SDKs' ASN.1 format (container A, what
// AliyunCrypto.encrypt returns in Java and Python). encCtx must equal the
// context the message was encrypted with (nil for none), or the result is
// ErrNotAuthentic before any KMS call. On any error it returns no
// plaintext.
func (d *Decryptor) Decrypt(ctx context.Context, msg []byte, encCtx map[string]string) ([]byte, error) {
	h, b, err := parseASN1(msg, d.maxKeys())
	if err != nil {
		return nil, err
	}
	return d.open(ctx, h, b, encCtx)
}

// DecryptInPlace is Decrypt that decrypts inside msg, saving a copy of the
// message: the plaintext returned is part of msg's memory. msg is
// overwritten whether or not decryption succeeds (on failure it holds no
// plaintext, but no message either). Use it when msg is yours to spend.
func (d *Decryptor) DecryptInPlace(ctx context.Context, msg []byte, encCtx map[string]string) ([]byte, error) {
	h, b, err := parseASN1(msg, d.maxKeys())
	if err != nil {
		return nil, err
	}
	return d.openWith(ctx, h, b, encCtx, func() []byte {
		// DER keeps the tag two bytes (its OCTET STRING header) after the
		// ciphertext; GCM wants them adjacent: move the tag, not the body.
		n := len(b.ct)
		ctTag := b.ct[:n+len(b.tag)]
		copy(ctTag[n:], b.tag)
		return ctTag
	})
}

// DecryptDetached decrypts a message whose header is stored apart from it
// (container C: the Secrets Manager data-key provider keeps the DER header,
// base64-decoded here, in a secret and the message is the DER body only).
func (d *Decryptor) DecryptDetached(ctx context.Context, head, body []byte, encCtx map[string]string) ([]byte, error) {
	h, err := parseHeadDER(head, d.maxKeys())
	if err != nil {
		return nil, err
	}
	b, err := parseBodyDER(body, h.suite)
	if err != nil {
		return nil, err
	}
	return d.open(ctx, h, b, encCtx)
}

// DecryptStream decrypts a message in the Java SDK's stream format
// (container B, what CryptoOutputStream writes). The format has no length
// and one tag at the very end, so the whole body is read (at most MaxSize
// bytes of plaintext) and verified before the plaintext is returned; the
// Java SDK's own reader hands out plaintext before its tag is checked.
func (d *Decryptor) DecryptStream(ctx context.Context, src io.Reader, encCtx map[string]string) ([]byte, error) {
	h, iv, err := parseStreamHeader(src, d.maxKeys())
	if err != nil {
		return nil, err
	}
	if err := d.check(h, encCtx); err != nil {
		return nil, err
	}
	key, err := d.dataKey(ctx, h)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	if err := verifyHeader(h, key); err != nil {
		return nil, err
	}
	overhead := int64(16) // the GCM tag, or a PKCS#7 pad block
	buf, err := readLimited(src, d.maxSize()+overhead, 0)
	if err != nil {
		return nil, err
	}
	b := &body{iv: iv, ct: buf}
	if h.suite.Authenticated() {
		if len(buf) < tagLen {
			return nil, formatErr("stream body of %d bytes has no room for the tag", len(buf))
		}
		b.ct, b.tag = buf[:len(buf)-tagLen], buf[len(buf)-tagLen:]
	}
	if err := b.check(h.suite); err != nil {
		return nil, err
	}
	return openBody(h.suite, key, iv, buf, ctxBytes(h.ctx))
}

// readLimited reads src to its end into one buffer, failing with ErrLimit
// beyond max bytes; the buffer has extra bytes of spare capacity. A source
// that knows its length (bytes.Reader, bytes.Buffer, ...) is read without
// growing the buffer. Buffers outgrown are wiped.
func readLimited(src io.Reader, limit int64, extra int) ([]byte, error) {
	size := 512
	if l, ok := src.(interface{ Len() int }); ok {
		n := int64(l.Len())
		if n > limit {
			return nil, fmt.Errorf("aliesdk: message body above the size limit: %w", ErrLimit)
		}
		size = int(n) + max(extra, 1) // room to see io.EOF without growing
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			// Double, but never beyond one byte over the limit (which is
			// enough to see that the limit is exceeded).
			old := buf
			buf = slices.Grow(buf, max(1, int(min(int64(len(buf)), limit+1-int64(len(buf))))))
			clear(old)
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			clear(buf)
			return nil, fmt.Errorf("aliesdk: message body above the size limit: %w", ErrLimit)
		}
		if err == io.EOF {
			if cap(buf)-len(buf) < extra {
				old := buf
				buf = slices.Grow(buf, extra)
				clear(old)
			}
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// check refuses, before any KMS call, what the caller does not accept: an
// unauthenticated suite not opted into, another context, too large a body.
func (d *Decryptor) check(h *header, encCtx map[string]string) error {
	if !h.suite.Authenticated() && !slices.Contains(d.AllowUnauthenticated, h.suite) {
		return fmt.Errorf("aliesdk: %s does not authenticate the body; list it in Decryptor.AllowUnauthenticated to read it: %w", h.suite, ErrUnsupported)
	}
	if !sameContext(h.ctx, encCtx) {
		return fmt.Errorf("aliesdk: the encryption context is not the message's: %w", ErrNotAuthentic)
	}
	return nil
}

func (d *Decryptor) open(ctx context.Context, h *header, b *body, encCtx map[string]string) ([]byte, error) {
	return d.openWith(ctx, h, b, encCtx, func() []byte {
		// GCM wants ciphertext and tag together; DER keeps them apart. One
		// copy into the plaintext's own buffer, then decryption in place.
		buf := make([]byte, len(b.ct)+len(b.tag))
		copy(buf, b.ct)
		copy(buf[len(b.ct):], b.tag)
		return buf
	})
}

// openWith checks the message against the caller's settings, decrypts the
// data key, verifies the header tag and opens the body in the buffer that
// ctTag arranges (ciphertext then tag).
func (d *Decryptor) openWith(ctx context.Context, h *header, b *body, encCtx map[string]string, ctTag func() []byte) ([]byte, error) {
	if err := d.check(h, encCtx); err != nil {
		return nil, err
	}
	if int64(len(b.ct)) > d.maxSize()+16 {
		return nil, fmt.Errorf("aliesdk: message of %d bytes above the size limit: %w", len(b.ct), ErrLimit)
	}
	key, err := d.dataKey(ctx, h)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	if err := verifyHeader(h, key); err != nil {
		return nil, err
	}
	return openBody(h.suite, key, b.iv, ctTag(), ctxBytes(h.ctx))
}

// dataKey decrypts the first encrypted data key, in message order, whose ARN
// the Decryptor allows. The KMS context is the message's.
func (d *Decryptor) dataKey(ctx context.Context, h *header) ([]byte, error) {
	if err := checkKeys(d.Keys, "Decryptor.Keys"); err != nil {
		return nil, err
	}
	allowed := make(map[string]envelope.KeyService, len(d.Keys))
	for _, k := range d.Keys {
		allowed[k.ARN] = k.Service
	}
	encCtx := h.context()
	noKey := &envelope.NoKeyError{KeyARNs: h.keyARNs()}
	for _, k := range h.keys {
		svc, ok := allowed[k.KeyARN]
		if !ok {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pt, err := svc.Decrypt(ctx, k.KeyARN, bytes.Clone(k.Blob), encCtx)
		if err == nil && len(pt) != h.suite.KeySize() {
			clear(pt)
			err = fmt.Errorf("aliesdk: data key of %d bytes, %s needs %d: %w", len(pt), h.suite, h.suite.KeySize(), ErrNotAuthentic)
		}
		if err != nil {
			noKey.Errors = append(noKey.Errors, &envelope.KeyError{KeyARN: k.KeyARN, Op: "Decrypt", Err: err})
			continue
		}
		return pt, nil
	}
	return nil, noKey
}
