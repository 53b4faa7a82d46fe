package envelope

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/kmsshare/kmsshare/envelope/internal/fakekeys"
	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

// writePatterns are the ways a caller can feed a Writer.
var writePatterns = []struct {
	name  string
	write func(w *Writer, pt []byte) error
}{
	{"one Write", func(w *Writer, pt []byte) error { _, err := w.Write(pt); return err }},
	{"7-byte Writes", func(w *Writer, pt []byte) error {
		for len(pt) > 0 {
			n := min(7, len(pt))
			if _, err := w.Write(pt[:n]); err != nil {
				return err
			}
			pt = pt[n:]
		}
		return nil
	}},
	{"io.Copy one byte at a time", func(w *Writer, pt []byte) error {
		_, err := io.Copy(w, iotest.OneByteReader(bytes.NewReader(pt)))
		return err
	}},
	{"ReadFrom half reads", func(w *Writer, pt []byte) error {
		_, err := w.ReadFrom(iotest.HalfReader(bytes.NewReader(pt)))
		return err
	}},
	{"Write then ReadFrom", func(w *Writer, pt []byte) error {
		h := len(pt) / 2
		if _, err := w.Write(pt[:h]); err != nil {
			return err
		}
		_, err := w.ReadFrom(bytes.NewReader(pt[h:]))
		return err
	}},
}

// TestEncodingIsIndependentOfHowItIsMade checks that one-shot, streaming
// (however it is fed) and parallel encryption produce identical bytes for the
// same data key and salt, and that every decryption path returns the
// plaintext.
func TestEncodingIsIndependentOfHowItIsMade(t *testing.T) {
	t.Parallel()
	encCtx := map[string]string{"tenant": "acme", "purpose": "test"}
	for _, seg := range []int{64, 100, 4096} {
		for _, size := range []int{0, 1, 63, 64, 65, 100, 127, 128, 199, 200, 201, 640, 1000, 4096, 4097, 13 * 64} {
			t.Run(fmt.Sprintf("seg%d/size%d", seg, size), func(t *testing.T) {
				t.Parallel()
				pt := pattern(size)
				svc := fakekeys.New(arnMain, arnDR)
				newEnc := func(conc int) *Encryptor {
					svc.SetDataKeys(detRand(1))
					return &Encryptor{
						Keys:        []MasterKey{{ARN: arnMain, Service: svc}, {ARN: arnDR, Service: svc}},
						SegmentSize: seg, Concurrency: conc, rand: detRand(2),
					}
				}
				want := mustEncrypt(t, newEnc(1), pt, encCtx)
				for _, conc := range []int{1, 3} {
					if got := mustEncrypt(t, newEnc(conc), pt, encCtx); !bytes.Equal(got, want) {
						t.Errorf("Encrypt with Concurrency %d differs", conc)
					}
					for _, wp := range writePatterns {
						var buf bytes.Buffer
						w, err := newEnc(conc).NewWriter(context.Background(), &buf, encCtx)
						if err != nil {
							t.Fatal(err)
						}
						if err := wp.write(w, pt); err != nil {
							t.Fatalf("%s: %v", wp.name, err)
						}
						if err := w.Close(); err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(buf.Bytes(), want) {
							t.Errorf("Writer (%s, Concurrency %d) differs from Encrypt", wp.name, conc)
						}
					}
				}
				for _, conc := range []int{1, 2, 5} {
					dec := &Decryptor{Keys: []MasterKey{{ARN: arnDR, Service: svc}}, Concurrency: conc}
					got, err := dec.Decrypt(context.Background(), want, encCtx)
					if err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("Decrypt (Concurrency %d): %v", conc, err)
					}
					for _, rs := range []int{1, 13, 4096} {
						got, err := streamDecrypt(dec, want, encCtx, rs)
						if err != nil || !bytes.Equal(got, pt) {
							t.Fatalf("Reader (Concurrency %d, reads of %d): %v", conc, rs, err)
						}
					}
					r, err := dec.NewReader(context.Background(), iotest.HalfReader(bytes.NewReader(want)), encCtx)
					if err != nil {
						t.Fatal(err)
					}
					var out bytes.Buffer
					if _, err := io.Copy(&out, r); err != nil || !bytes.Equal(out.Bytes(), pt) {
						t.Fatalf("Reader.WriteTo (Concurrency %d): %v", conc, err)
					}
				}
			})
		}
	}
}

func TestMessageLayout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.SegmentSize = 100
	pt := pattern(250)
	msg := mustEncrypt(t, f.enc, pt, nil)
	h, n, err := format.ParseBytes(msg, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.SegmentSize != 100 || len(h.Keys) != 1 || h.Keys[0].ARN != arnMain || len(h.Context) != 0 {
		t.Errorf("header = %+v", h.Header)
	}
	// 250 bytes in 100-byte segments: 100 + 100 + 50, each with a 16-byte tag.
	if body := len(msg) - n; body != 250+3*16 {
		t.Errorf("body is %d bytes, want %d", body, 250+3*16)
	}
}

func TestSaltIsFreshPerMessage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := mustEncrypt(t, f.enc, []byte("same"), nil)
	b := mustEncrypt(t, f.enc, []byte("same"), nil)
	ha, _, _ := format.ParseBytes(a, 0)
	hb, _, _ := format.ParseBytes(b, 0)
	if ha.Salt == hb.Salt || bytes.Equal(a, b) {
		t.Error("two messages share a salt")
	}
}

func TestKMSRoundTripsWithoutCache(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.Keys = append(f.enc.Keys, f.key(arnDR), f.key(arnRcpt))
	for i := 0; i < 5; i++ {
		mustEncrypt(t, f.enc, []byte("x"), nil)
	}
	w, err := f.enc.NewWriter(context.Background(), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	want := []fakekeys.Call{}
	for i := 0; i < 6; i++ {
		want = append(want, fakekeys.Call{Op: "GenerateDataKey", KeyARN: arnMain},
			fakekeys.Call{Op: "Encrypt", KeyARN: arnDR}, fakekeys.Call{Op: "Encrypt", KeyARN: arnRcpt})
	}
	if got := f.svc.Calls(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("calls:\n got %v\nwant %v", got, want)
	}
}

func TestDecryptKeySelection(t *testing.T) {
	t.Parallel()
	encCtx := map[string]string{"tenant": "acme"}
	tests := []struct {
		name      string
		setup     func(f *fixture)
		dec       func(f *fixture) *Decryptor
		wantErr   []error
		wantCalls []fakekeys.Call
	}{
		{
			name:      "first allowed key",
			dec:       func(f *fixture) *Decryptor { return &Decryptor{Keys: []MasterKey{f.key(arnMain)}} },
			wantCalls: []fakekeys.Call{{Op: "Decrypt", KeyARN: arnMain}},
		},
		{
			name: "caller's order, not the message's",
			dec: func(f *fixture) *Decryptor {
				return &Decryptor{Keys: []MasterKey{f.key(arnDR), f.key(arnMain)}}
			},
			wantCalls: []fakekeys.Call{{Op: "Decrypt", KeyARN: arnDR}},
		},
		{
			name:  "falls over to the DR key when the main one is denied",
			setup: func(f *fixture) { f.svc.FailOn("Decrypt", arnMain, fakekeys.Denied("Decrypt")) },
			dec: func(f *fixture) *Decryptor {
				return &Decryptor{Keys: []MasterKey{f.key(arnMain), f.key(arnDR)}}
			},
			wantCalls: []fakekeys.Call{{Op: "Decrypt", KeyARN: arnMain}, {Op: "Decrypt", KeyARN: arnDR}},
		},
		{
			name:      "all allowed keys fail",
			setup:     func(f *fixture) { f.svc.FailOn("Decrypt", arnMain, fakekeys.Denied("Decrypt")) },
			dec:       func(f *fixture) *Decryptor { return &Decryptor{Keys: []MasterKey{f.key(arnMain)}} },
			wantErr:   []error{ErrNoKey, ErrAccessDenied},
			wantCalls: []fakekeys.Call{{Op: "Decrypt", KeyARN: arnMain}},
		},
		{
			name:      "no message key allowed: no KMS call",
			dec:       func(f *fixture) *Decryptor { return &Decryptor{Keys: []MasterKey{f.key(arnRcpt)}} },
			wantErr:   []error{ErrNoKey},
			wantCalls: nil,
		},
		{
			name: "discovery by account and region",
			dec: func(f *fixture) *Decryptor {
				return &Decryptor{Discovery: []Discovery{{Service: f.svc, Region: "cn-shanghai", Accounts: []string{"1192853035118460"}}}}
			},
			wantCalls: []fakekeys.Call{{Op: "DescribeKey", KeyARN: arnDR}, {Op: "Decrypt", KeyARN: arnDR}},
		},
		{
			name: "discovery key that does not exist: no Decrypt",
			setup: func(f *fixture) {
				f.svc.FailOn("DescribeKey", arnDR, fakekeys.NotFound("DescribeKey"))
			},
			dec: func(f *fixture) *Decryptor {
				return &Decryptor{Discovery: []Discovery{{Service: f.svc, Region: "cn-shanghai", Accounts: []string{"1192853035118460"}}}}
			},
			wantErr:   []error{ErrNoKey, ErrKeyNotFound},
			wantCalls: []fakekeys.Call{{Op: "DescribeKey", KeyARN: arnDR}},
		},
		{
			name: "discovery through a service that cannot resolve keys: refused",
			dec: func(f *fixture) *Decryptor {
				return &Decryptor{Discovery: []Discovery{{Service: noResolver{f.svc}, Region: "cn-shanghai", Accounts: []string{"1192853035118460"}}}}
			},
			wantErr:   []error{ErrNoKey, ErrKeyMismatch},
			wantCalls: nil,
		},
		{
			name: "discovery of another account",
			dec: func(f *fixture) *Decryptor {
				return &Decryptor{Discovery: []Discovery{{Service: f.svc, Region: "cn-hangzhou", Accounts: []string{"2208745523640391"}}}}
			},
			wantErr: []error{ErrNoKey},
		},
		{
			name: "exact keys before discovery",
			dec: func(f *fixture) *Decryptor {
				return &Decryptor{
					Keys:      []MasterKey{f.key(arnDR)},
					Discovery: []Discovery{{Service: f.svc, Region: "cn-hangzhou", Accounts: []string{"1192853035118460"}}},
				}
			},
			wantCalls: []fakekeys.Call{{Op: "Decrypt", KeyARN: arnDR}},
		},
		{
			name: "message over the caller's key limit: no KMS call",
			dec: func(f *fixture) *Decryptor {
				return &Decryptor{Keys: []MasterKey{f.key(arnMain)}, MaxEncryptedKeys: 1}
			},
			wantErr: []error{ErrFormat, ErrLimit},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.enc.Keys = []MasterKey{f.key(arnMain), f.key(arnDR)}
			msg := mustEncrypt(t, f.enc, []byte("hello"), encCtx)
			f.svc.ResetLog()
			if tt.setup != nil {
				tt.setup(f)
			}
			got, err := tt.dec(f).Decrypt(context.Background(), msg, encCtx)
			if len(tt.wantErr) == 0 && (err != nil || string(got) != "hello") {
				t.Fatalf("Decrypt = %q, %v", got, err)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, does not match %v", err, want)
				}
			}
			if err != nil && got != nil {
				t.Error("plaintext returned with an error")
			}
			if calls := f.svc.Calls(); fmt.Sprint(calls) != fmt.Sprint(tt.wantCalls) {
				t.Errorf("calls = %v, want %v", calls, tt.wantCalls)
			}
		})
	}
}

// noResolver hides the fake's ResolveKey.
type noResolver struct{ KeyService }

// TestForeignBlobUnderTrustedARN is the attack the KeyId check stops: the
// attacker makes a message under a key of their own (which the victim may
// also use), labels its encrypted data key with the victim's trusted ARN, and,
// knowing the data key, computes a valid commitment and header tag.
func TestForeignBlobUnderTrustedARN(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dk := bytes.Repeat([]byte{7}, 32)
	f.svc.SetDataKeys(bytes.NewReader(dk))
	attacker := &Encryptor{Keys: []MasterKey{f.key(arnRcpt)}}
	msg := mustEncrypt(t, attacker, []byte("forged"), nil)

	h, n, err := format.ParseBytes(msg, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.Keys[0].ARN = arnMain // the label the victim trusts
	keys, err := stream.Derive(format.Suite1, dk, h.Salt[:], 1)
	if err != nil {
		t.Fatal(err)
	}
	authd := format.AppendPad(h.AppendKeys(h.AppendFixed(nil)))
	tag := keys.HeaderTag(authd)
	forged := append(append(authd, tag[:]...), msg[n:]...)

	victim := &Decryptor{Keys: []MasterKey{f.key(arnMain)}}
	got, err := victim.Decrypt(context.Background(), forged, nil)
	if !errors.Is(err, ErrNoKey) || got != nil {
		t.Fatalf("forged message: %q, %v", got, err)
	}
	// The same message under its true label decrypts for someone who trusts
	// the attacker's key: the forgery is sound, only the label is false.
	if _, err := (&Decryptor{Keys: []MasterKey{f.key(arnRcpt)}}).Decrypt(context.Background(), msg, nil); err != nil {
		t.Fatal(err)
	}
}

func TestNoKeyErrorDetails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.Keys = []MasterKey{f.key(arnMain), f.key(arnDR)}
	msg := mustEncrypt(t, f.enc, []byte("x"), nil)
	f.svc.FailOn("Decrypt", arnMain, fakekeys.Denied("Decrypt"))
	f.svc.FailOn("Decrypt", arnDR, fakekeys.NotFound("Decrypt"))
	d := &Decryptor{Keys: []MasterKey{f.key(arnMain), f.key(arnDR)}}
	_, err := d.Decrypt(context.Background(), msg, nil)
	var nk *NoKeyError
	if !errors.As(err, &nk) {
		t.Fatalf("err = %T %v", err, err)
	}
	if len(nk.Errors) != 2 || fmt.Sprint(nk.KeyARNs) != fmt.Sprint([]string{arnMain, arnDR}) {
		t.Fatalf("NoKeyError = %+v", nk)
	}
	var ke *KeyError
	if !errors.As(nk.Errors[1], &ke) || ke.KeyARN != arnDR || ke.Op != "Decrypt" || !errors.Is(ke, ErrKeyNotFound) {
		t.Errorf("second error = %v", nk.Errors[1])
	}
	var api *APIError
	if !errors.As(err, &api) || api.Code != "Forbidden.NoPermission" {
		t.Errorf("the KMS error is not reachable: %v", err)
	}
	for _, want := range []string{arnMain, arnDR, "Forbidden.NoPermission", "Forbidden.KeyNotFound"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %s", err, want)
		}
	}

	_, err = (&Decryptor{Keys: []MasterKey{f.key(arnRcpt)}}).Decrypt(context.Background(), msg, nil)
	if !errors.As(err, &nk) || len(nk.Errors) != 0 || !strings.Contains(err.Error(), "none of the message's 2 keys is allowed") {
		t.Errorf("no allowed key: %v", err)
	}
}

func TestWrongContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stored := map[string]string{"tenant": "acme", "purpose": "backup"}
	msg := mustEncrypt(t, f.enc, []byte("x"), stored)
	for _, c := range []map[string]string{
		nil,
		{},
		{"tenant": "acme"},
		{"tenant": "acme", "purpose": "backup", "extra": ""},
		{"tenant": "acme", "purpose": "Backup"},
		{"tenant": "acme", "Purpose": "backup"},
	} {
		f.svc.ResetLog()
		if _, err := f.dec.Decrypt(context.Background(), msg, c); !errors.Is(err, ErrNotAuthentic) {
			t.Errorf("context %v: err = %v", c, err)
		}
		if _, err := f.dec.NewReader(context.Background(), bytes.NewReader(msg), c); !errors.Is(err, ErrNotAuthentic) {
			t.Errorf("context %v: NewReader err = %v", c, err)
		}
		if n := len(f.svc.Calls()); n != 0 {
			t.Errorf("context %v: %d KMS calls before the context was checked", c, n)
		}
	}
	// No context: nil and empty are the same.
	msg = mustEncrypt(t, f.enc, []byte("x"), map[string]string{})
	if _, err := f.dec.Decrypt(context.Background(), msg, nil); err != nil {
		t.Errorf("empty vs nil context: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	svc := fakekeys.New(arnMain)
	ok := MasterKey{ARN: arnMain, Service: svc}
	encs := map[string]*Encryptor{
		"no keys":           {},
		"nil service":       {Keys: []MasterKey{{ARN: arnMain}}},
		"alias, not a key":  {Keys: []MasterKey{{ARN: "acs:kms:cn-hangzhou:1192853035118460:alias/app", Service: svc}}},
		"bare key ID":       {Keys: []MasterKey{{ARN: "key-hzz6801a1b2c3d4e5f6g7", Service: svc}}},
		"masked account":    {Keys: []MasterKey{{ARN: "acs:kms:cn-hangzhou:119285303511****:key/key-1", Service: svc}}},
		"duplicate key":     {Keys: []MasterKey{ok, ok}},
		"too many keys":     {Keys: make([]MasterKey, MaxEncryptedKeys+1)},
		"segment too small": {Keys: []MasterKey{ok}, SegmentSize: MinSegmentSize - 1},
		"segment too big":   {Keys: []MasterKey{ok}, SegmentSize: MaxSegmentSize + 1},
	}
	for name, e := range encs {
		if _, err := e.Encrypt(context.Background(), []byte("x"), nil); err == nil {
			t.Errorf("Encryptor %s: accepted", name)
		}
		if _, err := e.NewWriter(context.Background(), io.Discard, nil); err == nil {
			t.Errorf("Encryptor %s: NewWriter accepted", name)
		}
	}
	if n := len(svc.Calls()); n != 0 {
		t.Errorf("%d KMS calls for bad configurations", n)
	}
	if _, err := (&Encryptor{Keys: []MasterKey{ok}}).Encrypt(context.Background(), nil, map[string]string{"": "x"}); !errors.Is(err, ErrFormat) {
		t.Errorf("empty context key: %v", err)
	}
	if _, err := (&Encryptor{Keys: []MasterKey{ok}}).NewSizedWriter(context.Background(), io.Discard, nil, -1); err == nil {
		t.Error("negative size accepted")
	}

	msg := mustEncrypt(t, &Encryptor{Keys: []MasterKey{ok}}, []byte("x"), nil)
	decs := map[string]*Decryptor{
		"nothing allowed":        {},
		"discovery w/o accounts": {Discovery: []Discovery{{Service: svc, Region: "cn-hangzhou"}}},
		"discovery w/o service":  {Discovery: []Discovery{{Region: "cn-hangzhou", Accounts: []string{"1192853035118460"}}}},
		"discovery w/o region":   {Discovery: []Discovery{{Service: svc, Accounts: []string{"1192853035118460"}}}},
		"discovery bad account":  {Discovery: []Discovery{{Service: svc, Region: "cn-hangzhou", Accounts: []string{"*"}}}},
		"negative key limit":     {Keys: []MasterKey{ok}, MaxEncryptedKeys: -1},
	}
	for name, d := range decs {
		if _, err := d.Decrypt(context.Background(), msg, nil); err == nil {
			t.Errorf("Decryptor %s: accepted", name)
		}
	}
}

func TestEncryptFailsOnAnyKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.Keys = []MasterKey{f.key(arnMain), f.key(arnDR)}
	f.svc.FailOn("Encrypt", arnDR, fakekeys.Denied("Encrypt"))
	_, err := f.enc.Encrypt(context.Background(), []byte("x"), nil)
	var ke *KeyError
	if !errors.As(err, &ke) || ke.KeyARN != arnDR || ke.Op != "Encrypt" || !errors.Is(err, ErrAccessDenied) {
		t.Errorf("err = %v", err)
	}
	f.svc.FailOn("GenerateDataKey", arnMain, fakekeys.NotFound("GenerateDataKey"))
	if _, err := f.enc.NewWriter(context.Background(), io.Discard, nil); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("err = %v", err)
	}
}

func TestDataKeysAreWiped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ks := &keepingService{KeyService: f.svc}
	key := MasterKey{ARN: arnMain, Service: ks}
	enc := &Encryptor{Keys: []MasterKey{key}}
	dec := &Decryptor{Keys: []MasterKey{key}}
	msg := mustEncrypt(t, enc, []byte("x"), nil)
	var buf bytes.Buffer
	w, _ := enc.NewWriter(context.Background(), &buf, nil)
	w.Write([]byte("y"))
	w.Close()
	if _, err := dec.Decrypt(context.Background(), msg, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := streamDecrypt(dec, buf.Bytes(), nil, 10); err != nil {
		t.Fatal(err)
	}
	if err := dec.AddKeys(context.Background(), io.Discard, bytes.NewReader(msg), f.key(arnDR)); err != nil {
		t.Fatal(err)
	}
	if !ks.allWiped() {
		t.Error("a plaintext data key handed to envelope was not wiped")
	}
}

func TestWriterLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w, err := f.enc.NewWriter(context.Background(), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if _, err := w.ReadFrom(strings.NewReader("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadFrom after Close: %v", err)
	}

	boom := errors.New("disk full")
	fw := &failingWriter{after: 1, err: boom}
	w, err = f.enc.NewWriter(context.Background(), fw, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 3*DefaultSegmentSize))
	if _, err := w.Write([]byte("x")); !errors.Is(err, boom) {
		t.Errorf("Write after a failed write: %v", err)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Errorf("Close after a failed write: %v", err)
	}
	if w.ring != nil || w.keys != nil {
		t.Error("a failed Writer keeps its plaintext buffer and keys after Close")
	}
	if _, err := f.enc.NewWriter(context.Background(), &failingWriter{err: boom}, nil); !errors.Is(err, boom) {
		t.Errorf("header write failure: %v", err)
	}

	// The same with several goroutines sealing: the failure surfaces from
	// the bulk Write, or from ReadFrom, and sticks.
	f.enc.Concurrency, f.enc.SegmentSize = 3, 64
	for _, feed := range []func(w *Writer, p []byte) error{
		func(w *Writer, p []byte) error { _, err := w.Write(p); return err },
		func(w *Writer, p []byte) error { _, err := w.ReadFrom(bytes.NewReader(p)); return err },
	} {
		w, err := f.enc.NewWriter(context.Background(), &failingWriter{after: 3, err: boom}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := feed(w, make([]byte, 100*64)); !errors.Is(err, boom) {
			t.Errorf("bulk write with a failing destination: %v", err)
		}
		if err := w.Close(); !errors.Is(err, boom) {
			t.Errorf("Close after it: %v", err)
		}
	}
}

type failingWriter struct {
	after int
	err   error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after == 0 {
		return 0, w.err
	}
	w.after--
	return len(p), nil
}

func TestSizedWriter(t *testing.T) {
	t.Parallel()
	for _, conc := range []int{1, 3} {
		testSizedWriter(t, conc)
	}
}

func testSizedWriter(t *testing.T, conc int) {
	f := newFixture(t)
	f.enc.SegmentSize = 64
	f.enc.Concurrency = conc
	pt := pattern(3000)
	for _, wp := range writePatterns {
		var buf bytes.Buffer
		w, err := f.enc.NewSizedWriter(context.Background(), &buf, nil, 3000)
		if err != nil {
			t.Fatal(err)
		}
		if err := wp.write(w, pt); err != nil {
			t.Fatalf("%s: %v", wp.name, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got, err := f.dec.Decrypt(context.Background(), buf.Bytes(), nil); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%s: %v", wp.name, err)
		}

		w, _ = f.enc.NewSizedWriter(context.Background(), io.Discard, nil, 2999)
		err = wp.write(w, pt)
		if !errors.Is(err, ErrLimit) {
			t.Errorf("%s: writing 3000 bytes into a 2999-byte writer: %v", wp.name, err)
		}
		if err := w.Close(); !errors.Is(err, ErrLimit) {
			t.Errorf("%s: Close after overflow: %v", wp.name, err)
		}
	}
}

func TestSegmentCounterLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.SegmentSize = 64
	w, err := f.enc.NewWriter(context.Background(), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.next = format.MaxSegments - 2 // two segments left: indices 2^32-2 and 2^32-1
	if _, err := w.Write(make([]byte, 128)); err != nil {
		t.Fatalf("filling the last two segments: %v", err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrLimit) {
		t.Errorf("a 2^32+1st segment: %v", err)
	}

	w, _ = f.enc.NewWriter(context.Background(), io.Discard, nil)
	w.next = format.MaxSegments - 1
	w.Write(make([]byte, 64))
	if err := w.Close(); err != nil {
		t.Errorf("final segment at index 2^32-1: %v", err)
	}

	if _, err := segments(int64(format.MaxSegments)*64+1, 64); !errors.Is(err, ErrLimit) {
		t.Errorf("segments over 2^32: %v", err)
	}

	// A message of exactly 2^32 segments whose last is full reads back: the
	// Reader learns it is final from the end of the source. One more byte
	// after it is a 2^32+1st segment.
	var buf bytes.Buffer
	w, _ = f.enc.NewWriter(context.Background(), &buf, nil)
	w.next = format.MaxSegments - 2
	pt := bytes.Repeat([]byte("0123456789abcdef"), 8) // two full segments
	if _, err := w.Write(pt); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	dec := &Decryptor{Keys: []MasterKey{f.key(arnMain)}}
	for _, tt := range []struct {
		name  string
		extra []byte
		want  error
	}{{"exactly 2^32 segments", nil, nil}, {"one byte more", []byte{0}, ErrLimit}} {
		r, err := dec.NewReader(context.Background(), io.MultiReader(bytes.NewReader(buf.Bytes()), bytes.NewReader(tt.extra)), nil)
		if err != nil {
			t.Fatal(err)
		}
		r.rd, r.sub, r.dl = format.MaxSegments-2, format.MaxSegments-2, format.MaxSegments-2
		got, err := io.ReadAll(r)
		if tt.want == nil && (err != nil || !bytes.Equal(got, pt)) {
			t.Errorf("%s: read %d bytes, %v", tt.name, len(got), err)
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestStringsHoldNoSecrets: %v and %#v of every type that holds keys or
// plaintext print its String method's text, which names no secret. The
// secrets are []byte, which fmt prints in decimal (%v) or hex (%#v), so the
// test looks for those renderings too, not only for the text.
func TestStringsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dataKey := bytes.Repeat([]byte("SECRETDATAKEY!!!"), 2)
	plaintext := []byte("PLAINTEXT")
	f.svc.SetDataKeys(bytes.NewReader(bytes.Repeat(dataKey, 50)))
	var buf bytes.Buffer
	w, err := f.enc.NewWriter(context.Background(), &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plaintext)
	cache, _ := NewCache(1)
	kms := NewKMS(nil)
	type printed struct{ got, want string }
	var texts []printed
	both := func(v any, want string) {
		texts = append(texts, printed{fmt.Sprint(v), want}, printed{fmt.Sprintf("%#v", v), want})
	}
	both(w, fmt.Sprintf("envelope.Writer{segment size %d, %d bytes written}", DefaultSegmentSize, len(plaintext)))
	both(cache, "envelope.Cache{0 entries, max age 1ns}")
	both(f.svc, "fakekeys.Service")
	both(kms, "envelope.KMS")
	w.Close()
	r, err := f.dec.NewReader(context.Background(), bytes.NewReader(buf.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(r)
	both(r, fmt.Sprintf("envelope.Reader{segment size %d, key %s}", DefaultSegmentSize, arnMain))

	var forms []string
	for _, secret := range [][]byte{dataKey, plaintext} {
		hexBytes := make([]string, len(secret))
		for i, b := range secret {
			hexBytes[i] = fmt.Sprintf("%#x", b)
		}
		forms = append(forms,
			string(secret),
			strings.Trim(fmt.Sprint(secret), "[]"), // %v: decimal
			strings.Join(hexBytes, ", "),           // %#v: []byte{0x53, 0x45, …}
			fmt.Sprintf("%x", secret),
			fmt.Sprintf("% x", secret),
			base64.StdEncoding.EncodeToString(secret),
		)
	}
	for _, p := range texts {
		if p.got != p.want {
			t.Errorf("printed %.200q, want %q", p.got, p.want)
		}
		for _, form := range forms {
			if strings.Contains(p.got, form) {
				t.Errorf("%.200q shows a secret as %q", p.got, form)
			}
		}
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	msg := mustEncrypt(t, f.enc, []byte("x"), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.enc.Encrypt(ctx, []byte("x"), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Encrypt: %v", err)
	}
	if _, err := f.dec.Decrypt(ctx, msg, nil); !errors.Is(err, context.Canceled) || errors.Is(err, ErrNoKey) {
		t.Errorf("Decrypt: %v", err)
	}
}

// stalled returns no bytes and no error forever, which the io.Reader
// contract discourages but does not forbid.
type stalled struct{}

func (stalled) Read([]byte) (int, error) { return 0, nil }

// TestStalledSources: a source that stops making progress ends a read,
// a ReadFrom or a Rewrap with io.ErrNoProgress instead of spinning forever.
func TestStalledSources(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.Keys = []MasterKey{f.key(arnMain)}
	f.enc.SegmentSize = 64
	msg := mustEncrypt(t, f.enc, bytes.Repeat([]byte("x"), 1000), nil)
	_, n, err := format.ParseBytes(msg, 0)
	if err != nil {
		t.Fatal(err)
	}
	cut := func() io.Reader { return io.MultiReader(bytes.NewReader(msg[:n+10]), stalled{}) }
	dec := &Decryptor{Keys: []MasterKey{f.key(arnMain)}}

	r, err := dec.NewReader(context.Background(), cut(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("Reader on a stalled body: %v", err)
	}
	if err := dec.Rewrap(context.Background(), io.Discard, cut(), f.key(arnDR)); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("Rewrap of a stalled body: %v", err)
	}
	for _, c := range []int{1, 3} {
		f.enc.Concurrency = c
		w, err := f.enc.NewWriter(context.Background(), io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.ReadFrom(io.MultiReader(bytes.NewReader(make([]byte, 300)), stalled{})); !errors.Is(err, io.ErrNoProgress) {
			t.Errorf("ReadFrom a stalled source (concurrency %d): %v", c, err)
		}
	}
}
