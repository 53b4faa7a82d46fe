package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/kmsshare/kmsshare/envelope/internal/fakekeys"
	"github.com/kmsshare/kmsshare/envelope/internal/format"
)

func keyARNs(t *testing.T, msg []byte) []string {
	t.Helper()
	h, _, err := format.ParseBytes(msg, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range h.Keys {
		out = append(out, k.ARN)
	}
	return out
}

func bodyOf(t *testing.T, msg []byte) []byte {
	t.Helper()
	_, n, err := format.ParseBytes(msg, 0)
	if err != nil {
		t.Fatal(err)
	}
	return msg[n:]
}

func TestRewrap(t *testing.T) {
	t.Parallel()
	encCtx := map[string]string{"tenant": "acme"}
	tests := []struct {
		name     string
		add      bool
		keys     []string
		wantKeys []string
		canRead  []string
		cannot   []string
		wantEnc  int // KMS Encrypt calls
	}{
		{"migrate to the recipient's key", false, []string{arnRcpt}, []string{arnRcpt}, []string{arnRcpt}, []string{arnMain, arnDR}, 1},
		{"replace with two keys", false, []string{arnDR, arnRcpt}, []string{arnDR, arnRcpt}, []string{arnDR, arnRcpt}, []string{arnMain}, 2},
		{"add a DR key", true, []string{arnDR}, []string{arnMain, arnDR}, []string{arnMain, arnDR}, []string{arnRcpt}, 1},
		{"add a key already there", true, []string{arnMain, arnDR}, []string{arnMain, arnDR}, []string{arnMain, arnDR}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.enc.SegmentSize = 64
			pt := pattern(1000)
			msg := mustEncrypt(t, f.enc, pt, encCtx)
			f.svc.ResetLog()
			var keys []MasterKey
			for _, a := range tt.keys {
				keys = append(keys, f.key(a))
			}
			var out bytes.Buffer
			src := iotest.HalfReader(bytes.NewReader(msg))
			var err error
			if tt.add {
				err = f.dec.AddKeys(context.Background(), &out, src, keys...)
			} else {
				err = f.dec.Rewrap(context.Background(), &out, src, keys...)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := out.Bytes()
			if fmt.Sprint(keyARNs(t, got)) != fmt.Sprint(tt.wantKeys) {
				t.Errorf("keys = %v, want %v", keyARNs(t, got), tt.wantKeys)
			}
			if !bytes.Equal(bodyOf(t, got), bodyOf(t, msg)) {
				t.Error("the body changed")
			}
			if n := f.svc.Count(fakekeys.OpDecrypt); n != 1 {
				t.Errorf("%d KMS Decrypt calls, want 1", n)
			}
			if n := f.svc.Count(fakekeys.OpEncrypt); n != tt.wantEnc {
				t.Errorf("%d KMS Encrypt calls, want %d", n, tt.wantEnc)
			}
			if n := f.svc.Count(fakekeys.OpGenerateDataKey); n != 0 {
				t.Errorf("%d GenerateDataKey calls: the data key must not change", n)
			}
			for _, a := range tt.canRead {
				d := &Decryptor{Keys: []MasterKey{f.key(a)}}
				if p, err := d.Decrypt(context.Background(), got, encCtx); err != nil || !bytes.Equal(p, pt) {
					t.Errorf("%s cannot decrypt: %v", a, err)
				}
			}
			for _, a := range tt.cannot {
				d := &Decryptor{Keys: []MasterKey{f.key(a)}}
				if _, err := d.Decrypt(context.Background(), got, encCtx); !errors.Is(err, ErrNoKey) {
					t.Errorf("%s can still decrypt: %v", a, err)
				}
			}
		})
	}
}

func TestRewrapRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	msg := mustEncrypt(t, f.enc, []byte("data"), map[string]string{"t": "x"})
	h, n, _ := format.ParseBytes(msg, 0)
	ctxAt := len(h.Fixed) - 32 - 1 // last byte of the context value
	tampered := bytes.Clone(msg)
	tampered[ctxAt] ^= 1
	badTag := bytes.Clone(msg)
	badTag[n-1] ^= 1

	tests := []struct {
		name string
		dec  *Decryptor
		src  []byte
		keys []MasterKey
		want error
	}{
		{"no keys given", f.dec, msg, nil, nil},
		{"key not allowed", &Decryptor{Keys: []MasterKey{f.key(arnRcpt)}}, msg, []MasterKey{f.key(arnDR)}, ErrNoKey},
		{"tampered context", f.dec, tampered, []MasterKey{f.key(arnDR)}, ErrNoKey},
		{"bad header tag", f.dec, badTag, []MasterKey{f.key(arnDR)}, ErrNotAuthentic},
		{"garbage", f.dec, []byte("hello"), []MasterKey{f.key(arnDR)}, ErrFormat},
		{"bad new key", f.dec, msg, []MasterKey{{ARN: "acs:kms:cn-hangzhou:1192853035118460:alias/x", Service: f.svc}}, nil},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := tt.dec.Rewrap(context.Background(), &out, bytes.NewReader(tt.src), tt.keys...)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if out.Len() != 0 {
			t.Errorf("%s: %d bytes written despite the error", tt.name, out.Len())
		}
	}

	f.svc.FailOn(fakekeys.OpEncrypt, arnDR, fakekeys.Denied("Encrypt"))
	err := f.dec.AddKeys(context.Background(), io.Discard, bytes.NewReader(msg), f.key(arnDR))
	var ke *KeyError
	if !errors.As(err, &ke) || ke.KeyARN != arnDR || !errors.Is(err, ErrAccessDenied) {
		t.Errorf("Encrypt denied: %v", err)
	}
}

// TestRewrapKeyLimit: Rewrap and AddKeys refuse a result with more than
// MaxEncryptedKeys keys before any KMS call.
func TestRewrapKeyLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var many []MasterKey
	for i := range MaxEncryptedKeys + 4 {
		a := fmt.Sprintf("acs:kms:cn-hangzhou:1192853035118460:key/key-limit%02d", i)
		f.svc.AddKey(a)
		many = append(many, f.key(a))
	}
	msg := mustEncrypt(t, f.enc, []byte("data"), nil)
	for _, tt := range []struct {
		name string
		keep bool
		keys []MasterKey
	}{
		{"Rewrap to 20 keys", false, many},
		{"AddKeys to 17 keys", true, many[:MaxEncryptedKeys]},
	} {
		f.svc.ResetLog()
		rewrap := f.dec.Rewrap
		if tt.keep {
			rewrap = f.dec.AddKeys
		}
		var out bytes.Buffer
		if err := rewrap(context.Background(), &out, bytes.NewReader(msg), tt.keys...); !errors.Is(err, ErrLimit) {
			t.Errorf("%s: err = %v, want ErrLimit", tt.name, err)
		}
		if calls := f.svc.Calls(); len(calls) != 0 {
			t.Errorf("%s: %d KMS calls before refusing: %v", tt.name, len(calls), calls)
		}
		if out.Len() != 0 {
			t.Errorf("%s: %d bytes written", tt.name, out.Len())
		}
	}
	// At the limit both succeed: 16 keys, or 1 kept and 15 added.
	for _, keys := range [][]MasterKey{many[:MaxEncryptedKeys], many[:MaxEncryptedKeys-1]} {
		rewrap := f.dec.Rewrap
		if len(keys) < MaxEncryptedKeys {
			rewrap = f.dec.AddKeys
		}
		if err := rewrap(context.Background(), io.Discard, bytes.NewReader(msg), keys...); err != nil {
			t.Errorf("%d keys: %v", len(keys), err)
		}
	}
}

// TestRewrapStreamsTheBody checks that Rewrap copies a large body without
// holding it: the body passes through in small reads and arrives intact.
func TestRewrapStreamsTheBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pt := pattern(3 << 20)
	var src bytes.Buffer
	w, err := f.enc.NewWriter(context.Background(), &src, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(pt)
	w.Close()
	msg := src.Bytes()
	var out bytes.Buffer
	if err := f.dec.AddKeys(context.Background(), &out, iotest.OneByteReader(io.MultiReader(bytes.NewReader(msg[:1000]), bytes.NewReader(msg[1000:]))), f.key(arnDR)); err != nil {
		t.Fatal(err)
	}
	got, err := streamDecrypt(&Decryptor{Keys: []MasterKey{f.key(arnDR)}}, out.Bytes(), nil, 1<<16)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("after AddKeys: %v", err)
	}
}
