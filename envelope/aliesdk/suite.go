package aliesdk

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"

	"github.com/tjfoc/gmsm/sm4"
)

// Suite is an algorithm suite of the format: the number the message stores
// in its algorithm field.
type Suite uint32

// The suites of the Java (1.1.0) and Python (0.1.1) SDKs. The data key is the
// cipher key itself: there is no key derivation and no key commitment.
const (
	AES128GCM      Suite = 1  // AES_GCM_NOPADDING_128
	AES256GCM      Suite = 2  // AES_GCM_NOPADDING_256, the SDKs' default and this package's
	AES128CBC      Suite = 3  // AES_CBC_NOPADDING_128: body not authenticated
	AES256CBC      Suite = 4  // AES_CBC_NOPADDING_256: body not authenticated
	AES128CBCPKCS7 Suite = 5  // AES_CBC_PKCS5_128: body not authenticated
	AES256CBCPKCS7 Suite = 6  // AES_CBC_PKCS5_256: body not authenticated
	AES128CTR      Suite = 7  // AES_CTR_NOPADDING_128: body not authenticated
	AES256CTR      Suite = 8  // AES_CTR_NOPADDING_256: body not authenticated
	SM4GCM         Suite = 9  // SM4_GCM_NOPADDING_128 (Java only)
	SM4CBC         Suite = 10 // SM4_CBC_NOPADDING_128 (Java only): body not authenticated
	SM4CBCPKCS7    Suite = 11 // SM4_CBC_PKCS5_128 (Java only): body not authenticated
	SM4CTR         Suite = 12 // SM4_CTR_NOPADDING_128 (Java only): body not authenticated
)

type mode uint8

const (
	modeGCM mode = iota + 1
	modeCBC
	modeCBCPKCS7
	modeCTR
)

type suiteInfo struct {
	name   string // the SDKs' name (Java's CryptoAlgorithm enum)
	sm4    bool
	keyLen int
	mode   mode
}

var suites = [...]suiteInfo{
	AES128GCM:      {"AES_GCM_NOPADDING_128", false, 16, modeGCM},
	AES256GCM:      {"AES_GCM_NOPADDING_256", false, 32, modeGCM},
	AES128CBC:      {"AES_CBC_NOPADDING_128", false, 16, modeCBC},
	AES256CBC:      {"AES_CBC_NOPADDING_256", false, 32, modeCBC},
	AES128CBCPKCS7: {"AES_CBC_PKCS5_128", false, 16, modeCBCPKCS7},
	AES256CBCPKCS7: {"AES_CBC_PKCS5_256", false, 32, modeCBCPKCS7},
	AES128CTR:      {"AES_CTR_NOPADDING_128", false, 16, modeCTR},
	AES256CTR:      {"AES_CTR_NOPADDING_256", false, 32, modeCTR},
	SM4GCM:         {"SM4_GCM_NOPADDING_128", true, 16, modeGCM},
	SM4CBC:         {"SM4_CBC_NOPADDING_128", true, 16, modeCBC},
	SM4CBCPKCS7:    {"SM4_CBC_PKCS5_128", true, 16, modeCBCPKCS7},
	SM4CTR:         {"SM4_CTR_NOPADDING_128", true, 16, modeCTR},
}

func (s Suite) info() (suiteInfo, bool) {
	if s == 0 || int(s) >= len(suites) {
		return suiteInfo{}, false
	}
	return suites[s], true
}

// String returns the SDKs' name of the suite, such as "AES_GCM_NOPADDING_256".
func (s Suite) String() string {
	if i, ok := s.info(); ok {
		return i.name
	}
	return fmt.Sprintf("Suite(%d)", uint32(s))
}

// KeySize is the data key length in bytes: 16 or 32 (0 for an unknown suite).
func (s Suite) KeySize() int {
	i, _ := s.info()
	return i.keyLen
}

// Authenticated reports whether the suite authenticates the body (the GCM
// suites). The others authenticate the header only: a reader accepts them
// only when the caller names them in Decryptor.AllowUnauthenticated.
func (s Suite) Authenticated() bool {
	i, ok := s.info()
	return ok && i.mode == modeGCM
}

// ParseSuite returns the suite with the SDKs' name, such as
// "SM4_GCM_NOPADDING_128".
func ParseSuite(name string) (Suite, error) {
	for s, i := range suites {
		if s != 0 && i.name == name {
			return Suite(s), nil
		}
	}
	return 0, fmt.Errorf("aliesdk: unknown algorithm suite %q: %w", name, ErrUnsupported)
}

func (s Suite) ivLen() int {
	if s.Authenticated() {
		return gcmIVLen
	}
	return 16
}

// block returns the suite's block cipher under key. The SM4 block comes from
// github.com/tjfoc/gmsm, whose instances keep scratch buffers: one per use.
func (s Suite) block(key []byte) (cipher.Block, error) {
	i, ok := s.info()
	if !ok {
		return nil, fmt.Errorf("aliesdk: algorithm suite %d: %w", uint32(s), ErrUnsupported)
	}
	if len(key) != i.keyLen {
		return nil, fmt.Errorf("aliesdk: %s needs a %d-byte data key, got %d bytes", i.name, i.keyLen, len(key))
	}
	if i.sm4 {
		return sm4.NewCipher(key)
	}
	return aes.NewCipher(key)
}

// gcm returns the GCM AEAD the suite uses under key: SM4-GCM for SM4 suites,
// AES-GCM for every other suite (for the header tag of CBC and CTR suites
// too, as the SDKs do).
func (s Suite) gcm(key []byte) (cipher.AEAD, error) {
	b, err := s.block(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
