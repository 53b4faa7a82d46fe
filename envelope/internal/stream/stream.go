// Package stream holds the cryptography of suite 1 (envelope/FORMAT.md §5):
// the HKDF-SHA256 key schedule, the key commitment, the header tag and the
// AES-256-GCM STREAM segments with nonce = prefix ‖ counter ‖ last flag.
package stream

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
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
	headerKey  []byte
	commitment [CommitmentSize]byte
}

type lane struct {
	aead  cipher.AEAD
	nonce [NonceSize]byte
}

const infoPrefix = "kmsshare-envelope v1 "

func info(label string, suite uint16) string {
	return infoPrefix + label + string([]byte{byte(suite >> 8), byte(suite)})
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
	prk, err := hkdf.Extract(sha256.New, dataKey, salt)
	if err != nil {
		return nil, err
	}
	defer clear(prk)
	segKey, err := hkdf.Expand(sha256.New, prk, info("segment key", suite), 32)
	if err != nil {
		return nil, err
	}
	defer clear(segKey)
	k := &Keys{lanes: make([]lane, lanes)}
	if k.headerKey, err = hkdf.Expand(sha256.New, prk, info("header key", suite), 32); err != nil {
		return nil, err
	}
	c, err := hkdf.Expand(sha256.New, prk, info("commitment", suite), CommitmentSize)
	if err != nil {
		return nil, err
	}
	copy(k.commitment[:], c)
	prefix, err := hkdf.Expand(sha256.New, prk, info("nonce prefix", suite), prefixSize)
	if err != nil {
		return nil, err
	}
	for i := range k.lanes {
		block, err := aes.NewCipher(segKey)
		if err != nil {
			return nil, err
		}
		if k.lanes[i].aead, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
		copy(k.lanes[i].nonce[:], prefix)
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
	var t [HeaderTagSize]byte
	if k.headerKey == nil {
		return t // wiped: a zero tag never verifies against a real one
	}
	m := hmac.New(sha256.New, k.headerKey)
	m.Write(authd)
	m.Sum(t[:0])
	return t
}

// CheckHeaderTag verifies a stored header tag in constant time.
func (k *Keys) CheckHeaderTag(authd, stored []byte) bool {
	if k.headerKey == nil {
		return false
	}
	t := k.HeaderTag(authd)
	return hmac.Equal(t[:], stored)
}

// WipeHeaderKey zeroes the header key once the header is written or checked.
func (k *Keys) WipeHeaderKey() {
	clear(k.headerKey)
	k.headerKey = nil
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
