package fakecloud

import (
	"crypto/rand"
	mrand "math/rand/v2"
	"strings"
	"sync"
)

// idSource makes the emulator's identifiers: account UIDs, key and
// instance IDs, role IDs. They come from the seeded source so that a set-up
// run twice with the same Seed yields the same IDs (examples print them).
// Secrets come from crypto/rand instead.
type idSource struct {
	mu  sync.Mutex
	rng *mrand.Rand
}

func newIDSource(seed uint64) *idSource {
	return &idSource{rng: mrand.New(mrand.NewPCG(seed, seed+0x5851f42d4c957f2d))}
}

const (
	digits     = "0123456789"
	lowerAlnum = "0123456789abcdefghijklmnopqrstuvwxyz"
	mixedAlnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

func (s *idSource) chars(alphabet string, n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// accountID is a 16-digit UID that does not start with 0.
func (s *idSource) accountID() string {
	return string("123456789"[s.intN(9)]) + s.chars(digits, 15)
}

func (s *idSource) intN(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.IntN(n)
}

// numericID is an n-digit ID (RoleId, UserId) that does not start with 0.
func (s *idSource) numericID(n int) string {
	return string("123456789"[s.intN(9)]) + s.chars(digits, n-1)
}

// uuid is a version-4-looking UUID (key version IDs).
func (s *idSource) uuid() string {
	h := s.chars("0123456789abcdef", 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// regionTag is the three-letter region mark real key IDs carry
// ("key-hzz…" in cn-hangzhou).
func regionTag(region string) string {
	_, name, found := strings.Cut(region, "-")
	if !found {
		name = region
	}
	if name == "" {
		return "zzz"
	}
	return name[:1] + "zz"
}

// secret returns n random characters from crypto/rand: access key
// secrets, STS key IDs and tokens.
func secret(alphabet string, n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: since Go 1.24 a broken source crashes the program
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
