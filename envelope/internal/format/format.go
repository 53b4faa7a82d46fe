// Package format encodes and parses the header of an envelope message, as
// specified in envelope/FORMAT.md. It knows byte layouts and limits only; the
// cryptography lives in package stream.
package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

// Errors. Package envelope re-exports them; their text starts with
// "envelope:" because that is where callers meet them.
var (
	ErrFormat      = errors.New("envelope: malformed message")
	ErrUnsupported = errors.New("envelope: unsupported message version or suite")
	ErrLimit       = errors.New("envelope: limit exceeded")
	// ErrKeyMismatch is envelope.ErrKeyMismatch; it lives here so that the
	// test key service can wrap it too.
	ErrKeyMismatch = errors.New("envelope: data key was encrypted under a different master key than the message names")
)

// Constants of format version 1 (FORMAT.md §2–§5). The salt, commitment
// and header tag sizes are suite 1's, in package stream.
const (
	Magic   = "KMSE"
	Version = 1
	// Suite1 is AES-256-GCM segments, HKDF-SHA256, key commitment and an
	// HMAC-SHA256 header tag.
	Suite1 uint16 = 1

	DigestSize  = sha256.Size
	HeaderAlign = 64 // the header is padded to a multiple of this

	MinSegmentSize = 64
	MaxSegmentSize = 16 << 20

	MaxContextPairs = 64
	MaxContextBytes = 4096 // the pairs with their length prefixes

	MaxKeys     = 16
	MaxARNLen   = 256
	MaxBlobLen  = 4096
	MaxSegments = 1 << 32

	fixedPrefixLen = 4 + 1 + 2 + 4 + stream.SaltSize // magic .. salt
	// SaltOffset is where the salt starts in a message.
	SaltOffset = 4 + 1 + 2 + 4
)

// kindError matches several sentinels with errors.Is but prints one message.
type kindError struct {
	msg   string
	kinds []error
}

func (e *kindError) Error() string   { return e.msg }
func (e *kindError) Unwrap() []error { return e.kinds }

// formatErr reports a malformed message.
func formatErr(format string, args ...any) error {
	return &kindError{ErrFormat.Error() + ": " + fmt.Sprintf(format, args...), []error{ErrFormat}}
}

// limitErr reports a limit exceeded by a message being written.
func limitErr(format string, args ...any) error {
	return &kindError{ErrLimit.Error() + ": " + fmt.Sprintf(format, args...), []error{ErrLimit}}
}

// readLimitErr reports a limit exceeded by a message being read: the message
// is malformed too.
func readLimitErr(format string, args ...any) error {
	return &kindError{ErrLimit.Error() + ": " + fmt.Sprintf(format, args...), []error{ErrLimit, ErrFormat}}
}

// asRead turns a writer-side validation error into a reader-side one: a
// message that breaks a limit is malformed.
func asRead(err error) error {
	var k *kindError
	if errors.As(err, &k) && !errors.Is(err, ErrFormat) {
		return &kindError{k.msg, append(k.kinds[:len(k.kinds):len(k.kinds)], ErrFormat)}
	}
	return err
}

func unsupportedErr(format string, args ...any) error {
	return &kindError{ErrUnsupported.Error() + ": " + fmt.Sprintf(format, args...), []error{ErrUnsupported, ErrFormat}}
}

// Pair is one encryption-context entry.
type Pair struct{ Key, Value string }

// EncryptedKey is one EDK: the master key's ARN and the opaque blob.
type EncryptedKey struct {
	ARN  string
	Blob []byte
}

// Header is a parsed or to-be-written message header.
type Header struct {
	SegmentSize int
	Salt        [stream.SaltSize]byte
	Context     []Pair // sorted by key, unique
	Commitment  [stream.CommitmentSize]byte
	Keys        []EncryptedKey
	Tag         [stream.HeaderTagSize]byte
}

// ContextPairs validates an encryption context and returns it in canonical
// (sorted) order.
func ContextPairs(m map[string]string) ([]Pair, error) {
	if len(m) > MaxContextPairs {
		return nil, limitErr("encryption context has %d pairs, at most %d allowed", len(m), MaxContextPairs)
	}
	pairs := make([]Pair, 0, len(m))
	size := 0
	for k, v := range m {
		if err := checkPair(k, v); err != nil {
			return nil, err
		}
		size += 4 + len(k) + len(v)
		pairs = append(pairs, Pair{k, v})
	}
	if size > MaxContextBytes {
		return nil, limitErr("encryption context takes %d bytes, at most %d allowed", size, MaxContextBytes)
	}
	slices.SortFunc(pairs, func(a, b Pair) int { return strings.Compare(a.Key, b.Key) })
	return pairs, nil
}

func checkPair(k, v string) error {
	switch {
	case k == "":
		return formatErr("empty encryption context key")
	case !utf8.ValidString(k):
		return formatErr("encryption context key is not UTF-8")
	case !utf8.ValidString(v):
		return formatErr("encryption context value of %q is not UTF-8", k)
	case len(k) > MaxContextBytes || len(v) > MaxContextBytes:
		return limitErr("encryption context entry %.32q is too long", k)
	}
	return nil
}

// ContextMap returns the context as a map (nil when empty).
func ContextMap(pairs []Pair) map[string]string {
	if len(pairs) == 0 {
		return nil
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p.Key] = p.Value
	}
	return m
}

// CheckSegmentSize reports whether n is an allowed segment size.
func CheckSegmentSize(n int) error {
	if n < MinSegmentSize || n > MaxSegmentSize {
		return limitErr("segment size %d outside [%d, %d]", n, MinSegmentSize, MaxSegmentSize)
	}
	return nil
}

// CheckKey validates one EDK for writing.
func CheckKey(k EncryptedKey) error {
	if k.ARN == "" || len(k.ARN) > MaxARNLen {
		return limitErr("key ARN of %d bytes, want 1 to %d", len(k.ARN), MaxARNLen)
	}
	if len(k.Blob) == 0 || len(k.Blob) > MaxBlobLen {
		return limitErr("encrypted data key of %d bytes under %s, want 1 to %d", len(k.Blob), k.ARN, MaxBlobLen)
	}
	return nil
}

// Len returns the length of the whole header: fixed part, keys part, padding
// and header tag.
func (h *Header) Len() int {
	n := fixedPrefixLen + 2 + stream.CommitmentSize + 2
	for _, p := range h.Context {
		n += 4 + len(p.Key) + len(p.Value)
	}
	for _, k := range h.Keys {
		n += 4 + len(k.ARN) + len(k.Blob)
	}
	return n + PadLen(n) + stream.HeaderTagSize
}

// AppendFixed appends the fixed part (FORMAT.md §2).
func (h *Header) AppendFixed(b []byte) []byte {
	b = append(b, Magic...)
	b = append(b, Version)
	b = binary.BigEndian.AppendUint16(b, Suite1)
	b = binary.BigEndian.AppendUint32(b, uint32(h.SegmentSize))
	b = append(b, h.Salt[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.Context)))
	for _, p := range h.Context {
		b = appendString16(b, p.Key)
		b = appendString16(b, p.Value)
	}
	return append(b, h.Commitment[:]...)
}

// AppendKeys appends the keys part (FORMAT.md §3).
func (h *Header) AppendKeys(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.Keys)))
	for _, k := range h.Keys {
		b = appendString16(b, k.ARN)
		b = binary.BigEndian.AppendUint16(b, uint16(len(k.Blob)))
		b = append(b, k.Blob...)
	}
	return b
}

// PadLen returns the padding that follows fixed ‖ keys of n bytes, so that
// with the header tag the header is a multiple of HeaderAlign long.
func PadLen(n int) int {
	return (HeaderAlign - (n+stream.HeaderTagSize)%HeaderAlign) % HeaderAlign
}

// AppendPad appends the padding for the fixed and keys parts in b.
func AppendPad(b []byte) []byte {
	return append(b, make([]byte, PadLen(len(b)))...)
}

// Validate checks a header before it is written, so that a writer never
// emits what a reader would reject.
func (h *Header) Validate() error {
	if err := CheckSegmentSize(h.SegmentSize); err != nil {
		return err
	}
	if len(h.Context) > MaxContextPairs {
		return limitErr("encryption context has %d pairs, at most %d allowed", len(h.Context), MaxContextPairs)
	}
	size := 0
	for i, p := range h.Context {
		if err := checkPair(p.Key, p.Value); err != nil {
			return err
		}
		if i > 0 && p.Key <= h.Context[i-1].Key {
			return formatErr("encryption context not sorted or has duplicate keys")
		}
		size += 4 + len(p.Key) + len(p.Value)
	}
	if size > MaxContextBytes {
		return limitErr("encryption context takes %d bytes, at most %d allowed", size, MaxContextBytes)
	}
	if len(h.Keys) == 0 || len(h.Keys) > MaxKeys {
		return limitErr("%d encrypted data keys, want 1 to %d", len(h.Keys), MaxKeys)
	}
	for i, k := range h.Keys {
		if err := CheckKey(k); err != nil {
			return err
		}
		for _, o := range h.Keys[:i] { // at most 16: no map needed
			if o.ARN == k.ARN {
				return formatErr("two encrypted data keys under %s", k.ARN)
			}
		}
	}
	return nil
}

// Digest returns header_digest = SHA-256(fixed part).
func Digest(fixed []byte) [DigestSize]byte { return sha256.Sum256(fixed) }

func appendString16(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// Parsed is a header as read from a message, with the raw bytes that the
// digest and the header tag are computed over.
type Parsed struct {
	Header
	Fixed []byte // fixed part, as read
	Authd []byte // fixed ‖ keys ‖ padding, as read: what header_tag covers

	key1 [1]EncryptedKey // backs Keys for the usual single EDK
}

// ParseBytes parses the header at the start of msg and returns it with the
// number of bytes it takes. maxKeys (≤ MaxKeys; 0 means MaxKeys) caps the
// number of EDKs. The Parsed header's Fixed, Authd and encrypted data keys
// are views into msg, not copies: msg must not change while it is in use.
func ParseBytes(msg []byte, maxKeys int) (*Parsed, int, error) {
	return ParseBytesKnown(msg, maxKeys, nil)
}

// ParseBytesKnown is ParseBytes that takes an encrypted data key's ARN from
// known when the message's bytes spell one of them, instead of allocating a
// string: a Decryptor passes the key ARNs it allows.
func ParseBytesKnown(msg []byte, maxKeys int, known []string) (*Parsed, int, error) {
	// The whole message is read already: the parser's buffer is msg, capped
	// so that nothing is ever appended to the caller's array, and there is
	// no source to read more from.
	p := &parser{maxKeys: maxKeys, buf: msg[:len(msg):len(msg)], view: true}
	h, err := p.parse(known)
	if err != nil {
		return nil, 0, err
	}
	return h, p.off, nil
}

// Read parses a header from r. It reads r in chunks and may read past the
// header: the bytes it read beyond the header are returned in rest, and the
// body starts with them. A source that stalls (see NoStall) ends it with
// io.ErrNoProgress.
func Read(r io.Reader, maxKeys int) (h *Parsed, rest []byte, err error) {
	p := &parser{src: NoStall(r), maxKeys: maxKeys}
	h, err = p.parse(nil)
	if err != nil {
		return nil, nil, err
	}
	return h, p.buf[p.off:], nil
}

// parser reads the header field by field. buf holds every byte read so far:
// the header up to off, then bytes read past what was asked for. With src
// nil, buf is the whole message and is never read into.
type parser struct {
	src     io.Reader
	maxKeys int
	buf     []byte
	off     int
	view    bool // buf is the caller's message: EDKs are views, not copies
}

// internARN returns a as a string: one of known if a spells it, else a
// copy. (known is not a parser field: the parser's buffer leaks into the
// header, and its fields would take known along to the heap.)
func internARN(a []byte, known []string) string {
	for _, k := range known {
		if k == string(a) {
			return k
		}
	}
	return string(a)
}

const readChunk = 4096

// maxEmptyReads is how many Reads in a row may return no bytes and no error
// before NoStall gives up with io.ErrNoProgress, as bufio does.
const maxEmptyReads = 100

// NoStall wraps r so that maxEmptyReads Reads in a row returning no bytes and
// no error end with io.ErrNoProgress, instead of io.ReadFull or io.Copy
// spinning on them forever.
func NoStall(r io.Reader) io.Reader {
	if _, ok := r.(*noStall); ok {
		return r
	}
	return &noStall{r: r}
}

type noStall struct {
	r     io.Reader
	empty int
}

func (s *noStall) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 || err != nil || len(p) == 0 {
		s.empty = 0
		return n, err
	}
	if s.empty++; s.empty >= maxEmptyReads {
		return 0, io.ErrNoProgress
	}
	return 0, nil
}

// next returns the next n header bytes.
func (p *parser) next(n int) ([]byte, error) {
	for len(p.buf)-p.off < n {
		if p.src == nil {
			return nil, formatErr("header is truncated")
		}
		if cap(p.buf)-len(p.buf) < readChunk {
			p.buf = append(p.buf[:len(p.buf):len(p.buf)], make([]byte, readChunk)...)[:len(p.buf)]
		}
		m, err := p.src.Read(p.buf[len(p.buf):cap(p.buf)])
		p.buf = p.buf[:len(p.buf)+m]
		if err != nil && len(p.buf)-p.off < n {
			return nil, truncated(err)
		}
	}
	b := p.buf[p.off : p.off+n : p.off+n]
	p.off += n
	return b, nil
}

func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return formatErr("header is truncated")
	}
	return err
}

func (p *parser) u16() (int, error) {
	b, err := p.next(2)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(b)), nil
}

func (p *parser) bytes16(max int, what string) ([]byte, error) {
	n, err := p.u16()
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, readLimitErr("%s of %d bytes, at most %d allowed", what, n, max)
	}
	return p.next(n)
}

func (p *parser) parse(known []string) (*Parsed, error) {
	b, err := p.next(fixedPrefixLen)
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != Magic {
		return nil, formatErr("not an envelope message (bad magic)")
	}
	if b[4] != Version {
		return nil, unsupportedErr("version %d", b[4])
	}
	if s := binary.BigEndian.Uint16(b[5:7]); s != Suite1 {
		return nil, unsupportedErr("suite %#04x", s)
	}
	h := &Parsed{}
	h.SegmentSize = int(binary.BigEndian.Uint32(b[7:11]))
	if err := CheckSegmentSize(h.SegmentSize); err != nil {
		return nil, asRead(err)
	}
	copy(h.Salt[:], b[11:11+stream.SaltSize])

	n, err := p.u16()
	if err != nil {
		return nil, err
	}
	if n > MaxContextPairs {
		return nil, readLimitErr("%d encryption context pairs, at most %d allowed", n, MaxContextPairs)
	}
	size := 0
	for i := 0; i < n; i++ {
		k, err := p.bytes16(MaxContextBytes, "encryption context key")
		if err != nil {
			return nil, err
		}
		v, err := p.bytes16(MaxContextBytes, "encryption context value")
		if err != nil {
			return nil, err
		}
		size += 4 + len(k) + len(v)
		if size > MaxContextBytes {
			return nil, readLimitErr("encryption context over %d bytes", MaxContextBytes)
		}
		pair := Pair{string(k), string(v)}
		if err := checkPair(pair.Key, pair.Value); err != nil {
			return nil, asRead(err)
		}
		if i > 0 && pair.Key <= h.Context[i-1].Key {
			return nil, formatErr("encryption context not in canonical order")
		}
		h.Context = append(h.Context, pair)
	}
	c, err := p.next(stream.CommitmentSize)
	if err != nil {
		return nil, err
	}
	copy(h.Commitment[:], c)
	fixedLen := p.off

	maxKeys := p.maxKeys
	if maxKeys <= 0 || maxKeys > MaxKeys {
		maxKeys = MaxKeys
	}
	if n, err = p.u16(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, formatErr("no encrypted data keys")
	}
	if n > maxKeys {
		return nil, readLimitErr("%d encrypted data keys, at most %d allowed", n, maxKeys)
	}
	if n == 1 {
		h.Keys = h.key1[:0]
	} else {
		h.Keys = make([]EncryptedKey, 0, n)
	}
	for i := 0; i < n; i++ {
		a, err := p.bytes16(MaxARNLen, "key ARN")
		if err != nil {
			return nil, err
		}
		blob, err := p.bytes16(MaxBlobLen, "encrypted data key")
		if err != nil {
			return nil, err
		}
		if len(a) == 0 || len(blob) == 0 {
			return nil, formatErr("empty key ARN or encrypted data key")
		}
		for _, k := range h.Keys { // at most 16: no map needed
			if k.ARN == string(a) {
				return nil, formatErr("two encrypted data keys under the same ARN")
			}
		}
		if !p.view {
			blob = bytes.Clone(blob)
		}
		h.Keys = append(h.Keys, EncryptedKey{ARN: internARN(a, known), Blob: blob})
	}
	pad, err := p.next(PadLen(p.off))
	if err != nil {
		return nil, err
	}
	for _, c := range pad {
		if c != 0 {
			return nil, formatErr("non-zero header padding")
		}
	}
	authdLen := p.off
	t, err := p.next(stream.HeaderTagSize)
	if err != nil {
		return nil, err
	}
	copy(h.Tag[:], t)
	h.Fixed = p.buf[:fixedLen:fixedLen]
	h.Authd = p.buf[:authdLen:authdLen]
	return h, nil
}
