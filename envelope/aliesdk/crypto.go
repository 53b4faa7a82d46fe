package aliesdk

import (
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
)

// headerTag computes the header tag: GCM of the suite's cipher family under
// the data key, nonce h.iv, empty plaintext, AAD = auth bytes.
func headerTag(s Suite, key, iv, auth []byte) ([]byte, error) {
	g, err := s.gcm(key)
	if err != nil {
		return nil, err
	}
	return g.Seal(nil, iv, nil, auth), nil
}

// verifyHeader checks the header tag in constant time.
func verifyHeader(h *header, key []byte) error {
	want, err := headerTag(h.suite, key, h.iv, h.authBytes())
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(want, h.tag) != 1 {
		return fmt.Errorf("aliesdk: header tag: %w", ErrNotAuthentic)
	}
	return nil
}

// openBody decrypts a body whose ciphertext and tag are contiguous in
// ctTag (for GCM; the tag is empty otherwise), in place: ctTag is
// overwritten and the plaintext returned is a prefix of it. For GCM nothing
// is returned unless the tag verifies (cipher.AEAD.Open compares it in
// constant time).
func openBody(s Suite, key, iv, ctTag, aad []byte) ([]byte, error) {
	i, ok := s.info()
	if !ok {
		return nil, fmt.Errorf("aliesdk: algorithm suite %d: %w", uint32(s), ErrUnsupported)
	}
	if i.mode == modeGCM {
		g, err := s.gcm(key)
		if err != nil {
			return nil, err
		}
		pt, err := g.Open(ctTag[:0], iv, ctTag, aad)
		if err != nil {
			clear(ctTag)
			return nil, fmt.Errorf("aliesdk: body tag: %w", ErrNotAuthentic)
		}
		return pt, nil
	}
	b, err := s.block(key)
	if err != nil {
		return nil, err
	}
	switch i.mode {
	case modeCTR:
		cipher.NewCTR(b, iv).XORKeyStream(ctTag, ctTag)
		return ctTag, nil
	default:
		if len(ctTag)%16 != 0 {
			return nil, formatErr("CBC ciphertext of %d bytes", len(ctTag))
		}
		cipher.NewCBCDecrypter(b, iv).CryptBlocks(ctTag, ctTag)
		if i.mode == modeCBC {
			return ctTag, nil
		}
		n := len(ctTag)
		if n == 0 {
			return nil, formatErr("empty PKCS#7 ciphertext")
		}
		p := int(ctTag[n-1])
		bad := p == 0 || p > 16
		if !bad {
			for _, c := range ctTag[n-p:] {
				bad = bad || int(c) != p
			}
		}
		if bad {
			clear(ctTag)
			// Unauthenticated suites have no integrity: a bad pad is all
			// that shows tampering here.
			return nil, fmt.Errorf("aliesdk: bad PKCS#7 padding: %w", ErrNotAuthentic)
		}
		return ctTag[:n-p], nil
	}
}

// bodyLens returns the ciphertext and tag lengths of an n-byte plaintext.
func bodyLens(s Suite, n int) (ctLen, tLen int, err error) {
	i, ok := s.info()
	if !ok {
		return 0, 0, fmt.Errorf("aliesdk: algorithm suite %d: %w", uint32(s), ErrUnsupported)
	}
	switch i.mode {
	case modeGCM:
		return n, tagLen, nil
	case modeCBC:
		if n%16 != 0 {
			return 0, 0, fmt.Errorf("aliesdk: %s needs a multiple of 16 bytes, got %d", s, n)
		}
		return n, 0, nil
	case modeCBCPKCS7:
		return n + 16 - n%16, 0, nil
	default:
		return n, 0, nil
	}
}

// sealBody appends the body's ciphertext and (for GCM) tag to dst. Only GCM
// is reachable from the public API; the other modes exist so the tests can
// reproduce the SDKs' CBC and CTR vectors byte for byte.
func sealBody(s Suite, key, iv, dst, pt, aad []byte) ([]byte, error) {
	i, _ := s.info()
	if i.mode == modeGCM {
		g, err := s.gcm(key)
		if err != nil {
			return nil, err
		}
		return g.Seal(dst, iv, pt, aad), nil
	}
	b, err := s.block(key)
	if err != nil {
		return nil, err
	}
	ctLen, _, err := bodyLens(s, len(pt))
	if err != nil {
		return nil, err
	}
	off := len(dst)
	dst = append(dst, pt...)
	for len(dst)-off < ctLen {
		dst = append(dst, byte(ctLen-len(pt)))
	}
	out := dst[off:]
	if i.mode == modeCTR {
		cipher.NewCTR(b, iv).XORKeyStream(out, out)
	} else {
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, out)
	}
	return dst, nil
}
