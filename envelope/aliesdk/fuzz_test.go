package aliesdk

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/kmsshare/kmsshare/envelope"
)

// known holds the authenticated content of the seeds: the only messages a
// fuzzer may get decrypted (a different DER encoding of the same content,
// such as another SET order, is the same message). Anything else that
// decrypts is a forgery.
type known map[string]string

func content(h *header, iv, ctTag []byte) string {
	return string(h.authBytes()) + "|" + string(h.iv) + string(h.tag) + "|" + string(iv) + "|" + string(ctTag)
}

func (k known) check(t *testing.T, h *header, iv, ctTag, pt []byte, err error) {
	t.Helper()
	if err != nil {
		if pt != nil {
			t.Fatalf("plaintext returned with an error")
		}
		return
	}
	want, ok := k[content(h, iv, ctTag)]
	if !ok || want != string(pt) {
		t.Fatalf("a message that is no seed decrypted")
	}
}

// fuzzDecryptor allows every key a fuzzed message can name through a fake
// KMS that really unwraps: garbage never yields a data key, let alone
// plaintext, and the parser must neither panic nor over-allocate.
func fuzzDecryptor() *Decryptor {
	svc := &fakeKMS{id: "fuzz"}
	return &Decryptor{
		Keys:                 []envelope.MasterKey{{ARN: arnA, Service: svc}, {ARN: arnB, Service: svc}},
		AllowUnauthenticated: unauthenticated,
		MaxSize:              1 << 20,
	}
}

// seedMessages are small messages of this package's own making (the seed
// corpus in testdata/fuzz holds more, including the shapes of the vectors).
func seedMessages(f *testing.F) (asn1, stream [][]byte, k known) {
	k = known{}
	ctx := context.Background()
	svc := &fakeKMS{id: "fuzz", dataKey: bytes.Repeat([]byte{1}, 32)}
	// Fixed IVs: the fuzzing workers rebuild the seeds and must get the same.
	e := &Encryptor{Keys: []envelope.MasterKey{{ARN: arnA, Service: svc}, {ARN: arnB, Service: svc}},
		Rand: rand.NewChaCha8([32]byte{15})}
	for _, c := range []map[string]string{nil, {"k": "v", "a": ""}} {
		for _, pt := range [][]byte{nil, []byte("hello")} {
			m, err := e.Encrypt(ctx, pt, c)
			if err != nil {
				f.Fatal(err)
			}
			s, err := e.EncryptStream(ctx, pt, c)
			if err != nil {
				f.Fatal(err)
			}
			asn1, stream = append(asn1, m), append(stream, s)
			h, b, err := parseASN1(m, MaxEncryptedKeys)
			if err != nil {
				f.Fatal(err)
			}
			k[content(h, b.iv, append(bytes.Clone(b.ct), b.tag...))] = string(pt)
			r := bytes.NewReader(s)
			hs, iv, err := parseStreamHeader(r, MaxEncryptedKeys)
			if err != nil {
				f.Fatal(err)
			}
			k[content(hs, iv, s[len(s)-r.Len():])] = string(pt)
		}
	}
	return asn1, stream, k
}

// FuzzDecrypt: container A. Whatever parses re-encodes to a message that
// parses to the same header and body.
func FuzzDecrypt(f *testing.F) {
	asn1, _, k := seedMessages(f)
	for _, m := range asn1 {
		f.Add(m)
	}
	d := fuzzDecryptor()
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, b, perr := parseASN1(msg, MaxEncryptedKeys)
		pt, err := d.Decrypt(context.Background(), msg, seedContext(h))
		if perr != nil {
			if err == nil || pt != nil {
				t.Fatalf("an unparsable message decrypted")
			}
			return
		}
		k.check(t, h, b.iv, append(bytes.Clone(b.ct), b.tag...), pt, err)
		again := encodeParsed(t, h, b)
		h2, b2, err := parseASN1(again, MaxEncryptedKeys)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
		if !bytes.Equal(h.authBytes(), h2.authBytes()) || !bytes.Equal(b.ct, b2.ct) || !bytes.Equal(b.tag, b2.tag) {
			t.Fatalf("re-encoding changed the message")
		}
	})
}

// FuzzDecryptStream: container B, through a reader that knows no length.
func FuzzDecryptStream(f *testing.F) {
	_, stream, k := seedMessages(f)
	for _, m := range stream {
		f.Add(m)
	}
	d := fuzzDecryptor()
	f.Fuzz(func(t *testing.T, msg []byte) {
		r := bytes.NewReader(msg)
		h, iv, perr := parseStreamHeader(r, MaxEncryptedKeys)
		pt, err := d.DecryptStream(context.Background(), &trickle{msg}, seedContext(h))
		if perr != nil {
			if err == nil || pt != nil {
				t.Fatalf("an unparsable message decrypted")
			}
			return
		}
		rest := msg[len(msg)-r.Len():]
		k.check(t, h, iv, rest, pt, err)
	})
}

// FuzzDecryptDetached: container C, the header and body split at any point.
func FuzzDecryptDetached(f *testing.F) {
	asn1, _, k := seedMessages(f)
	for _, m := range asn1 {
		h, b, err := parseASN1(m, MaxEncryptedKeys)
		if err != nil {
			f.Fatal(err)
		}
		head, _ := h.appendHeadDER(nil)
		full := encodeParsed(f, h, b)
		f.Add(append(head, full[len(full)-derSize(len(b.iv))-derSize(len(b.ct))-derSize(len(b.tag))-2:]...), len(head))
	}
	d := fuzzDecryptor()
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		if split < 0 || split > len(data) {
			return
		}
		h, herr := parseHeadDER(data[:split], MaxEncryptedKeys)
		pt, err := d.DecryptDetached(context.Background(), data[:split], data[split:], seedContext(h))
		if herr != nil {
			if err == nil || pt != nil {
				t.Fatalf("an unparsable message decrypted")
			}
			return
		}
		b, berr := parseBodyDER(data[split:], h.suite)
		if berr != nil {
			if err == nil || pt != nil {
				t.Fatalf("an unparsable body decrypted")
			}
			return
		}
		k.check(t, h, b.iv, append(bytes.Clone(b.ct), b.tag...), pt, err)
	})
}

// seedContext is the context a parsed header claims, so that the fuzzer
// gets past the context check (nil for an unparsable header).
func seedContext(h *header) map[string]string {
	if h == nil {
		return nil
	}
	return h.context()
}
