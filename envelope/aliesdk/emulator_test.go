package aliesdk_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"

	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/envelope/aliesdk"
)

func testWorld(t *testing.T) *world {
	t.Helper()
	w, err := newWorld()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestEmulatorRoundTrip: messages written here go through the emulator's
// KMS (the real SDK client on the wire protocol) and back, for every suite
// written and both containers, with the SDKs' KMS calls: GenerateDataKey,
// ReEncrypt for the second key of the region, Encrypt for the other region.
// Each master key alone decrypts; a context mismatch is refused.
func TestEmulatorRoundTrip(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	ctx := context.Background()
	hz, sh := w.kms("cn-hangzhou"), w.kms("cn-shanghai")
	keys := []envelope.MasterKey{{ARN: mainKey, Service: hz}, {ARN: secondKey, Service: hz}, {ARN: drKey, Service: sh}}
	encCtx := map[string]string{"tenant": "acme", "purpose": "interop"}
	data := bytes.Repeat([]byte("0123456789abcdef"), 1000)

	for _, s := range []aliesdk.Suite{0, aliesdk.AES128GCM, aliesdk.SM4GCM} {
		for _, stream := range []bool{false, true} {
			enc := &aliesdk.Encryptor{Keys: keys, Suite: s}
			before := [3]int{w.calls("GenerateDataKey"), w.calls("ReEncrypt"), w.calls("Encrypt")}
			var msg []byte
			var err error
			if stream {
				msg, err = enc.EncryptStream(ctx, data, encCtx)
			} else {
				msg, err = enc.Encrypt(ctx, data, encCtx)
			}
			if err != nil {
				t.Fatalf("%v stream=%v: %v", s, stream, err)
			}
			after := [3]int{w.calls("GenerateDataKey"), w.calls("ReEncrypt"), w.calls("Encrypt")}
			if after != [3]int{before[0] + 1, before[1] + 1, before[2] + 1} {
				t.Errorf("%v: KMS calls GenerateDataKey/ReEncrypt/Encrypt went from %v to %v, want one each", s, before, after)
			}
			decrypt := func(d *aliesdk.Decryptor, c map[string]string) ([]byte, error) {
				if stream {
					return d.DecryptStream(ctx, bytes.NewReader(msg), c)
				}
				return d.Decrypt(ctx, msg, c)
			}
			for _, k := range keys {
				got, err := decrypt(&aliesdk.Decryptor{Keys: []envelope.MasterKey{k}}, encCtx)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%v stream=%v: decrypt with %s alone: %v", s, stream, k.ARN, err)
				}
			}
			decrypts := w.calls("Decrypt")
			got, err := decrypt(&aliesdk.Decryptor{Keys: keys}, map[string]string{"tenant": "other", "purpose": "interop"})
			if !errors.Is(err, aliesdk.ErrNotAuthentic) || got != nil {
				t.Errorf("%v stream=%v: another context: %v", s, stream, err)
			}
			if w.calls("Decrypt") != decrypts {
				t.Errorf("a context mismatch reached KMS")
			}
		}
	}
}

// TestEmulatorContextBoundInKMS: the emulator's KMS, like KMS, releases a
// data key only for the context it was made with, independently of the
// header tag; and a key the Decryptor does not allow is never tried.
func TestEmulatorContextBoundInKMS(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	ctx := context.Background()
	hz := w.kms("cn-hangzhou")
	pt, blob, err := hz.GenerateDataKeySize(ctx, mainKey, 16, map[string]string{"a": "1"})
	if err != nil || len(pt) != 16 {
		t.Fatalf("GenerateDataKey AES_128: %d bytes, %v", len(pt), err)
	}
	var api *envelope.APIError
	if _, err := hz.Decrypt(ctx, mainKey, blob, map[string]string{"a": "2"}); !errors.As(err, &api) || api.Code != "InvalidParameter" {
		t.Errorf("KMS Decrypt with another context: %v", err)
	}
	if _, err := hz.Decrypt(ctx, secondKey, blob, map[string]string{"a": "1"}); !errors.Is(err, envelope.ErrKeyMismatch) {
		t.Errorf("KMS Decrypt of a blob under another key: %v", err)
	}
	// The client is for cn-hangzhou: a cn-shanghai key is refused before any call.
	if _, _, err := hz.GenerateDataKey(ctx, drKey, nil); err == nil {
		t.Errorf("a key of another region went to this region's client")
	}

	msg, err := (&aliesdk.Encryptor{Keys: []envelope.MasterKey{{ARN: mainKey, Service: hz}}}).Encrypt(ctx, []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	before := w.calls("Decrypt")
	_, err = (&aliesdk.Decryptor{Keys: []envelope.MasterKey{{ARN: secondKey, Service: hz}}}).Decrypt(ctx, msg, nil)
	if !errors.Is(err, envelope.ErrNoKey) || w.calls("Decrypt") != before {
		t.Errorf("a message under a key not allowed: %v, %d Decrypt calls", err, w.calls("Decrypt")-before)
	}
}

// TestEmulatorHTTP: the same round trip with the SDK client talking HTTP to
// the emulator on 127.0.0.1, both containers, ReEncrypt and Encrypt.
func TestEmulatorHTTP(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	srv := w.cloud.Serve()
	defer srv.Close()
	svc := func(region string) *aliesdk.KMS {
		c, err := kms.NewClient(srv.Config(w.app, region))
		if err != nil {
			t.Fatal(err)
		}
		return aliesdk.NewKMS(c)
	}
	ctx := context.Background()
	hz, sh := svc("cn-hangzhou"), svc("cn-shanghai")
	keys := []envelope.MasterKey{{ARN: mainKey, Service: hz}, {ARN: secondKey, Service: hz}, {ARN: drKey, Service: sh}}
	encCtx := map[string]string{"tenant": "acme"}
	enc := &aliesdk.Encryptor{Keys: keys, Suite: aliesdk.SM4GCM}
	msg, err := enc.Encrypt(ctx, []byte("over http"), encCtx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if got, err := (&aliesdk.Decryptor{Keys: []envelope.MasterKey{k}}).Decrypt(ctx, msg, encCtx); err != nil || string(got) != "over http" {
			t.Errorf("decrypt with %s: %v", k.ARN, err)
		}
	}
	if _, err := (&aliesdk.Decryptor{Keys: keys}).Decrypt(ctx, msg, nil); !errors.Is(err, aliesdk.ErrNotAuthentic) {
		t.Errorf("context mismatch: %v", err)
	}
}

// TestKMSConcurrentCalls: goroutines sharing one adapter each get a client
// of their own (the SDK client is not safe for concurrent use); -race
// checks it, and every data key comes back through Decrypt.
func TestKMSConcurrentCalls(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	ctx := context.Background()
	k := w.kms("cn-hangzhou")
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			pt, blob, err := k.GenerateDataKey(ctx, mainKey, map[string]string{"n": "1"})
			if err == nil {
				var got []byte
				if got, err = k.Decrypt(ctx, mainKey, blob, map[string]string{"n": "1"}); err == nil && !bytes.Equal(got, pt) {
					err = errors.New("Decrypt returned another data key")
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
