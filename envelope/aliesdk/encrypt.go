package aliesdk

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/kmsshare/kmsshare/envelope"
)

// maxPlaintext bounds what Encrypt accepts: DER lengths here use at most
// four bytes.
const maxPlaintext = 1<<32 - 1<<16

// Encryptor writes messages of the format. Its fields are read, never
// written, by its methods: one Encryptor may serve many goroutines.
type Encryptor struct {
	// Keys are the master keys, at least one and at most MaxEncryptedKeys,
	// each ARN once. As in the SDKs, KMS GenerateDataKey makes the data key
	// under Keys[0]; each further key in the same region gets it by KMS
	// ReEncrypt (if its service is a ReEncrypter), one in another region by
	// KMS Encrypt.
	Keys []envelope.MasterKey

	// Suite is the algorithm suite: AES256GCM (the default, for 0),
	// AES128GCM or SM4GCM. Suites without a body tag are never written.
	// The 16-byte suites need a key service that is a DataKeyGenerator.
	Suite Suite

	// Cache, if set, lets messages with the same suite, master keys and
	// context share a data key within the cache's limits.
	Cache *Cache

	// MaxSize bounds the plaintext FromEnvelope buffers; 0 means
	// DefaultMaxSize.
	MaxSize int64

	// Rand is the source of the two IVs per message (header first, then
	// body, as the Java SDK draws them); nil means crypto/rand.
	Rand io.Reader
}

func (e *Encryptor) suite() (Suite, error) {
	s := e.Suite
	if s == 0 {
		s = AES256GCM
	}
	if _, ok := s.info(); !ok {
		return 0, fmt.Errorf("aliesdk: algorithm suite %d: %w", uint32(s), ErrUnsupported)
	}
	if !s.Authenticated() {
		return 0, fmt.Errorf("aliesdk: %s does not authenticate the body and is never written: %w", s, ErrUnsupported)
	}
	return s, nil
}

// Encrypt encrypts plaintext into a message in the ASN.1 format (container
// A), which the SDKs' AliyunCrypto.decrypt reads. The encryption context
// (may be nil) is sent to KMS, stored in the message and authenticated.
func (e *Encryptor) Encrypt(ctx context.Context, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	s, err := e.suite()
	if err != nil {
		return nil, err
	}
	return e.encryptASN1(ctx, s, plaintext, encCtx)
}

// EncryptStream encrypts plaintext into a message in the Java SDK's stream
// format (container B), which its CryptoInputStream reads.
func (e *Encryptor) EncryptStream(ctx context.Context, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	s, err := e.suite()
	if err != nil {
		return nil, err
	}
	return e.encryptStream(ctx, s, plaintext, encCtx)
}

func (e *Encryptor) encryptASN1(ctx context.Context, s Suite, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	n := len(plaintext)
	ctLen, tLen, err := bodyLens(s, n)
	if err != nil {
		return nil, err
	}
	h, key, bodyIV, err := e.start(ctx, s, encCtx, n)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	head, err := h.appendHeadDER(nil)
	if err != nil {
		return nil, err
	}
	buf, ctOff := asn1Frame(head, bodyIV, ctLen, tLen)
	if buf, err = sealBody(s, key, bodyIV, buf, plaintext, ctxBytes(h.ctx)); err != nil {
		return nil, err
	}
	// Sealing wrote ciphertext‖tag; DER wants the tag in an OCTET STRING of
	// its own: make room for its two header bytes.
	buf = append(buf, 0, 0)
	copy(buf[ctOff+ctLen+2:], buf[ctOff+ctLen:ctOff+ctLen+tLen])
	buf[ctOff+ctLen], buf[ctOff+ctLen+1] = tagOctetString, byte(tLen)
	return buf, nil
}

func (e *Encryptor) encryptStream(ctx context.Context, s Suite, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	ctLen, tLen, err := bodyLens(s, len(plaintext))
	if err != nil {
		return nil, err
	}
	h, key, bodyIV, err := e.start(ctx, s, encCtx, len(plaintext))
	if err != nil {
		return nil, err
	}
	defer clear(key)
	hdr := h.appendStreamHeader(nil, bodyIV)
	out := make([]byte, len(hdr), len(hdr)+ctLen+tLen)
	copy(out, hdr)
	return sealBody(s, key, bodyIV, out, plaintext, ctxBytes(h.ctx))
}

// start checks the request, gets the data key (from the cache or KMS), and
// makes the header with its tag. The caller wipes key.
func (e *Encryptor) start(ctx context.Context, s Suite, encCtx map[string]string, n int) (h *header, key, bodyIV []byte, err error) {
	if n > maxPlaintext {
		return nil, nil, nil, fmt.Errorf("aliesdk: plaintext of %d bytes: %w", n, ErrLimit)
	}
	if err := checkKeys(e.Keys, "Encryptor.Keys"); err != nil {
		return nil, nil, nil, err
	}
	pairs, err := contextPairs(encCtx)
	if err != nil {
		return nil, nil, nil, err
	}
	key, edks, err := e.dataKey(ctx, s, pairs, encCtx, uint64(n))
	if err != nil {
		return nil, nil, nil, err
	}
	ivs := make([]byte, gcmIVLen+s.ivLen())
	r := e.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, ivs); err != nil {
		clear(key)
		return nil, nil, nil, fmt.Errorf("aliesdk: reading IVs: %w", err)
	}
	h = &header{version: formatVersion, suite: s, keys: edks, ctx: pairs, iv: ivs[:gcmIVLen]}
	if h.tag, err = headerTag(s, key, h.iv, h.authBytes()); err != nil {
		clear(key)
		return nil, nil, nil, err
	}
	return h, key, ivs[gcmIVLen:], nil
}

// dataKey returns a data key for suite s and its encrypted forms, one per
// master key, in Keys order.
func (e *Encryptor) dataKey(ctx context.Context, s Suite, pairs []pair, encCtx map[string]string, n uint64) ([]byte, []EncryptedKey, error) {
	arns := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		arns[i] = k.ARN
	}
	var id string
	if e.Cache != nil {
		id = cacheKey(s, sortedARNs(arns), pairs)
		if key, edks, ok := e.Cache.get(id, n); ok {
			return key, edks, nil
		}
	}
	first := e.Keys[0]
	var pt, blob []byte
	var err error
	switch g, ok := first.Service.(DataKeyGenerator); {
	case ok:
		pt, blob, err = g.GenerateDataKeySize(ctx, first.ARN, s.KeySize(), encCtx)
	case s.KeySize() == 32:
		pt, blob, err = first.Service.GenerateDataKey(ctx, first.ARN, encCtx)
	default:
		err = fmt.Errorf("aliesdk: %s needs a %d-byte data key and the key service makes 32-byte keys only (use aliesdk.NewKMS): %w", s, s.KeySize(), ErrUnsupported)
	}
	if err == nil && len(pt) != s.KeySize() {
		clear(pt)
		err = fmt.Errorf("aliesdk: key service returned a %d-byte data key for %s", len(pt), s)
	}
	if err != nil {
		return nil, nil, &envelope.KeyError{KeyARN: first.ARN, Op: "GenerateDataKey", Err: err}
	}
	edks := []EncryptedKey{{KeyARN: first.ARN, Blob: blob}}
	firstRegion := region(first.ARN)
	for _, k := range e.Keys[1:] {
		var b []byte
		op := "Encrypt"
		if re, ok := k.Service.(ReEncrypter); ok && region(k.ARN) == firstRegion {
			op = "ReEncrypt"
			b, err = re.ReEncrypt(ctx, first.ARN, blob, k.ARN, encCtx)
		} else {
			b, err = k.Service.Encrypt(ctx, k.ARN, pt, encCtx)
		}
		if err != nil {
			clear(pt)
			return nil, nil, &envelope.KeyError{KeyARN: k.ARN, Op: op, Err: err}
		}
		edks = append(edks, EncryptedKey{KeyARN: k.ARN, Blob: b})
	}
	if e.Cache != nil {
		e.Cache.put(id, pt, edks, n)
	}
	return pt, edks, nil
}
