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
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
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

// hasher is a SHA-256 instance that computes HMAC-SHA256 with the pads'
// states saved: after the key block, the inner and outer states are kept
// (marshaled), so each further HMAC under the same key costs one
// compression for a short message and one for the outer hash, instead of
// four. FIPS 198-1 §6 allows this precomputation; the saved states are
// treated as keys: wiped when the key is done. Hashers are pooled so that a
// message's key schedule allocates nothing; a hasher in the pool holds no
// state of any message (see release).
type hasher struct {
	h            hash.Hash
	st           state           // h, for saving and restoring
	inner, outer [stateSize]byte // marshaled states after ipad / opad; secret
	blank        [stateSize]byte // the state of a fresh digest: what release restores
	pad          [sha256.BlockSize]byte
	sum          [sha256.Size]byte
	out          [sha256.Size]byte
	info         [64]byte
}

// stateSize is the length of a marshaled SHA-256 state in Go's encoding.
const stateSize = 108

// state is what a hasher needs from sha256.New's digest beyond hash.Hash.
type state interface {
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}

var hashers = sync.Pool{New: func() any {
	h := sha256.New()
	hs := &hasher{h: h, st: h.(state)}
	if _, err := hs.st.AppendBinary(hs.blank[:0]); err != nil {
		panic(err) // crypto/sha256 always marshals
	}
	return hs
}}

func getHasher() *hasher { return hashers.Get().(*hasher) }

// release wipes every secret the hasher holds (the saved states, the
// digest's chaining value and buffered block, the last sum and pad) and
// returns it to the pool.
func (hs *hasher) release() {
	hs.clean()
	hashers.Put(hs)
}

func (hs *hasher) clean() {
	clear(hs.inner[:])
	clear(hs.outer[:])
	clear(hs.pad[:])
	clear(hs.sum[:])
	clear(hs.out[:])
	hs.restore(hs.blank[:])
}

func (hs *hasher) restore(st []byte) {
	if err := hs.st.UnmarshalBinary(st); err != nil {
		panic(err) // a state this hasher marshaled itself
	}
}

func (hs *hasher) save(st []byte) {
	if _, err := hs.st.AppendBinary(st[:0]); err != nil {
		panic(err)
	}
}

// writePad feeds key (at most one block) XOR b, padded to a block.
func (hs *hasher) writePad(key []byte, b byte) {
	clear(hs.pad[:])
	copy(hs.pad[:], key)
	for i := range hs.pad {
		hs.pad[i] ^= b
	}
	hs.h.Write(hs.pad[:])
}

// key keys the hasher for HMAC-SHA256 (key at most one block) and saves the
// two pad states.
func (hs *hasher) key(key []byte) {
	hs.h.Reset()
	hs.writePad(key, 0x36)
	hs.save(hs.inner[:])
	hs.h.Reset()
	hs.writePad(key, 0x5c)
	hs.save(hs.outer[:])
	clear(hs.pad[:])
}

// mac returns HMAC-SHA256(key, a ‖ b) under the key of the last call of key.
func (hs *hasher) mac(a, b []byte) [sha256.Size]byte {
	hs.restore(hs.inner[:])
	hs.h.Write(a)
	hs.h.Write(b)
	inner := hs.h.Sum(hs.sum[:0])
	hs.restore(hs.outer[:])
	hs.h.Write(inner)
	hs.h.Sum(hs.out[:0])
	return hs.out
}

// macOnce is mac with a key used only once: the pads go straight into the
// digest, unsaved.
func (hs *hasher) macOnce(key, a, b []byte) [sha256.Size]byte {
	hs.h.Reset()
	hs.writePad(key, 0x36)
	hs.h.Write(a)
	hs.h.Write(b)
	inner := hs.h.Sum(hs.sum[:0])
	hs.h.Reset()
	hs.writePad(key, 0x5c)
	hs.h.Write(inner)
	hs.h.Sum(hs.out[:0])
	return hs.out
}

// expand is HKDF-Expand(PRK, info(label, suite), ≤ 32) with the hasher
// keyed by PRK: a single HMAC block, T(1) = HMAC(PRK, info ‖ 01).
func (hs *hasher) expand(label string, suite uint16) [sha256.Size]byte {
	// The info is built in the hasher: a buffer on the stack would escape
	// to the digest's Write.
	n := copy(hs.info[:], infoPrefix)
	n += copy(hs.info[n:], label)
	hs.info[n], hs.info[n+1], hs.info[n+2] = byte(suite>>8), byte(suite), 1
	return hs.mac(hs.info[:n+3], nil)
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
	// the PRK-keyed hasher.
	hs := getHasher()
	defer hs.release()
	prk := hs.macOnce(salt, dataKey, nil)
	hs.key(prk[:])
	clear(prk[:])
	segKey := hs.expand(labelSegment, suite)
	defer clear(segKey[:])
	k := &Keys{headerKey: hs.expand(labelHeader, suite), hasHeader: true, commitment: hs.expand(labelCommitment, suite)}
	prefix := hs.expand(labelPrefix, suite)
	defer clear(prefix[:])
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
	hs := getHasher()
	defer hs.release()
	return hs.macOnce(k.headerKey[:], authd, nil)
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
