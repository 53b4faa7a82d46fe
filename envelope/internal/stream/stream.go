// Package stream holds the cryptography of suite 1 (envelope/FORMAT.md §5):
// the HKDF-SHA256 key schedule, the key commitment, the header tag and the
// AES-256-GCM STREAM segments with nonce = prefix ‖ counter ‖ last flag.
package stream

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes.
const (
	DataKeySize    = 32
	SaltSize       = 32
	CommitmentSize = 32
	HeaderTagSize  = sha256.Size
	TagSize        = 16 // AES-GCM tag, the per-segment overhead
	NonceSize      = 12
	prefixSize     = 7
)

// ErrOpen is returned when a segment fails to authenticate.
var ErrOpen = errors.New("segment authentication failed")

// Keys are the per-message keys derived from a data key and a salt. Seal and
// Open take a lane: lanes are independent (each has its own AES-GCM instance
// and nonce buffer), so different lanes may be used from different goroutines
// at once.
type Keys struct {
	lanes      []lane
	one        [1]lane // the lane of a sequential message, without a slice of its own
	headerKey  [32]byte
	hasHeader  bool
	commitment [CommitmentSize]byte
	aad        [sha256.Size]byte // the message's header digest, every segment's AAD
}

// SetAAD keeps the message's header digest with the keys. AAD returns it as
// a slice of the Keys, so that passing it to the AEAD costs no allocation.
func (k *Keys) SetAAD(d [sha256.Size]byte) { k.aad = d }

// AAD returns what SetAAD kept.
func (k *Keys) AAD() []byte { return k.aad[:] }

type lane struct {
	aead  cipher.AEAD
	nonce [NonceSize]byte
}

const infoPrefix = "kmsshare-envelope v1 "

// Labels of the key schedule (FORMAT.md §5.1).
const (
	labelSegment    = "segment key"
	labelHeader     = "header key"
	labelCommitment = "commitment"
	labelPrefix     = "nonce prefix"
)

// hmacKey is an HMAC-SHA256 key (at most one block) with its pads computed
// once: the key schedule keys one instance with PRK and takes every expand
// from it. sum hashes short messages in a buffer on the stack, so deriving a
// message's keys allocates nothing.
type hmacKey struct{ ipad, opad [sha256.BlockSize]byte }

func newHMACKey(key []byte) hmacKey {
	var k hmacKey
	copy(k.ipad[:], key)
	copy(k.opad[:], key)
	for i := range k.ipad {
		k.ipad[i] ^= 0x36
		k.opad[i] ^= 0x5c
	}
	return k
}

func (k *hmacKey) wipe() {
	clear(k.ipad[:])
	clear(k.opad[:])
}

// stackMsg is the longest message sum hashes on the stack; longer ones (a
// header with many large encrypted data keys) go through a sha256 digest.
// shortMsg covers the key schedule's own messages (salt-keyed IKM, info
// strings), which then need only a small buffer to zero and wipe.
const (
	stackMsg = 1024
	shortMsg = 64
)

// sum returns HMAC-SHA256(key, a ‖ b).
func (k *hmacKey) sum(a, b []byte) [sha256.Size]byte {
	var inner [sha256.Size]byte
	switch n := len(a) + len(b); {
	case n <= shortMsg:
		var buf [sha256.BlockSize + shortMsg]byte
		inner = k.innerOn(buf[:], a, b)
	case n <= stackMsg:
		var buf [sha256.BlockSize + stackMsg]byte
		inner = k.innerOn(buf[:], a, b)
	default:
		h := sha256.New()
		h.Write(k.ipad[:])
		h.Write(a)
		h.Write(b)
		h.Sum(inner[:0])
	}
	var buf [sha256.BlockSize + sha256.Size]byte
	copy(buf[:], k.opad[:])
	copy(buf[sha256.BlockSize:], inner[:])
	out := sha256.Sum256(buf[:])
	clear(buf[:])
	return out
}

// innerOn returns SHA-256(ipad ‖ a ‖ b), hashed in buf, which it wipes.
func (k *hmacKey) innerOn(buf, a, b []byte) [sha256.Size]byte {
	n := copy(buf, k.ipad[:])
	n += copy(buf[n:], a)
	n += copy(buf[n:], b)
	sum := sha256.Sum256(buf[:n])
	clear(buf[:n])
	return sum
}

// expand is HKDF-Expand(PRK, info(label, suite), ≤ 32): a single HMAC
// block, T(1) = HMAC(PRK, info ‖ 01).
func (k *hmacKey) expand(label string, suite uint16) [sha256.Size]byte {
	var info [64]byte
	n := copy(info[:], infoPrefix)
	n += copy(info[n:], label)
	info[n], info[n+1], info[n+2] = byte(suite>>8), byte(suite), 1
	return k.sum(info[:n+3], nil)
}

// Derive runs the key schedule of FORMAT.md §5.1 for a message with the given
// suite, data key and salt, with lanes ≥ 1 independent segment ciphers. It
// wipes every intermediate secret it made; the caller still owns (and wipes)
// dataKey. Go's AES implementation keeps its expanded key schedule inside the
// cipher, where it cannot be wiped; it goes when the Keys are collected.
func Derive(suite uint16, dataKey, salt []byte, lanes int) (*Keys, error) {
	if len(dataKey) != DataKeySize {
		return nil, fmt.Errorf("data key has %d bytes, want %d", len(dataKey), DataKeySize)
	}
	if len(salt) != SaltSize {
		return nil, fmt.Errorf("salt has %d bytes, want %d", len(salt), SaltSize)
	}
	if lanes < 1 {
		lanes = 1
	}
	// HKDF-Extract is HMAC(salt, IKM); every output is one expand block of
	// the same PRK-keyed instance.
	ext := newHMACKey(salt)
	prk := ext.sum(dataKey, nil)
	ext.wipe()
	h := newHMACKey(prk[:])
	clear(prk[:])
	defer h.wipe()
	segKey := h.expand(labelSegment, suite)
	defer clear(segKey[:])
	k := &Keys{headerKey: h.expand(labelHeader, suite), hasHeader: true, commitment: h.expand(labelCommitment, suite)}
	prefix := h.expand(labelPrefix, suite)
	if lanes == 1 {
		k.lanes = k.one[:]
	} else {
		k.lanes = make([]lane, lanes)
	}
	for i := range k.lanes {
		block, err := aes.NewCipher(segKey[:])
		if err != nil {
			return nil, err
		}
		if k.lanes[i].aead, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
		copy(k.lanes[i].nonce[:], prefix[:prefixSize])
	}
	return k, nil
}

// Commitment returns the key commitment to store in the header.
func (k *Keys) Commitment() [CommitmentSize]byte { return k.commitment }

// CheckCommitment compares a stored commitment with the derived one in
// constant time.
func (k *Keys) CheckCommitment(stored []byte) bool {
	return subtle.ConstantTimeCompare(stored, k.commitment[:]) == 1
}

// HeaderTag returns HMAC-SHA256(K_header, authd).
func (k *Keys) HeaderTag(authd []byte) [HeaderTagSize]byte {
	if !k.hasHeader {
		return [HeaderTagSize]byte{} // wiped: a zero tag never verifies against a real one
	}
	h := newHMACKey(k.headerKey[:])
	defer h.wipe()
	return h.sum(authd, nil)
}

// CheckHeaderTag verifies a stored header tag in constant time.
func (k *Keys) CheckHeaderTag(authd, stored []byte) bool {
	if !k.hasHeader {
		return false
	}
	t := k.HeaderTag(authd)
	return hmac.Equal(t[:], stored)
}

// WipeHeaderKey zeroes the header key once the header is written or checked.
func (k *Keys) WipeHeaderKey() {
	clear(k.headerKey[:])
	k.hasHeader = false
}

// Lanes returns the number of independent lanes.
func (k *Keys) Lanes() int { return len(k.lanes) }

func (l *lane) setNonce(i uint32, last bool) {
	binary.BigEndian.PutUint32(l.nonce[prefixSize:], i)
	l.nonce[NonceSize-1] = 0
	if last {
		l.nonce[NonceSize-1] = 1
	}
}

// Seal appends segment i (sealed with the last flag and aad) to dst. To seal
// in place, pass plaintext[:0] as dst.
func (k *Keys) Seal(lane int, dst, plaintext []byte, i uint32, last bool, aad []byte) []byte {
	l := &k.lanes[lane]
	l.setNonce(i, last)
	return l.aead.Seal(dst, l.nonce[:], plaintext, aad)
}

// Open authenticates and decrypts segment i, appending the plaintext to dst.
// To open in place, pass ciphertext[:0] as dst. On failure it returns ErrOpen
// and no plaintext.
func (k *Keys) Open(lane int, dst, ciphertext []byte, i uint32, last bool, aad []byte) ([]byte, error) {
	l := &k.lanes[lane]
	l.setNonce(i, last)
	out, err := l.aead.Open(dst, l.nonce[:], ciphertext, aad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
