package aliesdk

import (
	"encoding/hex"
	"errors"
	"testing"
)

// TestSM4Block checks the SM4 block cipher against the example of GB/T
// 32907-2016 (appendix A.1): the library is used for its block only.
func TestSM4Block(t *testing.T) {
	key, _ := hex.DecodeString("0123456789abcdeffedcba9876543210")
	b, err := SM4GCM.block(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	b.Encrypt(out, key)
	if got := hex.EncodeToString(out); got != "681edf34d206965e86b3e94f536e4246" {
		t.Errorf("SM4(key, key) = %s", got)
	}
	b.Decrypt(out, out)
	if hex.EncodeToString(out) != hex.EncodeToString(key) {
		t.Errorf("SM4 decrypt does not invert")
	}
}

func TestSuites(t *testing.T) {
	for s := Suite(1); s <= 12; s++ {
		got, err := ParseSuite(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSuite(%q) = %v, %v", s, got, err)
		}
		if want := s == 1 || s == 2 || s == 9; s.Authenticated() != want {
			t.Errorf("%v.Authenticated() = %v", s, !want)
		}
	}
	if _, err := ParseSuite("AES_GCM_NOPADDING_512"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown name: %v", err)
	}
	if Suite(0).String() != "Suite(0)" || Suite(13).KeySize() != 0 {
		t.Errorf("unknown suites")
	}
}
