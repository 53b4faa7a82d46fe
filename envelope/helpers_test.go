package envelope

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/kmsshare/kmsshare/envelope/internal/fakekeys"
)

// Key ARNs used across the tests: the Security account's key, its
// disaster-recovery copy in another region, and a key the recipient account
// owns.
const (
	arnMain = "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"
	arnDR   = "acs:kms:cn-shanghai:1192853035118460:key/key-shz0011223344556677889"
	arnRcpt = "acs:kms:cn-hangzhou:2208745523640391:key/key-hzzrecipient00000000"
)

// detRand is a deterministic byte stream (ChaCha8) for salts and data keys.
func detRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// pattern returns n bytes of recognisable, non-repeating plaintext.
func pattern(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{'p'})
	r.Read(b)
	return b
}

type fixture struct {
	svc *fakekeys.Service
	enc *Encryptor
	dec *Decryptor
}

// newFixture returns a fake key service with the three test keys, an
// Encryptor under arnMain and a Decryptor allowing arnMain.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	svc := fakekeys.New(arnMain, arnDR, arnRcpt)
	return &fixture{
		svc: svc,
		enc: &Encryptor{Keys: []MasterKey{{ARN: arnMain, Service: svc}}},
		dec: &Decryptor{Keys: []MasterKey{{ARN: arnMain, Service: svc}}},
	}
}

func (f *fixture) key(a string) MasterKey { return MasterKey{ARN: a, Service: f.svc} }

func mustEncrypt(t testing.TB, e *Encryptor, pt []byte, encCtx map[string]string) []byte {
	t.Helper()
	msg, err := e.Encrypt(context.Background(), pt, encCtx)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return msg
}

// streamDecrypt decrypts through a Reader and returns what it released and
// the final error (nil for a clean io.EOF).
func streamDecrypt(d *Decryptor, msg []byte, encCtx map[string]string, readSize int) ([]byte, error) {
	r, err := d.NewReader(context.Background(), bytes.NewReader(msg), encCtx)
	if err != nil {
		return nil, err
	}
	var out []byte
	buf := make([]byte, readSize)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// copyDecrypt decrypts through Reader.WriteTo (io.Copy), the path that
// uses the crew with Concurrency > 1, and returns what it released and the
// final error.
func copyDecrypt(d *Decryptor, msg []byte, encCtx map[string]string) ([]byte, error) {
	r, err := d.NewReader(context.Background(), bytes.NewReader(msg), encCtx)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, r)
	return out.Bytes(), err
}

// keepingService wraps a KeyService and remembers every plaintext data key
// slice it hands out, so tests can check they were wiped.
type keepingService struct {
	KeyService
	mu     sync.Mutex
	handed [][]byte
}

func (k *keepingService) keep(b []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.handed = append(k.handed, b)
}

func (k *keepingService) GenerateDataKey(ctx context.Context, a string, c map[string]string) ([]byte, []byte, error) {
	pt, ct, err := k.KeyService.GenerateDataKey(ctx, a, c)
	k.keep(pt)
	return pt, ct, err
}

func (k *keepingService) Decrypt(ctx context.Context, a string, b []byte, c map[string]string) ([]byte, error) {
	pt, err := k.KeyService.Decrypt(ctx, a, b, c)
	k.keep(pt)
	return pt, err
}

func (k *keepingService) allWiped() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, b := range k.handed {
		if !bytes.Equal(b, make([]byte, len(b))) {
			return false
		}
	}
	return len(k.handed) > 0
}
