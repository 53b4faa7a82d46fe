package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzKeys hands out one fixed data key and decrypts any blob to it, so that
// fuzzed messages get past KMS and exercise the format and the cryptography.
type fuzzKeys struct{}

var fuzzDataKey = bytes.Repeat([]byte{0x5a}, 32)

func (fuzzKeys) GenerateDataKey(context.Context, string, map[string]string) ([]byte, []byte, error) {
	return bytes.Clone(fuzzDataKey), []byte("fuzz-edk"), nil
}

func (fuzzKeys) Encrypt(_ context.Context, _ string, pt []byte, _ map[string]string) ([]byte, error) {
	return []byte("fuzz-edk"), nil
}

func (fuzzKeys) Decrypt(context.Context, string, []byte, map[string]string) ([]byte, error) {
	return bytes.Clone(fuzzDataKey), nil
}

var fuzzContext = map[string]string{"k": "v"}

func fuzzSeeds(t testing.TB) [][]byte {
	e := &Encryptor{Keys: []MasterKey{{ARN: arnMain, Service: fuzzKeys{}}, {ARN: arnDR, Service: fuzzKeys{}}},
		SegmentSize: 64, rand: detRand(9)}
	var out [][]byte
	for _, n := range []int{0, 10, 64, 150} {
		msg, err := e.Encrypt(context.Background(), pattern(n), fuzzContext)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, msg)
	}
	return out
}

// FuzzDecrypt feeds arbitrary bytes to Decrypt and to a Reader. Neither may
// panic, and both must agree: they accept the same messages with the same
// plaintext. Decrypt returns no plaintext on failure. A Reader only ever
// releases a prefix of what Decrypt would return for the intact message.
func FuzzDecrypt(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	d := &Decryptor{Keys: []MasterKey{{ARN: arnMain, Service: fuzzKeys{}}}, MaxEncryptedKeys: 4}
	dp := &Decryptor{Keys: d.Keys, MaxEncryptedKeys: 4, Concurrency: 3}
	f.Fuzz(func(t *testing.T, msg []byte) {
		pt, err := d.Decrypt(context.Background(), msg, fuzzContext)
		if err != nil && pt != nil {
			t.Fatal("plaintext returned with an error")
		}
		for i, dec := range []*Decryptor{d, dp, dp} {
			var out []byte
			var serr error
			if i == 2 {
				out, serr = copyDecrypt(dec, msg, fuzzContext)
			} else {
				out, serr = streamDecrypt(dec, msg, fuzzContext, 50)
			}
			if (err == nil) != (serr == nil) {
				t.Fatalf("Decrypt says %v, Reader says %v", err, serr)
			}
			if err == nil && !bytes.Equal(out, pt) {
				t.Fatal("Decrypt and Reader return different plaintext")
			}
			// Before a failure a Reader releases only whole segments that
			// verified. Headers that verify are the seeds' own, whose
			// segment size is 64.
			if serr != nil && len(out)%64 != 0 {
				t.Fatalf("Reader released %d bytes: not whole segments before a failure", len(out))
			}
		}
	})
}

// FuzzRoundTrip encrypts fuzzed plaintext with a fuzzed segment size and
// context, checks that it decrypts, then flips one byte and checks that the
// result is rejected.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello"), uint8(0), "tenant", uint16(0), uint8(1))
	f.Add(make([]byte, 300), uint8(36), "", uint16(400), uint8(0x80))
	f.Add(pattern(1000), uint8(200), "k", uint16(65535), uint8(0xff))
	f.Fuzz(func(t *testing.T, pt []byte, segSel uint8, ctxKey string, at uint16, mask uint8) {
		var encCtx map[string]string
		if ctxKey != "" {
			encCtx = map[string]string{ctxKey: "v"}
		}
		e := &Encryptor{Keys: []MasterKey{{ARN: arnMain, Service: fuzzKeys{}}}, SegmentSize: MinSegmentSize + int(segSel)}
		msg, err := e.Encrypt(context.Background(), pt, encCtx)
		if err != nil {
			if errors.Is(err, ErrFormat) || errors.Is(err, ErrLimit) {
				return // an invalid context key
			}
			t.Fatal(err)
		}
		d := &Decryptor{Keys: e.Keys}
		got, err := d.Decrypt(context.Background(), msg, encCtx)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("round trip: %v", err)
		}
		if mask == 0 {
			mask = 1
		}
		i := int(at) % len(msg)
		msg[i] ^= mask
		if got, err := d.Decrypt(context.Background(), msg, encCtx); err == nil || got != nil {
			t.Fatalf("flip of byte %d (mask %#x) accepted", i, mask)
		}
		if _, err := streamDecrypt(d, msg, encCtx, 100); err == nil {
			t.Fatalf("Reader accepted a flip of byte %d", i)
		}
	})
}

// TestFuzzSeedCorpus keeps the committed seed corpus in step with the format:
// with -update it writes testdata/fuzz/FuzzDecrypt (from fuzzSeeds) and
// testdata/fuzz/FuzzRoundTrip; otherwise it checks that the committed
// FuzzDecrypt seeds are current and still decrypt.
func TestFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecrypt")
	seeds := fuzzSeeds(t)
	if *update {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("valid-%d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rt := filepath.Join("testdata", "fuzz", "FuzzRoundTrip")
		os.RemoveAll(rt)
		if err := os.MkdirAll(rt, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, args := range map[string]string{
			"short":        fmt.Sprintf("[]byte(%q)\nuint8(0)\nstring(%q)\nuint16(0)\nuint8(1)", "hello", "tenant"),
			"two-segments": fmt.Sprintf("[]byte(%q)\nuint8(36)\nstring(%q)\nuint16(400)\nuint8(128)", make([]byte, 150), ""),
			"many":         fmt.Sprintf("[]byte(%q)\nuint8(0)\nstring(%q)\nuint16(65535)\nuint8(255)", pattern(1000), "k"),
		} {
			if err := os.WriteFile(filepath.Join(rt, name), []byte("go test fuzz v1\n"+args+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		garbage := map[string]string{"empty": "", "magic-only": "KMSE", "bad-version": "KMSE\x02\x00\x01"}
		for name, g := range garbage {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", g)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	d := &Decryptor{Keys: []MasterKey{{ARN: arnMain, Service: fuzzKeys{}}}}
	for i, s := range seeds {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("valid-%d", i)))
		if err != nil {
			t.Fatalf("seed corpus missing (go test -run TestFuzzSeedCorpus -update): %v", err)
		}
		if !strings.Contains(string(b), fmt.Sprintf("%q", s)) {
			t.Errorf("seed valid-%d is stale (go test -run TestFuzzSeedCorpus -update)", i)
		}
		if _, err := d.Decrypt(context.Background(), s, fuzzContext); err != nil {
			t.Errorf("seed %d: %v", i, err)
		}
	}
}
