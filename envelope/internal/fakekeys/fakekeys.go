// Package fakekeys is an in-memory key service for envelope's tests,
// examples and benchmarks. It behaves like KMS where envelope can tell:
// GenerateDataKey returns a fresh data key with an opaque blob, Decrypt
// infers the master key from the blob (as KMS does) and refuses a blob made
// under a different key than the one named, or with another encryption
// context. It keeps a request log so tests can count round trips, and can be
// told to fail.
//
// It is a test double: master keys live in process memory and vanish with it.
package fakekeys

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// Operation names in the request log, as KMS names them.
const (
	OpGenerateDataKey = "GenerateDataKey"
	OpEncrypt         = "Encrypt"
	OpDecrypt         = "Decrypt"
	OpDescribeKey     = "DescribeKey"
)

// MaxEncryptPlaintext is KMS Encrypt's documented plaintext limit (6 KB).
const MaxEncryptPlaintext = 6144

// Call is one entry of the request log.
type Call struct {
	Op     string
	KeyARN string
}

// Service is the fake. The zero value is not usable; call New.
type Service struct {
	mu       sync.Mutex
	keys     map[string]cipher.AEAD
	macKeys  map[string][]byte
	dataKeys io.Reader
	fail     map[Call]error
	calls    []Call
	counts   map[string]int // by op; kept even when the log is off
	nolog    bool
}

// New returns a Service holding a fresh random master key for each ARN.
func New(keyARNs ...string) *Service {
	s := &Service{
		keys:     make(map[string]cipher.AEAD),
		macKeys:  make(map[string][]byte),
		dataKeys: randomKeys(),
		fail:     make(map[Call]error),
		counts:   make(map[string]int),
	}
	for _, a := range keyARNs {
		s.AddKey(a)
	}
	return s
}

// AddKey creates a master key for keyARN (a no-op if it exists).
func (s *Service) AddKey(keyARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[keyARN]; ok {
		return
	}
	material := make([]byte, 64)
	rand.Read(material) // never fails since Go 1.24
	block, _ := aes.NewCipher(material[:32])
	s.keys[keyARN], _ = cipher.NewGCM(block)
	s.macKeys[keyARN] = material[32:]
}

// randomKeys reads crypto/rand a page at a time: a getrandom call per data
// key would be most of what a fake GenerateDataKey costs, which KMS's
// network round trip hides but a benchmark with an in-process key service
// does not.
func randomKeys() io.Reader { return bufio.NewReaderSize(rand.Reader, 4096) }

// SetDataKeys makes GenerateDataKey read its data keys from r (for
// deterministic tests). nil restores crypto/rand.
func (s *Service) SetDataKeys(r io.Reader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r == nil {
		r = randomKeys()
	}
	s.dataKeys = r
}

// FailOn makes every call of op under keyARN fail with err; nil err clears it.
func (s *Service) FailOn(op, keyARN string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.fail, Call{op, keyARN})
		return
	}
	s.fail[Call{op, keyARN}] = err
}

// Calls returns a copy of the request log.
func (s *Service) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Count returns how many calls of op were made since New or ResetLog.
func (s *Service) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

// ResetLog empties the request log and the counts.
func (s *Service) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	clear(s.counts)
}

// KeepLog turns the request log on (the default) or off. Counts are kept
// either way. Benchmarks turn it off: a log that grows by one entry per
// call would cost them memory and collector time a real key service does
// not.
func (s *Service) KeepLog(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nolog = !on
}

// String names the fake without revealing key material.
func (s *Service) String() string { return "fakekeys.Service" }

// GoString is String, so %#v does not print key material either.
func (s *Service) GoString() string { return s.String() }

// Denied returns the error KMS gives for an access denial, as the KMS
// adapter would classify it.
func Denied(action string) error {
	return &cloudapi.Error{Service: "kms", Action: action, Code: "Forbidden.NoPermission", HTTPStatus: 403,
		Message: "This operation is forbidden by permission system.", Class: cloudapi.ErrAccessDenied,
		Err: errors.New("fake denial")}
}

// NotFound returns the error KMS gives for an unknown key.
func NotFound(action string) error {
	return &cloudapi.Error{Service: "kms", Action: action, Code: "Forbidden.KeyNotFound", HTTPStatus: 404,
		Message: "The specified Key is not found.", Class: cloudapi.ErrNotFound, Err: errors.New("fake: no such key")}
}

// invalid is the error for a blob KMS cannot decrypt (code assumed, kms.md §10.2).
func invalid(action, msg string) error {
	return &cloudapi.Error{Service: "kms", Action: action, Code: "InvalidParameter", HTTPStatus: 400,
		Message: "The specified parameter is not valid.", Class: cloudapi.ErrInvalidParameter, Err: errors.New("fake: " + msg)}
}

func (s *Service) begin(ctx context.Context, op, keyARN string) (cipher.AEAD, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.record(op, keyARN)
}

// record logs and counts a call, and returns the key it names; s.mu is held.
func (s *Service) record(op, keyARN string) (cipher.AEAD, []byte, error) {
	s.counts[op]++
	if !s.nolog {
		s.calls = append(s.calls, Call{op, keyARN})
	}
	if len(s.fail) > 0 {
		if err := s.fail[Call{op, keyARN}]; err != nil {
			return nil, nil, err
		}
	}
	aead, ok := s.keys[keyARN]
	if !ok {
		return nil, nil, NotFound(op)
	}
	return aead, s.macKeys[keyARN], nil
}

// GenerateDataKey returns a fresh 32-byte data key and its blob.
func (s *Service) GenerateDataKey(ctx context.Context, keyARN string, encCtx map[string]string) (plaintext, blob []byte, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	dk := make([]byte, 32)
	s.mu.Lock()
	aead, mac, err := s.record(OpGenerateDataKey, keyARN)
	if err == nil {
		if _, err = io.ReadFull(s.dataKeys, dk); err != nil {
			err = fmt.Errorf("fakekeys: data key source: %w", err)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	return dk, seal(aead, mac, keyARN, dk, encCtx), nil
}

// Encrypt encrypts up to 6 KB under keyARN.
func (s *Service) Encrypt(ctx context.Context, keyARN string, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	aead, mac, err := s.begin(ctx, OpEncrypt, keyARN)
	if err != nil {
		return nil, err
	}
	if len(plaintext) == 0 || len(plaintext) > MaxEncryptPlaintext {
		return nil, invalid(OpEncrypt, "plaintext size")
	}
	return seal(aead, mac, keyARN, plaintext, encCtx), nil
}

// Decrypt decrypts a blob. Like KMS it finds the master key in the blob; it
// refuses the blob if that key is not keyARN.
func (s *Service) Decrypt(ctx context.Context, keyARN string, blob []byte, encCtx map[string]string) ([]byte, error) {
	aead, _, err := s.begin(ctx, OpDecrypt, keyARN)
	if err != nil {
		return nil, err
	}
	inner, rest, ok := splitBlob(blob)
	if !ok {
		return nil, invalid(OpDecrypt, "malformed blob")
	}
	if string(inner) != keyARN {
		// Under another key than the one named (begin found keyARN's):
		// a mismatch if the service holds that key, else an unknown key.
		s.mu.Lock()
		_, known := s.keys[string(inner)]
		s.mu.Unlock()
		if !known {
			return nil, invalid(OpDecrypt, "blob under an unknown key")
		}
		return nil, fmt.Errorf("fakekeys: blob is under %s, not %s: %w", inner, keyARN, ErrKeyMismatch)
	}
	nonce, ct := rest[:12], rest[12:]
	// One allocation: the plaintext, with the AAD after it (the AAD is
	// public; a buffer on the stack would escape to the AEAD anyway).
	n := len(ct) - 16
	buf := make([]byte, n, n+aadLen(keyARN, encCtx))
	a := aad(buf[n:], keyARN, encCtx)
	pt, err := aead.Open(buf[:0], nonce, ct, a)
	if err != nil {
		return nil, invalid(OpDecrypt, "blob or encryption context does not authenticate")
	}
	return pt[:n:n], nil
}

// ErrKeyMismatch is what Decrypt wraps when a blob is under another key
// than the one asked for; it is envelope.ErrKeyMismatch.
var ErrKeyMismatch = format.ErrKeyMismatch

// ResolveKey returns keyARN if the service holds that key (envelope's
// KeyResolver, for discovery).
func (s *Service) ResolveKey(ctx context.Context, keyARN string) (string, error) {
	if _, _, err := s.begin(ctx, OpDescribeKey, keyARN); err != nil {
		return "", err
	}
	return keyARN, nil
}

const blobMagic = "fk1:"

// seal makes a self-describing blob: "fk1:" ‖ u16 len ‖ ARN ‖ nonce ‖ GCM.
// The nonce is derived (SIV style, from a keyed hash of the context and the
// plaintext) so the fake is deterministic given its data keys. A
// benchmark's key service should cost little: the hash input is on the
// stack, and the blob's one allocation also holds the AAD, after the blob.
func seal(aead cipher.AEAD, macKey []byte, keyARN string, pt []byte, encCtx map[string]string) []byte {
	n := len(blobMagic) + 2 + len(keyARN) + 12 + len(pt) + 16
	b := make([]byte, 0, n+aadLen(keyARN, encCtx))
	a := aad(b[n:n], keyARN, encCtx)
	var in [512]byte // grows onto the heap only for a long context or plaintext
	nonce := sha256.Sum256(append(append(append(in[:0], macKey...), a...), pt...))
	clear(in[:])
	b = append(b, blobMagic...)
	b = append(b, byte(len(keyARN)>>8), byte(len(keyARN)))
	b = append(b, keyARN...)
	b = append(b, nonce[:12]...)
	clear(nonce[:])
	// The nonce is passed from the blob: a copy on the stack would escape.
	return aead.Seal(b, b[len(b)-12:], pt, a)[:n:n]
}

func splitBlob(blob []byte) (keyARN, rest []byte, ok bool) {
	if len(blob) < len(blobMagic)+2 || string(blob[:len(blobMagic)]) != blobMagic {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(blob[len(blobMagic):]))
	body := blob[len(blobMagic)+2:]
	if len(body) < n+12+16 {
		return nil, nil, false
	}
	return body[:n], body[n:], true
}

// aadLen is the length of aad's output.
func aadLen(keyARN string, encCtx map[string]string) int {
	n := 4 + len(keyARN)
	for k, v := range encCtx {
		n += 8 + len(k) + len(v)
	}
	return n
}

// aad binds the key and the encryption context (sorted, length-prefixed),
// appended to dst.
func aad(dst []byte, keyARN string, encCtx map[string]string) []byte {
	var kb [8]string
	keys := kb[:0]
	for k := range encCtx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := binary.BigEndian.AppendUint32(dst, uint32(len(keyARN)))
	b = append(b, keyARN...)
	for _, k := range keys {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(encCtx[k])))
		b = append(b, encCtx[k]...)
	}
	return b
}
