package aliesdk

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/envelope"
)

// TestTamperEveryByte flips each byte of every GCM message among the vectors
// (containers A, B and C, header and body) and checks that decryption fails
// and returns no plaintext. Truncations and an extension fail too.
func TestTamperEveryByte(t *testing.T) {
	vs := allVectors(t)
	n := 0
	for _, id := range slices.Sorted(maps.Keys(vs)) {
		v := vs[id]
		if v.Expect != "ok" {
			continue
		}
		msg := v.read(t, v.File)
		var head []byte
		if v.HeaderFile != "" {
			head = v.read(t, v.HeaderFile)
		}
		var keys []edkJSON
		var s Suite
		switch {
		case v.Kind == "stream":
			h, _, err := parseStreamHeader(bytes.NewReader(msg), DefaultMaxEncryptedKeys)
			if err != nil {
				t.Fatal(err)
			}
			s, keys = h.suite, v.EDKs
		case head != nil:
			h, err := parseHeadDER(head, DefaultMaxEncryptedKeys)
			if err != nil {
				t.Fatal(err)
			}
			s = h.suite
			for _, k := range h.keys {
				keys = append(keys, edkJSON{KeyID: k.KeyARN})
			}
		default:
			h, _, err := parseASN1(msg, DefaultMaxEncryptedKeys)
			if err != nil {
				t.Fatal(err)
			}
			s, keys = h.suite, v.EDKs
		}
		if !s.Authenticated() {
			continue
		}
		n++
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := v.decryptor(&fakeKMS{id: v.ID}, keys)
			decrypt := func(m, hd []byte) ([]byte, error) {
				switch {
				case v.Kind == "stream":
					return d.DecryptStream(ctx, bytes.NewReader(m), v.Context)
				case hd != nil:
					return d.DecryptDetached(ctx, hd, m, v.Context)
				default:
					return d.Decrypt(ctx, m, v.Context)
				}
			}
			if _, err := decrypt(msg, head); err != nil {
				t.Fatalf("untampered: %v", err)
			}
			check := func(what string, m, hd []byte) {
				t.Helper()
				if pt, err := decrypt(m, hd); err == nil || pt != nil {
					t.Fatalf("%s: accepted (%v)", what, err)
				}
				if v.Kind == "asn1-message" {
					if pt, err := d.DecryptInPlace(ctx, bytes.Clone(m), v.Context); err == nil || pt != nil {
						t.Fatalf("%s: accepted in place (%v)", what, err)
					}
				}
			}
			// One bit per byte, the low or the high one in turn.
			flip := func(i int) byte { return byte(1) << (7 * (i % 2)) }
			for i := range msg {
				m := bytes.Clone(msg)
				m[i] ^= flip(i)
				check("message byte flipped", m, head)
			}
			for i := range head {
				hd := bytes.Clone(head)
				hd[i] ^= flip(i)
				check("header byte flipped", msg, hd)
			}
			for _, cut := range []int{1, tagLen, len(msg) / 2} {
				check("truncated", msg[:len(msg)-cut], head)
			}
			check("extended", append(bytes.Clone(msg), 0), head)
		})
	}
	if n < 20 {
		t.Errorf("only %d GCM vectors tampered", n)
	}
}

// message builds a small message with the fake KMS for the limit tests.
func testMessage(t *testing.T, keys []string, encCtx map[string]string, pt []byte) ([]byte, *fakeKMS) {
	t.Helper()
	svc := &fakeKMS{id: "test", dataKey: bytes.Repeat([]byte{7}, 32)}
	e := &Encryptor{}
	for _, k := range keys {
		e.Keys = append(e.Keys, envelope.MasterKey{ARN: k, Service: svc})
	}
	msg, err := e.Encrypt(context.Background(), pt, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	return msg, svc
}

const (
	arnA = "acs:kms:cn-hangzhou:1234567890123456:key/key-a"
	arnB = "acs:kms:cn-hangzhou:1234567890123456:key/key-b"
)

func TestLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	msg, svc := testMessage(t, []string{arnA, arnB}, map[string]string{"k": "v"}, bytes.Repeat([]byte("x"), 1000))
	allow := []envelope.MasterKey{{ARN: arnA, Service: svc}}

	// A message naming one ARN twice is refused while parsing.
	h, b, err := parseASN1(msg, DefaultMaxEncryptedKeys)
	if err != nil {
		t.Fatal(err)
	}
	h.keys[1].KeyARN = h.keys[0].KeyARN
	if _, err := (&Decryptor{Keys: allow}).Decrypt(ctx, encodeParsed(t, h, b), map[string]string{"k": "v"}); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate ARN in a message: %v", err)
	}
	// So is a duplicate in the caller's keys, before any KMS call.
	calls := len(svc.Calls())
	if _, err := (&Decryptor{Keys: append(allow, allow...)}).Decrypt(ctx, msg, map[string]string{"k": "v"}); err == nil || len(svc.Calls()) != calls {
		t.Errorf("duplicate ARN in Decryptor.Keys: %v", err)
	}
	if _, err := (&Encryptor{Keys: append(allow, allow...)}).Encrypt(ctx, nil, nil); err == nil || len(svc.Calls()) != calls {
		t.Errorf("duplicate ARN in Encryptor.Keys: %v", err)
	}
	// MaxEncryptedKeys and MaxSize refuse before KMS.
	if _, err := (&Decryptor{Keys: allow, MaxEncryptedKeys: 1}).Decrypt(ctx, msg, map[string]string{"k": "v"}); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxEncryptedKeys: %v", err)
	}
	if _, err := (&Decryptor{Keys: allow, MaxSize: 100}).Decrypt(ctx, msg, map[string]string{"k": "v"}); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxSize: %v", err)
	}
	if len(svc.Calls()) != calls {
		t.Errorf("limits reached KMS")
	}
	// The stream container stops reading at MaxSize.
	stream, err := (&Encryptor{Keys: allow}).EncryptStream(ctx, make([]byte, 1000), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Decryptor{Keys: allow, MaxSize: 999}).DecryptStream(ctx, &trickle{stream}, nil); !errors.Is(err, ErrLimit) {
		t.Errorf("stream MaxSize: %v", err)
	}
	if got, err := (&Decryptor{Keys: allow, MaxSize: 1000}).DecryptStream(ctx, &trickle{stream}, nil); err != nil || len(got) != 1000 {
		t.Errorf("stream at MaxSize: %v", err)
	}
	// Writers never write unauthenticated suites, or unknown ones.
	for _, s := range []Suite{AES256CBC, AES128CTR, SM4CBCPKCS7, 13} {
		if _, err := (&Encryptor{Keys: allow, Suite: s}).Encrypt(ctx, nil, nil); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Encrypt with %v: %v", s, err)
		}
	}
	// A context too large for the format's limits.
	big := map[string]string{"k": strings.Repeat("v", MaxContextBytes)}
	if _, err := (&Encryptor{Keys: allow}).Encrypt(ctx, nil, big); !errors.Is(err, ErrLimit) {
		t.Errorf("oversized context: %v", err)
	}
	// A 16-byte suite through a key service that makes 32-byte keys only.
	if _, err := (&Encryptor{Keys: []envelope.MasterKey{{ARN: arnA, Service: only32{svc}}}, Suite: SM4GCM}).Encrypt(ctx, nil, nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SM4 through a 32-byte key service: %v", err)
	}
}

// only32 hides fakeKMS's DataKeyGenerator and ReEncrypter.
type only32 struct{ f *fakeKMS }

func (o only32) GenerateDataKey(ctx context.Context, a string, c map[string]string) ([]byte, []byte, error) {
	return o.f.GenerateDataKey(ctx, a, c)
}
func (o only32) Encrypt(ctx context.Context, a string, p []byte, c map[string]string) ([]byte, error) {
	return o.f.Encrypt(ctx, a, p, c)
}
func (o only32) Decrypt(ctx context.Context, a string, b []byte, c map[string]string) ([]byte, error) {
	return o.f.Decrypt(ctx, a, b, c)
}

// TestPlainKeyService: envelope.KeyService alone (no ReEncrypt) writes
// AES-256-GCM, further keys by Encrypt.
func TestPlainKeyService(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &fakeKMS{id: "plain", dataKey: bytes.Repeat([]byte{9}, 32)}
	svc := only32{f}
	keys := []envelope.MasterKey{{ARN: arnA, Service: svc}, {ARN: arnB, Service: svc}}
	msg, err := (&Encryptor{Keys: keys}).Encrypt(ctx, []byte("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Calls(); !slices.Equal(got, []string{"GenerateDataKey", "Encrypt"}) {
		t.Errorf("calls %v", got)
	}
	got, err := (&Decryptor{Keys: keys[1:]}).Decrypt(ctx, msg, nil)
	if err != nil || string(got) != "hello" {
		t.Errorf("decrypt with the second key: %q %v", got, err)
	}
}
