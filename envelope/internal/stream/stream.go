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

// hasher computes HMAC-SHA256 on crypto/sha256 one compression at a time.
// A key's two pad blocks are compressed once and their chaining values kept
// (FIPS 198-1 §6 allows this precomputation), and a message of at most 55
// bytes, the key schedule's, is padded here into one final block: an HMAC
// under a kept key is two calls of the compression function, without the
// digest's Sum (a copy of the digest, the padding through a second Write):
// the key schedule's 14 compressions took 0.93 µs instead of 1.08 µs. The
// digest is set to a chaining value through its marshaled state, whose
// layout newHasher checks against sha256.Sum256; if a Go release changed
// it, the hasher falls back to crypto/hmac (same results, slower). Chaining
// values, blocks and the digest are keys: wiped when done. Hashers are
// pooled so that a message's key schedule allocates nothing; a hasher in the
// pool holds no state of any message (see release).
type hasher struct {
	h            hash.Hash
	st           state                  // h, for setting and reading its chaining value
	fast         bool                   // the marshaled layout is the one compress assumes
	buf          [stateSize]byte        // a marshaled state: magic ‖ chaining value ‖ block ‖ length
	blk          [sha256.BlockSize]byte // the block to compress
	inner, outer [sha256.Size]byte      // chaining values after the key's ipad / opad blocks
	iv           [sha256.Size]byte      // SHA-256's initial chaining value
	blank        [stateSize]byte        // the state of a fresh digest: what release restores
	sum          [sha256.Size]byte
	key          [sha256.BlockSize]byte // the key, kept only by the fallback
	keyLen       int
	ikm          [DataKeySize]byte // Derive's data key
	info         [64]byte
}

// stateSize is the length of a marshaled SHA-256 state in Go's encoding:
// "sha\x03", the eight chaining words big-endian, the buffered block (64
// bytes) and the length so far (8 bytes, big-endian).
const stateSize = 108

// maxShort is the longest message whose padding fits in its last block.
const maxShort = sha256.BlockSize - 9

// state is what a hasher needs from sha256.New's digest beyond hash.Hash.
type state interface {
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}

var hashers = sync.Pool{New: func() any { return newHasher() }}

func newHasher() *hasher {
	h := sha256.New()
	hs := &hasher{h: h, st: h.(state)}
	b, err := hs.st.AppendBinary(hs.blank[:0])
	if err != nil || len(b) != stateSize || string(b[:4]) != "sha\x03" {
		return hs // not the layout compress assumes: crypto/hmac it is
	}
	hs.buf = hs.blank
	copy(hs.iv[:], hs.blank[4:])
	// One block of "abc" must give sha256.Sum256's result.
	hs.fast = true
	copy(hs.blk[:], "abc")
	hs.blk[3] = 0x80
	binary.BigEndian.PutUint64(hs.blk[56:], 3*8)
	var got [sha256.Size]byte
	hs.compress(&hs.iv, &got)
	hs.fast = got == sha256.Sum256([]byte("abc"))
	hs.clean()
	return hs
}

func getHasher() *hasher { return hashers.Get().(*hasher) }

// release wipes every secret the hasher holds (chaining values, blocks, the
// digest's chaining value and buffered block, the last sum) and returns it
// to the pool.
func (hs *hasher) release() {
	hs.clean()
	hashers.Put(hs)
}

func (hs *hasher) clean() {
	clear(hs.inner[:])
	clear(hs.outer[:])
	clear(hs.blk[:])
	clear(hs.sum[:])
	clear(hs.key[:])
	clear(hs.ikm[:])
	hs.keyLen = 0
	hs.buf = hs.blank
	hs.restore(hs.blank[:])
}

func (hs *hasher) restore(st []byte) {
	if err := hs.st.UnmarshalBinary(st); err != nil {
		panic(err) // a state of the layout this hasher checked
	}
}

// compress sets *out to the chaining value after hs.blk, starting from cv:
// the digest is set to cv (after a multiple of 64 bytes, nothing buffered),
// the block goes straight to the compression function (a Write of a whole
// block with nothing buffered is not copied), and the new value is read
// back from the marshaled state. out may be cv.
func (hs *hasher) compress(cv, out *[sha256.Size]byte) {
	copy(hs.buf[4:], cv[:])
	hs.restore(hs.buf[:])
	hs.h.Write(hs.blk[:])
	if _, err := hs.st.AppendBinary(hs.buf[:0]); err != nil {
		panic(err) // crypto/sha256 always marshals
	}
	copy(out[:], hs.buf[4:])
}

// keyBlock puts key (at most one block) XOR b, padded with b, in hs.blk.
func (hs *hasher) keyBlock(key []byte, b byte) {
	w := uint64(b) * 0x0101010101010101
	for i := 0; i < sha256.BlockSize; i += 8 {
		binary.LittleEndian.PutUint64(hs.blk[i:], w)
	}
	i := 0
	for ; i+8 <= len(key); i += 8 {
		binary.LittleEndian.PutUint64(hs.blk[i:], binary.LittleEndian.Uint64(key[i:])^w)
	}
	for ; i < len(key); i++ {
		hs.blk[i] = key[i] ^ b
	}
}

// lastBlock puts a ‖ b (at most maxShort bytes) in hs.blk with SHA-256's
// padding for a message of one block (the pad block before it) plus a ‖ b.
func (hs *hasher) lastBlock(a, b []byte) {
	n := copy(hs.blk[:], a)
	n += copy(hs.blk[n:], b)
	hs.blk[n] = 0x80
	clear(hs.blk[n+1 : sha256.BlockSize-8])
	binary.BigEndian.PutUint64(hs.blk[sha256.BlockSize-8:], uint64(sha256.BlockSize+n)*8)
}

// setKey keys the hasher for HMAC-SHA256 (key at most one block): the
// chaining values after the ipad and opad blocks.
func (hs *hasher) setKey(key []byte) {
	if !hs.fast {
		clear(hs.key[:])
		hs.keyLen = copy(hs.key[:], key)
		return
	}
	hs.keyBlock(key, 0x36)
	hs.compress(&hs.iv, &hs.inner)
	hs.keyBlock(key, 0x5c)
	hs.compress(&hs.iv, &hs.outer)
	clear(hs.blk[:])
}

// mac returns HMAC-SHA256(key, a ‖ b) under the key of the last setKey.
func (hs *hasher) mac(a, b []byte) [sha256.Size]byte {
	if !hs.fast {
		m := hmac.New(sha256.New, hs.key[:hs.keyLen])
		m.Write(a)
		m.Write(b)
		m.Sum(hs.sum[:0])
		return hs.sum
	}
	if len(a)+len(b) <= maxShort {
		hs.lastBlock(a, b)
		hs.compress(&hs.inner, &hs.sum)
	} else {
		// The digest runs on from the inner chaining value and pads the
		// message itself.
		copy(hs.buf[4:], hs.inner[:])
		binary.BigEndian.PutUint64(hs.buf[stateSize-8:], sha256.BlockSize)
		hs.restore(hs.buf[:])
		hs.h.Write(a)
		hs.h.Write(b)
		hs.h.Sum(hs.sum[:0])
	}
	hs.lastBlock(hs.sum[:], nil)
	hs.compress(&hs.outer, &hs.sum)
	clear(hs.blk[:])
	return hs.sum
}

// macOnce is mac with a key used once.
func (hs *hasher) macOnce(key, a, b []byte) [sha256.Size]byte {
	hs.setKey(key)
	return hs.mac(a, b)
}

// expand is HKDF-Expand(PRK, info(label, suite), ≤ 32) with the hasher
// keyed by PRK: a single HMAC block, T(1) = HMAC(PRK, info ‖ 01).
func (hs *hasher) expand(label string, suite uint16) [sha256.Size]byte {
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
	// The data key goes through the hasher's own buffer: passed on as it
	// is, a caller's key on the stack would escape to the fallback's
	// digest.
	copy(hs.ikm[:], dataKey)
	prk := hs.macOnce(salt, hs.ikm[:], nil)
	hs.setKey(prk[:])
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
