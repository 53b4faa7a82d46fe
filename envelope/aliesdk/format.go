package aliesdk

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits of the parser. The SDKs set none; these are far above anything
// they write (one EDK is about 80 bytes of ARN and 150 of base64 blob) and
// keep a hostile header from costing more than a few hundred KiB.
const (
	// DefaultMaxEncryptedKeys is the default of Decryptor.MaxEncryptedKeys.
	DefaultMaxEncryptedKeys = 16
	// MaxEncryptedKeys is the most encrypted data keys a message may have.
	MaxEncryptedKeys = 64
	// MaxContextPairs and MaxContextBytes bound the encryption context
	// (keys and values, without length prefixes).
	MaxContextPairs = 64
	MaxContextBytes = 8 << 10
	maxARNLen       = 512
	maxBlobLen      = 4 << 10 // base64 text of one CiphertextBlob
	formatVersion   = 1
	gcmIVLen        = 12
	tagLen          = 16
)

// EncryptedKey is one encrypted data key of a message.
type EncryptedKey struct {
	KeyARN string // acs:kms:<region>:<account>:key/<key-id>, as the writer configured it
	Blob   []byte // the CiphertextBlob as KMS returns it: standard base64 text
}

type pair struct{ k, v string }

// header is the message header (Java's EncryptionHead): what the header tag
// authenticates, plus the tag.
type header struct {
	version uint32
	suite   Suite
	keys    []EncryptedKey // in message order
	ctx     []pair         // sorted by key bytes
	iv, tag []byte
}

// body is the message body: IV, ciphertext and (for GCM) the tag.
type body struct {
	iv, ct, tag []byte
}

func (h *header) context() map[string]string {
	if len(h.ctx) == 0 {
		return nil
	}
	m := make(map[string]string, len(h.ctx))
	for _, p := range h.ctx {
		m[p.k] = p.v
	}
	return m
}

func (h *header) keyARNs() []string {
	a := make([]string, len(h.keys))
	for i, k := range h.keys {
		a[i] = k.KeyARN
	}
	return a
}

// contextPairs validates a caller's context and sorts it by key bytes.
func contextPairs(m map[string]string) ([]pair, error) {
	if len(m) > MaxContextPairs {
		return nil, fmt.Errorf("aliesdk: encryption context has %d pairs, more than %d: %w", len(m), MaxContextPairs, ErrLimit)
	}
	ps := make([]pair, 0, len(m))
	n := 0
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("aliesdk: encryption context is not valid UTF-8")
		}
		n += len(k) + len(v)
		ps = append(ps, pair{k, v})
	}
	if n > MaxContextBytes {
		return nil, fmt.Errorf("aliesdk: encryption context has %d bytes, more than %d: %w", n, MaxContextBytes, ErrLimit)
	}
	slices.SortFunc(ps, func(a, b pair) int { return strings.Compare(a.k, b.k) })
	return ps, nil
}

func sameContext(ps []pair, m map[string]string) bool {
	if len(ps) != len(m) {
		return false
	}
	for _, p := range ps {
		if v, ok := m[p.k]; !ok || v != p.v {
			return false
		}
	}
	return true
}

func appendU32(b []byte, v int) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }

// ctxBytes is the serialized context: empty without one, else
// u32(count) then u32(len k) k u32(len v) v per pair, sorted by key.
func ctxBytes(ps []pair) []byte {
	if len(ps) == 0 {
		return nil
	}
	n := 4
	for _, p := range ps {
		n += 8 + len(p.k) + len(p.v)
	}
	b := make([]byte, 0, n)
	b = appendU32(b, len(ps))
	for _, p := range ps {
		b = appendU32(b, len(p.k))
		b = append(b, p.k...)
		b = appendU32(b, len(p.v))
		b = append(b, p.v...)
	}
	return b
}

// authBytes is what the header tag authenticates (FORMAT.md).
func (h *header) authBytes() []byte {
	keys := slices.Clone(h.keys)
	slices.SortFunc(keys, func(a, b EncryptedKey) int { return strings.Compare(a.KeyARN, b.KeyARN) })
	var b []byte
	b = appendU32(b, int(h.version))
	b = appendU32(b, int(h.suite))
	b = appendU32(b, len(h.ctx))
	b = append(b, ctxBytes(h.ctx)...)
	b = appendU32(b, len(keys))
	for _, k := range keys {
		b = appendU32(b, len(k.KeyARN))
		b = append(b, k.KeyARN...)
		b = appendU32(b, len(k.Blob))
		b = append(b, k.Blob...)
	}
	return b
}

// checkSuite refuses suites and versions the package does not read.
func checkVersionSuite(version uint32, s Suite) error {
	if version != formatVersion {
		return fmt.Errorf("aliesdk: format version %d: %w", version, ErrUnsupported)
	}
	if _, ok := s.info(); !ok {
		return fmt.Errorf("aliesdk: algorithm suite %d: %w", uint32(s), ErrUnsupported)
	}
	return nil
}

// addKey appends an encrypted data key after checking it.
func (h *header) addKey(arn string, blob []byte, maxKeys int) error {
	if len(h.keys) >= maxKeys {
		return fmt.Errorf("aliesdk: more than %d encrypted data keys: %w", maxKeys, ErrLimit)
	}
	if len(arn) == 0 || len(arn) > maxARNLen || !utf8.ValidString(arn) {
		return formatErr("key ARN of %d bytes", len(arn))
	}
	if len(blob) == 0 || len(blob) > maxBlobLen {
		return formatErr("encrypted data key of %d bytes", len(blob))
	}
	for _, k := range h.keys {
		if k.KeyARN == arn {
			return formatErr("key ARN %q appears twice", arn)
		}
	}
	h.keys = append(h.keys, EncryptedKey{KeyARN: arn, Blob: blob})
	return nil
}

// addPair appends a context pair; pairs must end up with unique keys.
func (h *header) addPair(k, v []byte, ctxLen *int) error {
	if len(h.ctx) >= MaxContextPairs {
		return fmt.Errorf("aliesdk: more than %d context pairs: %w", MaxContextPairs, ErrLimit)
	}
	if *ctxLen += len(k) + len(v); *ctxLen > MaxContextBytes {
		return fmt.Errorf("aliesdk: encryption context above %d bytes: %w", MaxContextBytes, ErrLimit)
	}
	if !utf8.Valid(k) || !utf8.Valid(v) {
		return formatErr("encryption context is not valid UTF-8")
	}
	h.ctx = append(h.ctx, pair{string(k), string(v)})
	return nil
}

// sortContext sorts the pairs by key and refuses duplicate keys.
func (h *header) sortContext() error {
	slices.SortFunc(h.ctx, func(a, b pair) int { return strings.Compare(a.k, b.k) })
	for i := 1; i < len(h.ctx); i++ {
		if h.ctx[i].k == h.ctx[i-1].k {
			return formatErr("context key %q appears twice", h.ctx[i].k)
		}
	}
	return nil
}

func (h *header) checkIVTag() error {
	if len(h.iv) != gcmIVLen || len(h.tag) != tagLen {
		return formatErr("header IV of %d bytes and tag of %d bytes, want %d and %d", len(h.iv), len(h.tag), gcmIVLen, tagLen)
	}
	return nil
}

// ---- container A: DER ----

// parseASN1 parses a whole DER message (container A).
func parseASN1(msg []byte, maxKeys int) (*header, *body, error) {
	r := derReader{msg}
	outer, err := r.next(tagSequence, "message")
	if err != nil {
		return nil, nil, err
	}
	if !r.empty() {
		return nil, nil, formatErr("%d bytes after the message", len(r.b))
	}
	in := derReader{outer}
	head, err := in.next(tagSequence, "header")
	if err != nil {
		return nil, nil, err
	}
	h, err := parseHeadContents(head, maxKeys)
	if err != nil {
		return nil, nil, err
	}
	bd, err := in.next(tagSequence, "body")
	if err != nil {
		return nil, nil, err
	}
	if !in.empty() {
		return nil, nil, formatErr("%d bytes after the body", len(in.b))
	}
	b, err := parseBodyContents(bd, h.suite)
	if err != nil {
		return nil, nil, err
	}
	return h, b, nil
}

// parseHeadDER parses a DER header alone (container C's stored header).
func parseHeadDER(der []byte, maxKeys int) (*header, error) {
	r := derReader{der}
	head, err := r.next(tagSequence, "header")
	if err != nil {
		return nil, err
	}
	if !r.empty() {
		return nil, formatErr("%d bytes after the header", len(r.b))
	}
	return parseHeadContents(head, maxKeys)
}

// parseBodyDER parses a DER body alone (container C's message).
func parseBodyDER(der []byte, s Suite) (*body, error) {
	r := derReader{der}
	bd, err := r.next(tagSequence, "body")
	if err != nil {
		return nil, err
	}
	if !r.empty() {
		return nil, formatErr("%d bytes after the body", len(r.b))
	}
	return parseBodyContents(bd, s)
}

func parseHeadContents(head []byte, maxKeys int) (*header, error) {
	r := derReader{head}
	h := &header{}
	var err error
	if h.version, err = r.uint32("version"); err != nil {
		return nil, err
	}
	alg, err := r.uint32("algorithm")
	if err != nil {
		return nil, err
	}
	h.suite = Suite(alg)
	if err := checkVersionSuite(h.version, h.suite); err != nil {
		return nil, err
	}
	set, err := r.next(tagSet, "encrypted data keys")
	if err != nil {
		return nil, err
	}
	for sr := (derReader{set}); !sr.empty(); {
		seq, err := sr.next(tagSequence, "encrypted data key")
		if err != nil {
			return nil, err
		}
		kr := derReader{seq}
		arn, err := kr.next(tagOctetString, "key ARN")
		if err != nil {
			return nil, err
		}
		raw, err := kr.next(tagOctetString, "encrypted data key")
		if err != nil {
			return nil, err
		}
		if !kr.empty() {
			return nil, formatErr("encrypted data key: trailing bytes")
		}
		if len(raw) > maxBlobLen/4*3 {
			return nil, formatErr("encrypted data key of %d bytes", len(raw))
		}
		if err := h.addKey(string(arn), base64.StdEncoding.AppendEncode(nil, raw), maxKeys); err != nil {
			return nil, err
		}
	}
	if len(h.keys) == 0 {
		return nil, formatErr("no encrypted data key")
	}
	set, err = r.next(tagSet, "encryption context")
	if err != nil {
		return nil, err
	}
	ctxLen := 0
	for sr := (derReader{set}); !sr.empty(); {
		seq, err := sr.next(tagSequence, "context pair")
		if err != nil {
			return nil, err
		}
		pr := derReader{seq}
		k, err := pr.next(tagOctetString, "context key")
		if err != nil {
			return nil, err
		}
		v, err := pr.next(tagOctetString, "context value")
		if err != nil {
			return nil, err
		}
		if !pr.empty() {
			return nil, formatErr("context pair: trailing bytes")
		}
		if err := h.addPair(k, v, &ctxLen); err != nil {
			return nil, err
		}
	}
	if err := h.sortContext(); err != nil {
		return nil, err
	}
	if h.iv, err = r.next(tagOctetString, "header IV"); err != nil {
		return nil, err
	}
	if h.tag, err = r.next(tagOctetString, "header tag"); err != nil {
		return nil, err
	}
	if !r.empty() {
		return nil, formatErr("header: trailing bytes")
	}
	return h, h.checkIVTag()
}

func parseBodyContents(bd []byte, s Suite) (*body, error) {
	r := derReader{bd}
	b := &body{}
	var err error
	if b.iv, err = r.next(tagOctetString, "body IV"); err != nil {
		return nil, err
	}
	if b.ct, err = r.next(tagOctetString, "ciphertext"); err != nil {
		return nil, err
	}
	if b.tag, err = r.next(tagOctetString, "body tag"); err != nil {
		return nil, err
	}
	if !r.empty() {
		return nil, formatErr("body: trailing bytes")
	}
	return b, b.check(s)
}

// check validates the body's lengths for suite s.
func (b *body) check(s Suite) error {
	if len(b.iv) != s.ivLen() {
		return formatErr("body IV of %d bytes, %s needs %d", len(b.iv), s, s.ivLen())
	}
	i, _ := s.info()
	switch i.mode {
	case modeGCM:
		if len(b.tag) != tagLen {
			return formatErr("body tag of %d bytes, want %d", len(b.tag), tagLen)
		}
	default:
		if len(b.tag) != 0 {
			return formatErr("%s body has a tag", s)
		}
	}
	switch i.mode {
	case modeCBC:
		if len(b.ct)%16 != 0 {
			return formatErr("CBC ciphertext of %d bytes", len(b.ct))
		}
	case modeCBCPKCS7:
		if len(b.ct)%16 != 0 || len(b.ct) == 0 {
			return formatErr("CBC ciphertext of %d bytes", len(b.ct))
		}
	}
	return nil
}

// appendHeadDER appends the DER header (Java's EncryptionHead). SET OF
// members are sorted by their encodings, as DER (and encoding/asn1) sorts.
func (h *header) appendHeadDER(dst []byte) ([]byte, error) {
	var keys, pairs [][]byte
	for _, k := range h.keys {
		raw, err := base64.StdEncoding.DecodeString(string(k.Blob))
		if err != nil {
			return nil, fmt.Errorf("aliesdk: encrypted data key under %s is not base64", k.KeyARN)
		}
		var e []byte
		e = appendTLV(e, tagOctetString, []byte(k.KeyARN))
		e = appendTLV(e, tagOctetString, raw)
		keys = append(keys, appendTLV(nil, tagSequence, e))
	}
	for _, p := range h.ctx {
		var e []byte
		e = appendTLV(e, tagOctetString, []byte(p.k))
		e = appendTLV(e, tagOctetString, []byte(p.v))
		pairs = append(pairs, appendTLV(nil, tagSequence, e))
	}
	var c []byte
	c = appendUint(c, h.version)
	c = appendUint(c, uint32(h.suite))
	c = appendTLV(c, tagSet, sortedConcat(keys))
	c = appendTLV(c, tagSet, sortedConcat(pairs))
	c = appendTLV(c, tagOctetString, h.iv)
	c = appendTLV(c, tagOctetString, h.tag)
	return appendTLV(dst, tagSequence, c), nil
}

func sortedConcat(elems [][]byte) []byte {
	slices.SortFunc(elems, bytes.Compare)
	return bytes.Join(elems, nil)
}

// asn1Size is the length of a container A message with this header and
// body sizes.
func asn1Size(headLen, ivLen, ctLen, tLen int) (total, outerContent, bodyContent int) {
	bodyContent = derSize(ivLen) + derSize(ctLen) + derSize(tLen)
	outerContent = headLen + derSize(bodyContent)
	return derSize(outerContent), outerContent, bodyContent
}

// appendASN1Prefix appends a container A message up to its ciphertext:
// outer, header, body and IV, and the ciphertext's own DER header. The
// ciphertext and the tag's OCTET STRING follow.
func appendASN1Prefix(dst, head, iv []byte, ctLen, tLen int) []byte {
	_, outer, bd := asn1Size(len(head), len(iv), ctLen, tLen)
	dst = appendHeader(dst, tagSequence, outer)
	dst = append(dst, head...)
	dst = appendHeader(dst, tagSequence, bd)
	dst = appendTLV(dst, tagOctetString, iv)
	return appendHeader(dst, tagOctetString, ctLen)
}

// asn1Frame returns a buffer holding the prefix, with capacity for the rest
// of the message, and the ciphertext's offset.
func asn1Frame(head, iv []byte, ctLen, tLen int) (buf []byte, ctOff int) {
	total, _, _ := asn1Size(len(head), len(iv), ctLen, tLen)
	buf = appendASN1Prefix(make([]byte, 0, total), head, iv, ctLen, tLen)
	return buf, len(buf)
}

// ---- container B: Java's stream format ----

// streamReader reads the binary header of container B with a byte budget.
type streamReader struct {
	r       io.Reader
	budget  int
	scratch [4]byte
}

func (s *streamReader) read(n int, what string) ([]byte, error) {
	if n > s.budget {
		return nil, fmt.Errorf("aliesdk: stream header: %s of %d bytes: %w", what, n, ErrLimit)
	}
	s.budget -= n
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, formatErr("stream header: truncated in %s", what)
		}
		return nil, err
	}
	return b, nil
}

func (s *streamReader) u32(what string, littleEndian bool) (int, error) {
	if s.budget < 4 {
		return 0, fmt.Errorf("aliesdk: stream header too long: %w", ErrLimit)
	}
	s.budget -= 4
	if _, err := io.ReadFull(s.r, s.scratch[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, formatErr("stream header: truncated in %s", what)
		}
		return 0, err
	}
	var v uint32
	if littleEndian {
		v = binary.LittleEndian.Uint32(s.scratch[:])
	} else {
		v = binary.BigEndian.Uint32(s.scratch[:])
	}
	if v > 1<<24 {
		return 0, formatErr("stream header: %s %d out of range", what, v)
	}
	return int(v), nil
}

func (s *streamReader) lenBytes(max int, what string) ([]byte, error) {
	n, err := s.u32(what+" length", false)
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, fmt.Errorf("aliesdk: stream header: %s of %d bytes, more than %d: %w", what, n, max, ErrLimit)
	}
	return s.read(n, what)
}

// maxStreamHeader bounds the header of container B.
func maxStreamHeader(maxKeys int) int {
	return 64 + MaxContextBytes + 8*MaxContextPairs + maxKeys*(8+maxARNLen+maxBlobLen)
}

// parseStreamHeader reads container B's header and the body IV from r.
// The rest of r is the body: ciphertext, then the tag for GCM.
func parseStreamHeader(r io.Reader, maxKeys int) (*header, []byte, error) {
	s := &streamReader{r: r, budget: maxStreamHeader(maxKeys)}
	h := &header{}
	v, err := s.u32("version", false)
	if err != nil {
		return nil, nil, err
	}
	alg, err := s.u32("algorithm", false)
	if err != nil {
		return nil, nil, err
	}
	h.version, h.suite = uint32(v), Suite(alg)
	if err := checkVersionSuite(h.version, h.suite); err != nil {
		return nil, nil, err
	}
	cb, err := s.lenBytes(4+MaxContextBytes+8*MaxContextPairs, "context")
	if err != nil {
		return nil, nil, err
	}
	if err := h.parseCtxBytes(cb); err != nil {
		return nil, nil, err
	}
	n, err := s.u32("key count", false)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return nil, nil, formatErr("no encrypted data key")
	}
	if n > maxKeys {
		return nil, nil, fmt.Errorf("aliesdk: %d encrypted data keys, more than %d: %w", n, maxKeys, ErrLimit)
	}
	for range n {
		arn, err := s.lenBytes(maxARNLen, "key ARN")
		if err != nil {
			return nil, nil, err
		}
		blob, err := s.lenBytes(maxBlobLen, "encrypted data key")
		if err != nil {
			return nil, nil, err
		}
		// The header tag covers the base64 text; only canonical text
		// round-trips through the DER container.
		raw, err := base64.StdEncoding.DecodeString(string(blob))
		if err != nil || base64.StdEncoding.EncodeToString(raw) != string(blob) {
			return nil, nil, formatErr("encrypted data key is not canonical base64")
		}
		if err := h.addKey(string(arn), blob, maxKeys); err != nil {
			return nil, nil, err
		}
	}
	if h.iv, err = s.lenBytes(gcmIVLen, "header IV"); err != nil {
		return nil, nil, err
	}
	if h.tag, err = s.lenBytes(tagLen, "header tag"); err != nil {
		return nil, nil, err
	}
	if err := h.checkIVTag(); err != nil {
		return nil, nil, err
	}
	ivLen, err := s.u32("body IV length", true)
	if err != nil {
		return nil, nil, err
	}
	if ivLen != h.suite.ivLen() {
		return nil, nil, formatErr("body IV of %d bytes, %s needs %d", ivLen, h.suite, h.suite.ivLen())
	}
	iv, err := s.read(ivLen, "body IV")
	if err != nil {
		return nil, nil, err
	}
	return h, iv, nil
}

// parseCtxBytes parses the serialized context, which must be canonical:
// sorted by key, no duplicates, no trailing bytes.
func (h *header) parseCtxBytes(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if len(b) < 4 {
		return formatErr("context: truncated")
	}
	n := int(binary.BigEndian.Uint32(b))
	b = b[4:]
	if n == 0 || n > MaxContextPairs {
		return formatErr("context of %d pairs", n)
	}
	field := func() ([]byte, error) {
		if len(b) < 4 {
			return nil, formatErr("context: truncated")
		}
		l := binary.BigEndian.Uint32(b)
		if uint64(l) > uint64(len(b)-4) {
			return nil, formatErr("context: truncated")
		}
		f := b[4 : 4+l]
		b = b[4+l:]
		return f, nil
	}
	ctxLen := 0
	for range n {
		k, err := field()
		if err != nil {
			return err
		}
		v, err := field()
		if err != nil {
			return err
		}
		if err := h.addPair(k, v, &ctxLen); err != nil {
			return err
		}
	}
	if len(b) != 0 {
		return formatErr("context: trailing bytes")
	}
	for i := 1; i < len(h.ctx); i++ {
		if h.ctx[i-1].k >= h.ctx[i].k {
			return formatErr("context keys not sorted or repeated")
		}
	}
	return nil
}

// appendStreamHeader appends container B's header and the body IV.
func (h *header) appendStreamHeader(dst, bodyIV []byte) []byte {
	keys := slices.Clone(h.keys)
	slices.SortFunc(keys, func(a, b EncryptedKey) int { return strings.Compare(a.KeyARN, b.KeyARN) })
	c := ctxBytes(h.ctx)
	dst = appendU32(dst, int(h.version))
	dst = appendU32(dst, int(h.suite))
	dst = appendU32(dst, len(c))
	dst = append(dst, c...)
	dst = appendU32(dst, len(keys))
	for _, k := range keys {
		dst = appendU32(dst, len(k.KeyARN))
		dst = append(dst, k.KeyARN...)
		dst = appendU32(dst, len(k.Blob))
		dst = append(dst, k.Blob...)
	}
	dst = appendU32(dst, len(h.iv))
	dst = append(dst, h.iv...)
	dst = appendU32(dst, len(h.tag))
	dst = append(dst, h.tag...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(bodyIV)))
	return append(dst, bodyIV...)
}
