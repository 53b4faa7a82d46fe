package aliesdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/kmsshare/kmsshare/envelope"
)

// unauthenticated lists every CBC and CTR suite: the vectors opt into all.
var unauthenticated = []Suite{AES128CBC, AES256CBC, AES128CBCPKCS7, AES256CBCPKCS7, AES128CTR, AES256CTR, SM4CBC, SM4CBCPKCS7, SM4CTR}

func (v *vector) decryptor(svc envelope.KeyService, edks []edkJSON) *Decryptor {
	d := &Decryptor{AllowUnauthenticated: unauthenticated}
	for _, e := range edks {
		d.Keys = append(d.Keys, envelope.MasterKey{ARN: e.KeyID, Service: svc})
	}
	return d
}

// encryptor reproduces the SDK's encryption: the provider key first, the
// further keys in the order the SDK was given them, the vector's IVs.
func (v *vector) encryptor(t *testing.T, svc envelope.KeyService) *Encryptor {
	arns := []string{v.ProviderARN}
	if v.ExtraARNs != nil {
		arns = append(arns, v.ExtraARNs...)
	} else {
		for _, e := range v.EDKs {
			if e.KeyID != v.ProviderARN {
				arns = append(arns, e.KeyID)
			}
		}
	}
	e := &Encryptor{Suite: Suite(v.AlgorithmID)}
	for _, a := range arns {
		e.Keys = append(e.Keys, envelope.MasterKey{ARN: a, Service: svc})
	}
	e.Rand = &detReader{append(unhex(t, v.HeaderIVHex), unhex(t, v.BodyIVHex)...)}
	return e
}

// TestVectors handles every vector as its manifest says: decrypt (or
// refuse) through the fake KMS the vectors were made with, check the parsed
// fields and authenticated strings against the manifest, and re-encrypt
// with the same data key and IVs to the same bytes.
func TestVectors(t *testing.T) {
	vs := allVectors(t)
	if len(vs) != 36 {
		t.Errorf("%d vectors, want 36", len(vs))
	}
	for _, id := range slices.Sorted(maps.Keys(vs)) {
		v := vs[id]
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			msg := v.read(t, v.File)
			if sum := sha256.Sum256(msg); v.MessageSHA != "" && hex.EncodeToString(sum[:]) != v.MessageSHA {
				t.Fatalf("message does not match message_sha256")
			}
			switch {
			case v.Expect == "parse-only":
				testParseOnly(t, v, msg)
			case v.Expect == "error":
				testRefused(t, v, vs[v.DerivedFrom], msg)
			case v.Expect == "ok" && v.Kind == "asn1-message":
				testASN1(t, v, msg)
			case v.Expect == "ok" && v.Kind == "stream":
				testStream(t, v, msg)
			case v.Expect == "ok" && v.HeaderFile != "":
				testDetached(t, v, v.read(t, v.HeaderFile), msg)
			default:
				t.Fatalf("no test for kind %q expect %q", v.Kind, v.Expect)
			}
		})
	}
}

// checkHeader compares a parsed header with the manifest.
func checkHeader(t *testing.T, v *vector, h *header, ivHex, tagHex, aadHex string) {
	t.Helper()
	if v.Version != 0 && (h.version != v.Version || uint32(h.suite) != v.AlgorithmID || h.suite.String() != v.Algorithm) {
		t.Errorf("version %d suite %s, want %d %s", h.version, h.suite, v.Version, v.Algorithm)
	}
	if got := h.context(); !maps.Equal(got, v.Context) && !(len(got) == 0 && len(v.Context) == 0) {
		t.Errorf("context %v, want %v", got, v.Context)
	}
	if v.EDKs == nil { // py-secretmanager-gcm256 lists none: its header is checked by tag and decryption
		return
	}
	if len(h.keys) != len(v.EDKs) {
		t.Fatalf("%d EDKs, want %d", len(h.keys), len(v.EDKs))
	}
	for i, e := range v.EDKs {
		if h.keys[i].KeyARN != e.KeyID || string(h.keys[i].Blob) != e.Base64 {
			t.Errorf("EDK %d: %s %s, want %s %s", i, h.keys[i].KeyARN, h.keys[i].Blob, e.KeyID, e.Base64)
		}
	}
	if hex.EncodeToString(h.iv) != ivHex || hex.EncodeToString(h.tag) != tagHex {
		t.Errorf("header IV/tag %x/%x, want %s/%s", h.iv, h.tag, ivHex, tagHex)
	}
	if got := hex.EncodeToString(h.authBytes()); got != aadHex {
		t.Errorf("auth bytes\n %s\nwant\n %s", got, aadHex)
	}
	if got := hex.EncodeToString(ctxBytes(h.ctx)); h.suite.Authenticated() && got != v.BodyAADHex {
		t.Errorf("body AAD %s, want %s", got, v.BodyAADHex)
	}
}

func checkBody(t *testing.T, v *vector, b *body) {
	t.Helper()
	if hex.EncodeToString(b.iv) != v.BodyIVHex || hex.EncodeToString(b.tag) != v.BodyTagHex {
		t.Errorf("body IV/tag %x/%x, want %s/%s", b.iv, b.tag, v.BodyIVHex, v.BodyTagHex)
	}
}

func decryptOK(t *testing.T, v *vector, h *header, want []byte, decrypt func(*Decryptor) ([]byte, error)) *fakeKMS {
	t.Helper()
	svc := &fakeKMS{id: v.ID}
	edks := v.EDKs
	if edks == nil {
		for _, k := range h.keys {
			edks = append(edks, edkJSON{KeyID: k.KeyARN, Base64: string(k.Blob)})
		}
	}
	got, err := decrypt(v.decryptor(svc, edks))
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("plaintext differs (%d bytes, want %d)", len(got), len(want))
	}
	// The data key the fake KMS unwrapped is the manifest's (else the
	// header tag would have failed); check it outright too.
	pt, err := svc.Decrypt(context.Background(), edks[0].KeyID, []byte(edks[0].Base64), v.Context)
	if err != nil || hex.EncodeToString(pt) != v.DataKeyHex {
		t.Errorf("EDK does not unwrap to data_key_hex: %v", err)
	}
	// Without the unauthenticated opt-in, CBC and CTR are refused before KMS.
	if !h.suite.Authenticated() {
		d := v.decryptor(svc, edks)
		d.AllowUnauthenticated = nil
		if got, err := decrypt(d); !errors.Is(err, ErrUnsupported) || got != nil {
			t.Errorf("%s without opt-in: %v", h.suite, err)
		}
	}
	return svc
}

func testASN1(t *testing.T, v *vector, msg []byte) {
	ctx := context.Background()
	want := v.plaintext(t)
	h, b, err := parseASN1(msg, DefaultMaxEncryptedKeys)
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, v, h, v.HeaderIVHex, v.HeaderTagHex, v.HeaderAADHex)
	checkBody(t, v, b)
	if info, err := Inspect(msg); err != nil || info.Suite != h.suite || !slices.Equal(info.KeyARNs, h.keyARNs()) || !maps.Equal(info.Context, h.context()) {
		t.Errorf("Inspect: %+v, %v", info, err)
	}
	decryptOK(t, v, h, want, func(d *Decryptor) ([]byte, error) { return d.Decrypt(ctx, msg, v.Context) })
	decryptOK(t, v, h, want, func(d *Decryptor) ([]byte, error) { return d.DecryptInPlace(ctx, bytes.Clone(msg), v.Context) })

	svc := &fakeKMS{id: v.ID, dataKey: unhex(t, v.DataKeyHex)}
	e := v.encryptor(t, svc)
	var again []byte
	if Suite(v.AlgorithmID).Authenticated() {
		again, err = e.Encrypt(ctx, want, v.Context)
	} else {
		if _, err := e.Encrypt(ctx, want, v.Context); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Encrypt with %s: %v, want ErrUnsupported", v.Algorithm, err)
		}
		e.Rand = &detReader{append(unhex(t, v.HeaderIVHex), unhex(t, v.BodyIVHex)...)}
		again, err = e.encryptASN1(ctx, Suite(v.AlgorithmID), want, v.Context)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, msg) {
		t.Errorf("re-encryption differs:\n got %x\nwant %x", again, msg)
	}
	if v.KMSCalls != nil && !slices.Equal(svc.Calls(), v.KMSCalls) {
		t.Errorf("KMS calls %v, want %v", svc.Calls(), v.KMSCalls)
	}
}

func testStream(t *testing.T, v *vector, msg []byte) {
	ctx := context.Background()
	want := v.plaintext(t)
	h, iv, err := parseStreamHeader(bytes.NewReader(msg[:v.StreamHdrLen+4+len(v.BodyIVHex)/2]), DefaultMaxEncryptedKeys)
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, v, h, v.HeaderIVHex, v.HeaderTagHex, v.HeaderAADHex)
	if hex.EncodeToString(iv) != v.BodyIVHex {
		t.Errorf("body IV %x, want %s", iv, v.BodyIVHex)
	}
	decryptOK(t, v, h, want, func(d *Decryptor) ([]byte, error) { return d.DecryptStream(ctx, bytes.NewReader(msg), v.Context) })
	// A reader that does not know its length, handing out a few bytes at a time.
	decryptOK(t, v, h, want, func(d *Decryptor) ([]byte, error) { return d.DecryptStream(ctx, &trickle{msg}, v.Context) })

	svc := &fakeKMS{id: v.ID, dataKey: unhex(t, v.DataKeyHex)}
	e := v.encryptor(t, svc)
	var again []byte
	if Suite(v.AlgorithmID).Authenticated() {
		again, err = e.EncryptStream(ctx, want, v.Context)
	} else {
		again, err = e.encryptStream(ctx, Suite(v.AlgorithmID), want, v.Context)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, msg) {
		t.Errorf("re-encryption differs:\n got %x\nwant %x", again, msg)
	}
	if v.KMSCalls != nil && !slices.Equal(svc.Calls(), v.KMSCalls) {
		t.Errorf("KMS calls %v, want %v", svc.Calls(), v.KMSCalls)
	}
}

// trickle is an io.Reader of at most 7 bytes per call, without Len.
type trickle struct{ b []byte }

func (r *trickle) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, errEOF
	}
	n := copy(p[:min(len(p), 7)], r.b)
	r.b = r.b[n:]
	return n, nil
}

func testDetached(t *testing.T, v *vector, head, bodyDER []byte) {
	ctx := context.Background()
	want := v.plaintext(t)
	h, err := parseHeadDER(head, DefaultMaxEncryptedKeys)
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, v, h, v.StoredIVHex, v.StoredTagHex, v.StoredAADHex)
	b, err := parseBodyDER(bodyDER, h.suite)
	if err != nil {
		t.Fatal(err)
	}
	checkBody(t, v, b)
	decryptOK(t, v, h, want, func(d *Decryptor) ([]byte, error) { return d.DecryptDetached(ctx, head, bodyDER, v.Context) })
	// The body alone is not a container A message.
	if _, err := (&Decryptor{Keys: []envelope.MasterKey{{ARN: h.keys[0].KeyARN, Service: &fakeKMS{}}}}).Decrypt(ctx, bodyDER, v.Context); !errors.Is(err, ErrFormat) {
		t.Errorf("body as a whole message: %v", err)
	}
}

// testRefused: the negative vectors fail, with no plaintext, whether the
// caller gives the original context or the one in the tampered message.
func testRefused(t *testing.T, v, from *vector, msg []byte) {
	if from == nil {
		t.Fatalf("derived_from %q not found", v.DerivedFrom)
	}
	ctx := context.Background()
	svc := &fakeKMS{id: from.ID}
	d := v.decryptor(svc, from.EDKs)
	got, err := d.Decrypt(ctx, msg, from.Context)
	if err == nil || got != nil {
		t.Fatalf("decrypted a tampered message (%v)", err)
	}
	if !errors.Is(err, ErrNotAuthentic) {
		t.Errorf("with the original context: %v, want ErrNotAuthentic", err)
	}
	if h, _, perr := parseASN1(msg, DefaultMaxEncryptedKeys); perr == nil {
		got, err := d.Decrypt(ctx, msg, h.context())
		if err == nil || got != nil {
			t.Fatalf("decrypted a tampered message with its own context")
		}
		// The flipped context is KMS AAD: the fake KMS refuses the EDK.
		if v.ID == "neg-ctx-value-flip" && !errors.Is(err, envelope.ErrNoKey) {
			t.Errorf("with the tampered context: %v, want ErrNoKey", err)
		}
		if v.ID != "neg-ctx-value-flip" && !errors.Is(err, ErrNotAuthentic) {
			t.Errorf("with the message's context: %v, want ErrNotAuthentic", err)
		}
	}
}

// testParseOnly: Alibaba's own fixture (no data key) parses to the values in
// the manifest and re-encodes to the same bytes.
func testParseOnly(t *testing.T, v *vector, msg []byte) {
	h, b, err := parseASN1(msg, DefaultMaxEncryptedKeys)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(h.context(), v.Context) {
		t.Errorf("context %v, want %v", h.context(), v.Context)
	}
	if len(h.keys) != 1 || h.keys[0].KeyARN != v.EDKKeyID {
		t.Fatalf("keys %v, want one under %s", h.keyARNs(), v.EDKKeyID)
	}
	if raw := rawBlob(t, h.keys[0].Blob); hex.EncodeToString(raw) != v.EDKRawHex {
		t.Errorf("EDK %x, want %s", raw, v.EDKRawHex)
	}
	if again := encodeParsed(t, h, b); !bytes.Equal(again, msg) {
		t.Errorf("re-encoded differs:\n got %x\nwant %x", again, msg)
	}
}

// encodeParsed writes a parsed message back as container A.
func encodeParsed(t testing.TB, h *header, b *body) []byte {
	head, err := h.appendHeadDER(nil)
	if err != nil {
		t.Fatal(err)
	}
	buf, _ := asn1Frame(head, b.iv, len(b.ct), len(b.tag))
	buf = append(buf, b.ct...)
	return appendTLV(buf, tagOctetString, b.tag)
}
