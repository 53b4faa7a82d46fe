package stream

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"
)

func testKeys(t testing.TB, lanes int) *Keys {
	t.Helper()
	k, err := Derive(1, bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32), lanes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// hkdf32 is RFC 5869 for a 32-byte output written out by hand, to check the
// library call and the info strings against FORMAT.md §5.1 independently.
func hkdf32(ikm, salt []byte, info string) []byte {
	ext := hmac.New(sha256.New, salt)
	ext.Write(ikm)
	prk := ext.Sum(nil)
	exp := hmac.New(sha256.New, prk)
	exp.Write([]byte(info))
	exp.Write([]byte{1})
	return exp.Sum(nil)
}

func TestKeySchedule(t *testing.T) {
	t.Parallel()
	dk, salt := bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32)
	k := testKeys(t, 1)
	c := k.Commitment()
	if want := hkdf32(dk, salt, "kmsshare-envelope v1 commitment\x00\x01"); !bytes.Equal(c[:], want) {
		t.Errorf("commitment = %x, want %x", c, want)
	}
	authd := []byte("header bytes")
	tag := k.HeaderTag(authd)
	hk := hkdf32(dk, salt, "kmsshare-envelope v1 header key\x00\x01")
	m := hmac.New(sha256.New, hk)
	m.Write(authd)
	if want := m.Sum(nil); !bytes.Equal(tag[:], want) {
		t.Errorf("header tag = %x, want %x", tag, want)
	}

	// A segment sealed with an independently built AES-GCM and nonce opens.
	segKey := hkdf32(dk, salt, "kmsshare-envelope v1 segment key\x00\x01")
	prefix := hkdf32(dk, salt, "kmsshare-envelope v1 nonce prefix\x00\x01")[:7]
	block, _ := aes.NewCipher(segKey)
	gcm, _ := cipher.NewGCM(block)
	nonce := append(append(bytes.Clone(prefix), 0, 0, 1, 2), 1) // counter 258, last
	ct := gcm.Seal(nil, nonce, []byte("segment"), []byte("aad"))
	pt, err := k.Open(0, nil, ct, 258, true, []byte("aad"))
	if err != nil || string(pt) != "segment" {
		t.Errorf("Open of an independently sealed segment: %q, %v", pt, err)
	}
}

func TestDeriveRejectsBadSizes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ dk, salt int }{{31, 32}, {33, 32}, {32, 31}, {0, 0}} {
		if _, err := Derive(1, make([]byte, tt.dk), make([]byte, tt.salt), 1); err == nil {
			t.Errorf("Derive accepted a %d-byte key and a %d-byte salt", tt.dk, tt.salt)
		}
	}
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k := testKeys(t, 3)
	aad := []byte("digest")
	pt := []byte("some plaintext of a segment")
	ct := k.Seal(0, nil, pt, 7, false, aad)
	if len(ct) != len(pt)+TagSize {
		t.Fatalf("sealed %d bytes into %d", len(pt), len(ct))
	}
	// Every lane seals identically: lanes only exist for concurrency.
	for lane := 1; lane < k.Lanes(); lane++ {
		if got := k.Seal(lane, nil, pt, 7, false, aad); !bytes.Equal(got, ct) {
			t.Errorf("lane %d seals differently", lane)
		}
	}
	tests := []struct {
		name    string
		i       uint32
		last    bool
		aad     string
		flipBit int
		ok      bool
	}{
		{"right", 7, false, "digest", -1, true},
		{"other counter", 8, false, "digest", -1, false},
		{"last flag", 7, true, "digest", -1, false},
		{"other aad", 7, false, "digesT", -1, false},
		{"flipped tag", 7, false, "digest", 8 * (len(ct) - 1), false},
		{"flipped ciphertext", 7, false, "digest", 3, false},
	}
	for _, tt := range tests {
		c := bytes.Clone(ct)
		if tt.flipBit >= 0 {
			c[tt.flipBit/8] ^= 1 << (tt.flipBit % 8)
		}
		got, err := k.Open(1, nil, c, tt.i, tt.last, []byte(tt.aad))
		if tt.ok != (err == nil) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if err != nil && (got != nil || !errors.Is(err, ErrOpen)) {
			t.Errorf("%s: failed Open returned %q, %v", tt.name, got, err)
		}
		if tt.ok && !bytes.Equal(got, pt) {
			t.Errorf("%s: plaintext %q", tt.name, got)
		}
	}
}

func TestSealInPlace(t *testing.T) {
	t.Parallel()
	k := testKeys(t, 1)
	buf := make([]byte, 10, 10+TagSize)
	copy(buf, "0123456789")
	want := k.Seal(0, nil, buf, 0, true, nil)
	got := k.Seal(0, buf[:0], buf, 0, true, nil)
	if !bytes.Equal(got, want) {
		t.Fatal("in-place seal differs")
	}
	pt, err := k.Open(0, got[:0], got, 0, true, nil)
	if err != nil || string(pt) != "0123456789" {
		t.Fatalf("in-place open: %q, %v", pt, err)
	}
}

func TestCommitmentAndTagDependOnKeyAndSalt(t *testing.T) {
	t.Parallel()
	base := testKeys(t, 1)
	other, _ := Derive(1, bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x23}, 32), 1)
	otherKey, _ := Derive(1, bytes.Repeat([]byte{0x12}, 32), bytes.Repeat([]byte{0x22}, 32), 1)
	otherSuite, _ := Derive(2, bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32), 1)
	c := base.Commitment()
	for name, k := range map[string]*Keys{"salt": other, "key": otherKey, "suite": otherSuite} {
		if k.CheckCommitment(c[:]) {
			t.Errorf("another %s gives the same commitment", name)
		}
		tag := base.HeaderTag([]byte("h"))
		if k.CheckHeaderTag([]byte("h"), tag[:]) {
			t.Errorf("another %s verifies the header tag", name)
		}
	}
	if !base.CheckCommitment(c[:]) || base.CheckCommitment(c[:31]) {
		t.Error("CheckCommitment is wrong about its own commitment")
	}
}

func TestWipeHeaderKey(t *testing.T) {
	t.Parallel()
	k := testKeys(t, 1)
	tag := k.HeaderTag([]byte("h"))
	k.WipeHeaderKey()
	if k.headerKey != [32]byte{} {
		t.Error("header key not zeroed")
	}
	if k.CheckHeaderTag([]byte("h"), tag[:]) {
		t.Error("a wiped key still verifies")
	}
}

func BenchmarkDerive(b *testing.B) {
	dk, salt := make([]byte, 32), make([]byte, 32)
	for b.Loop() {
		if _, err := Derive(1, dk, salt, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// TestKeyScheduleMatchesHKDF checks the single-instance key schedule against
// crypto/hkdf, and the header tag against crypto/hmac for messages around
// SHA-256's block and padding boundaries.
func TestKeyScheduleMatchesHKDF(t *testing.T) {
	t.Parallel()
	dk, salt := bytes.Repeat([]byte{0x31}, 32), bytes.Repeat([]byte{0x42}, 32)
	k, err := Derive(1, dk, salt, 1)
	if err != nil {
		t.Fatal(err)
	}
	prk, _ := hkdf.Extract(sha256.New, dk, salt)
	commit, _ := hkdf.Expand(sha256.New, prk, "kmsshare-envelope v1 commitment\x00\x01", 32)
	if c := k.Commitment(); !bytes.Equal(c[:], commit) {
		t.Errorf("commitment %x, crypto/hkdf says %x", c, commit)
	}
	hk, _ := hkdf.Expand(sha256.New, prk, "kmsshare-envelope v1 header key\x00\x01", 32)
	for _, n := range []int{0, 1, 55, 56, 63, 64, 65, 119, 120, 1024, 70000} {
		authd := bytes.Repeat([]byte{byte(n)}, n)
		m := hmac.New(sha256.New, hk)
		m.Write(authd)
		if got := k.HeaderTag(authd); !bytes.Equal(got[:], m.Sum(nil)) {
			t.Errorf("header tag over %d bytes differs from crypto/hmac", n)
		}
	}
}

func TestDeriveAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	dk, salt := make([]byte, 32), make([]byte, 32)
	n := testing.AllocsPerRun(100, func() {
		k, _ := Derive(1, dk, salt, 1)
		k.HeaderTag(make([]byte, 300))
	})
	// Keys, and Go's AES block and GCM (not poolable: they hold the key).
	if n > 4 {
		t.Errorf("Derive and HeaderTag: %v allocations, want ≤ 4", n)
	}
	t.Logf("%v allocations", n)
}

// TestHasherRelease checks that a hasher going back to the pool keeps
// nothing of the key it was given: chaining values, blocks and the digest
// (its chaining value and buffered bytes) are as a fresh hasher's.
func TestHasherRelease(t *testing.T) {
	hs := newHasher()
	if !hs.fast {
		t.Fatal("crypto/sha256's marshaled state is not the layout the hasher assumes: it falls back to crypto/hmac")
	}
	hs.setKey(bytes.Repeat([]byte{0x5a}, 32))
	hs.mac([]byte("info"), []byte{1})
	hs.macOnce(bytes.Repeat([]byte{0xa5}, 32), bytes.Repeat([]byte{7}, 100), nil)
	copy(hs.ikm[:], bytes.Repeat([]byte{3}, DataKeySize))
	hs.h.Write(bytes.Repeat([]byte{9}, 10)) // leave bytes in the digest's buffer
	hs.clean()
	var zero [sha256.Size]byte
	if hs.inner != zero || hs.outer != zero || hs.blk != [sha256.BlockSize]byte{} || hs.sum != zero ||
		hs.key != [sha256.BlockSize]byte{} || hs.ikm != [DataKeySize]byte{} || hs.buf != hs.blank {
		t.Error("released hasher keeps a chaining value or buffer")
	}
	st, err := hs.st.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(st, hs.blank[:]) {
		t.Error("released hasher's digest is not in its initial state")
	}
	if fresh := newHasher(); hs.blank != fresh.blank {
		t.Error("blank states differ")
	}
}

// TestHasherMatchesHMAC checks the compression-level HMAC against
// crypto/hmac, on the fast path and the fallback, for keys and messages
// around the one-block boundaries, several under one key.
func TestHasherMatchesHMAC(t *testing.T) {
	t.Parallel()
	for _, fast := range []bool{true, false} {
		hs := newHasher()
		hs.fast = hs.fast && fast
		for _, kl := range []int{0, 1, 7, 9, 32, 63, 64} {
			key := bytes.Repeat([]byte{byte(kl) + 1}, kl)
			for _, once := range []bool{true, false} {
				hs.setKey(key)
				for _, n := range []int{0, 1, 36, 54, 55, 56, 63, 64, 65, 119, 120, 300, 36} {
					msg := bytes.Repeat([]byte{byte(n)}, n)
					m := hmac.New(sha256.New, key)
					m.Write(msg)
					want := m.Sum(nil)
					var got [sha256.Size]byte
					if once {
						got = hs.macOnce(key, msg[:n/2], msg[n/2:])
					} else {
						got = hs.mac(msg[:n/2], msg[n/2:])
					}
					if !bytes.Equal(got[:], want) {
						t.Errorf("fast=%v once=%v: HMAC with a %d-byte key over %d bytes differs from crypto/hmac", hs.fast, once, kl, n)
					}
				}
			}
		}
		hs.release()
	}
}
