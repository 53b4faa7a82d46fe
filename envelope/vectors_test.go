package envelope

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors from the specs in vectors_test.go")

const vectorDir = "testdata/vectors"

const vectorComment = "kmsshare envelope format v1 test vector. data_key is a fixed, " +
	"TEST-ONLY fake key that exists only to make this file reproducible; never use it for real data. " +
	"Encrypted data keys are labels made by the test's vector key service, not KMS ciphertexts."

// vector is one file in testdata/vectors.
type vector struct {
	Comment        string            `json:"comment"`
	Name           string            `json:"name"`
	Result         string            `json:"result"`          // "valid" or "invalid"
	Error          string            `json:"error,omitempty"` // for invalid: the sentinel errors.Is must match
	Description    string            `json:"description"`
	DataKey        string            `json:"data_key"` // hex, test-only
	Salt           string            `json:"salt"`     // hex
	SegmentSize    int               `json:"segment_size"`
	Keys           []string          `json:"keys"` // master key ARNs, in encryption order
	Context        map[string]string `json:"encryption_context"`
	DecryptContext map[string]string `json:"decrypt_context,omitempty"` // when it differs from the stored one
	Plaintext      string            `json:"plaintext,omitempty"`       // hex
	DerivedFrom    string            `json:"derived_from,omitempty"`
	AddedKeys      []string          `json:"added_keys,omitempty"` // for a vector made with AddKeys
	Message        string            `json:"message"`              // hex
}

// vectorKeys is a key service with one fixed data key. Its "encrypted data
// keys" are labels that name the master key and prove nothing: the vectors
// lock the envelope format, not a KMS.
type vectorKeys struct{ dk []byte }

func vectorBlob(keyARN string) []byte { return []byte("test-vector-edk:" + keyARN) }

func (v vectorKeys) GenerateDataKey(_ context.Context, a string, _ map[string]string) ([]byte, []byte, error) {
	return bytes.Clone(v.dk), vectorBlob(a), nil
}

func (v vectorKeys) Encrypt(_ context.Context, a string, pt []byte, _ map[string]string) ([]byte, error) {
	if !bytes.Equal(pt, v.dk) {
		return nil, errors.New("vector service: unexpected data key")
	}
	return vectorBlob(a), nil
}

func (v vectorKeys) Decrypt(_ context.Context, a string, blob []byte, _ map[string]string) ([]byte, error) {
	if !bytes.Equal(blob, vectorBlob(a)) {
		return nil, fmt.Errorf("vector service: blob is not under %s: %w", a, ErrKeyMismatch)
	}
	return bytes.Clone(v.dk), nil
}

func (v *vector) masterKeys(t testing.TB, arns []string) []MasterKey {
	dk, err := hex.DecodeString(v.DataKey)
	if err != nil {
		t.Fatal(err)
	}
	var keys []MasterKey
	for _, a := range arns {
		keys = append(keys, MasterKey{ARN: a, Service: vectorKeys{dk}})
	}
	return keys
}

func (v *vector) encryptor(t testing.TB, conc int) *Encryptor {
	salt, err := hex.DecodeString(v.Salt)
	if err != nil {
		t.Fatal(err)
	}
	return &Encryptor{Keys: v.masterKeys(t, v.Keys), SegmentSize: v.SegmentSize, Concurrency: conc, rand: bytes.NewReader(salt)}
}

func (v *vector) decryptContext() map[string]string {
	if v.DecryptContext != nil {
		return v.DecryptContext
	}
	return v.Context
}

func mustHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in %s (run go test -run TestVectors -update): %v", vectorDir, err)
	}
	byName := map[string]*vector{}
	var all []*vector
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		v := &vector{}
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if filepath.Base(f) != v.Name+".json" {
			t.Fatalf("%s holds vector %q", f, v.Name)
		}
		byName[v.Name] = v
		all = append(all, v)
	}
	for _, v := range all {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			msg := mustHex(t, v.Message)
			dec := &Decryptor{Keys: v.masterKeys(t, append(v.Keys, v.AddedKeys...))}
			switch v.Result {
			case "valid":
				checkValidVector(t, v, byName, msg, dec)
			case "invalid":
				checkInvalidVector(t, v, msg, dec)
			default:
				t.Fatalf("result %q", v.Result)
			}
		})
	}
}

func checkValidVector(t *testing.T, v *vector, byName map[string]*vector, msg []byte, dec *Decryptor) {
	pt := mustHex(t, v.Plaintext)
	// The message is what this code makes from the same inputs, every way.
	if v.DerivedFrom == "" {
		for _, conc := range []int{1, 4} {
			got, err := v.encryptor(t, conc).Encrypt(context.Background(), pt, v.Context)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("Encrypt (Concurrency %d) no longer reproduces the vector", conc)
			}
			var buf bytes.Buffer
			w, err := v.encryptor(t, conc).NewWriter(context.Background(), &buf, v.Context)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(pt)
			if err := w.Close(); err != nil || !bytes.Equal(buf.Bytes(), msg) {
				t.Fatalf("Writer (Concurrency %d) no longer reproduces the vector: %v", conc, err)
			}
		}
	} else {
		src := byName[v.DerivedFrom]
		if src == nil {
			t.Fatalf("derived from unknown vector %q", v.DerivedFrom)
		}
		var buf bytes.Buffer
		d := &Decryptor{Keys: src.masterKeys(t, src.Keys)}
		if err := d.AddKeys(context.Background(), &buf, bytes.NewReader(mustHex(t, src.Message)), v.masterKeys(t, v.AddedKeys)...); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), msg) {
			t.Fatal("AddKeys no longer reproduces the vector")
		}
	}
	got, err := dec.Decrypt(context.Background(), msg, v.decryptContext())
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Decrypt: %v", err)
	}
	got, err = streamDecrypt(dec, msg, v.decryptContext(), 7)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Reader: %v", err)
	}
	// Each master key on its own decrypts.
	for _, k := range dec.Keys {
		one := &Decryptor{Keys: []MasterKey{k}}
		if _, err := one.Decrypt(context.Background(), msg, v.decryptContext()); err != nil {
			t.Errorf("%s alone: %v", k.ARN, err)
		}
	}
}

var vectorErrors = map[string]error{
	"ErrNotAuthentic": ErrNotAuthentic,
	"ErrUnsupported":  ErrUnsupported,
	"ErrFormat":       ErrFormat,
	"ErrNoKey":        ErrNoKey,
}

// TestCommitmentCheckAlone: the vector only the key commitment check can
// refuse is refused for that reason.
func TestCommitmentCheckAlone(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(vectorDir, "invalid-commitment-only.json"))
	if err != nil {
		t.Fatal(err)
	}
	v := &vector{}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
	dec := &Decryptor{Keys: v.masterKeys(t, v.Keys)}
	_, err = dec.Decrypt(context.Background(), mustHex(t, v.Message), nil)
	if !errors.Is(err, ErrNotAuthentic) || !strings.Contains(err.Error(), "key commitment") {
		t.Errorf("Decrypt: %v, want the key commitment refused", err)
	}
}

func checkInvalidVector(t *testing.T, v *vector, msg []byte, dec *Decryptor) {
	want := vectorErrors[v.Error]
	if want == nil {
		t.Fatalf("unknown error %q", v.Error)
	}
	got, err := dec.Decrypt(context.Background(), msg, v.decryptContext())
	if !errors.Is(err, want) || got != nil {
		t.Errorf("Decrypt: %v, want %s", err, v.Error)
	}
	out, err := streamDecrypt(dec, msg, v.decryptContext(), 1000)
	if !errors.Is(err, want) {
		t.Errorf("Reader: %v, want %s", err, v.Error)
	}
	if pt := v.Plaintext; pt != "" && !bytes.HasPrefix(mustHex(t, pt), out) {
		t.Error("Reader released bytes that are not a prefix of the plaintext")
	}
}

// ---- generation (only with -update) ----

type vectorSpec struct {
	name, description string
	size, seg         int
	text              string // plaintext, if not a pattern
	keys              []string
	ctx               map[string]string
}

var vectorSpecs = []vectorSpec{
	{name: "empty", description: "empty plaintext: one empty final segment", seg: 64, keys: []string{arnMain}},
	{name: "short-text", description: "short ASCII plaintext in one segment of the default size, with a context",
		text: "hello, envelope", keys: []string{arnMain}, ctx: map[string]string{"purpose": "test-vector"}},
	{name: "one-full-segment", description: "exactly one segment of plaintext: a full final segment", size: 64, seg: 64, keys: []string{arnMain}},
	{name: "partial-final", description: "two segments, the final one partial", size: 100, seg: 64, keys: []string{arnMain}},
	{name: "exact-multiple", description: "three full segments, the last one final", size: 192, seg: 64, keys: []string{arnMain}},
	{name: "multi-key-context", description: "three master keys (main, DR region, recipient account) and a UTF-8 context",
		size: 300, seg: 128, keys: []string{arnMain, arnDR, arnRcpt},
		ctx: map[string]string{"tenant": "租户-7", "purpose": "backup", "empty": ""}},
}

func seedBytes(label string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		s := sha256.Sum256([]byte(fmt.Sprintf("kmsshare-envelope test vector %s %d", label, i)))
		out = append(out, s[:]...)
	}
	return out[:n]
}

func writeVectors(t *testing.T) {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(vectorDir, "*.json"))
	for _, f := range old {
		os.Remove(f)
	}
	if err := os.MkdirAll(vectorDir, 0o755); err != nil {
		t.Fatal(err)
	}
	made := map[string]*vector{}
	for _, s := range vectorSpecs {
		pt := []byte(s.text)
		if s.text == "" {
			pt = seedBytes("plaintext "+s.name, s.size)
		}
		v := &vector{
			Comment: vectorComment, Name: s.name, Result: "valid", Description: s.description,
			DataKey: hex.EncodeToString(seedBytes("data key "+s.name, 32)), Salt: hex.EncodeToString(seedBytes("salt "+s.name, 32)),
			SegmentSize: s.seg, Keys: s.keys, Context: s.ctx, Plaintext: hex.EncodeToString(pt),
		}
		if v.SegmentSize == 0 {
			v.SegmentSize = DefaultSegmentSize
		}
		msg, err := v.encryptor(t, 1).Encrypt(context.Background(), pt, s.ctx)
		if err != nil {
			t.Fatal(err)
		}
		v.Message = hex.EncodeToString(msg)
		made[v.Name] = v
	}

	// A message after AddKeys: the header changes, the body does not.
	src := made["partial-final"]
	added := *src
	added.Name, added.Description, added.DerivedFrom, added.AddedKeys = "partial-final-add-keys",
		"partial-final after AddKeys with the DR and recipient keys: same body, new keys part and header tag",
		src.Name, []string{arnDR, arnRcpt}
	var buf bytes.Buffer
	d := &Decryptor{Keys: src.masterKeys(t, src.Keys)}
	if err := d.AddKeys(context.Background(), &buf, bytes.NewReader(mustHex(t, src.Message)), src.masterKeys(t, added.AddedKeys)...); err != nil {
		t.Fatal(err)
	}
	added.Message = hex.EncodeToString(buf.Bytes())
	made[added.Name] = &added

	// Invalid messages, each made from a valid one by one edit.
	stride := func(v *vector) int { return v.SegmentSize + segmentOverhead }
	split := func(v *vector) (hdr, body []byte) {
		msg := mustHex(t, v.Message)
		_, n, err := format.ParseBytes(msg, 0)
		if err != nil {
			t.Fatal(err)
		}
		return msg[:n], msg[n:]
	}
	invalid := func(from *vector, name, errName, desc string, msg []byte, decCtx map[string]string) {
		v := *from
		v.Name, v.Result, v.Error, v.Description, v.DerivedFrom = name, "invalid", errName, desc, from.Name
		v.Message, v.DecryptContext, v.AddedKeys = hex.EncodeToString(msg), decCtx, nil
		made[name] = &v
	}
	{
		v := made["exact-multiple"]
		hdr, body := split(v)
		invalid(v, "invalid-truncated-at-boundary", "ErrNotAuthentic",
			"exact-multiple without its final segment: the new last segment is not marked final",
			append(bytes.Clone(hdr), body[:2*stride(v)]...), nil)
	}
	{
		v := made["partial-final"]
		hdr, body := split(v)
		s := stride(v)
		invalid(v, "invalid-segments-swapped", "ErrNotAuthentic", "partial-final with its two segments swapped",
			bytes.Join([][]byte{hdr, body[s:], body[:s]}, nil), nil)
		msg := mustHex(t, v.Message)
		h, _, _ := format.ParseBytes(msg, 0)
		c := bytes.Clone(msg)
		c[len(h.Fixed)-1] ^= 0x01
		invalid(v, "invalid-commitment", "ErrNotAuthentic",
			"partial-final with the last byte of the key commitment flipped: the data key decrypts but does not match", c, nil)
		c = bytes.Clone(msg)
		c[len(hdr)-1] ^= 0x80
		invalid(v, "invalid-header-tag", "ErrNotAuthentic", "partial-final with the last byte of the header tag flipped", c, nil)
		keysEnd := len(h.AppendKeys(h.AppendFixed(nil)))
		if format.PadLen(keysEnd) == 0 {
			t.Fatal("partial-final has no header padding to corrupt")
		}
		c = bytes.Clone(msg)
		c[keysEnd] = 0x01
		invalid(v, "invalid-nonzero-padding", "ErrFormat", "partial-final with its first header padding byte set to 1", c, nil)
		c = bytes.Clone(msg)
		c[len(hdr)+5] ^= 0x01
		invalid(v, "invalid-segment-byte", "ErrNotAuthentic", "partial-final with a ciphertext byte of segment 0 flipped", c, nil)
	}
	{
		// The commitment changed and everything that covers it recomputed
		// with the real data key: header tag and every segment verify, and
		// only the commitment check can refuse the message.
		v := made["partial-final"]
		msg := mustHex(t, v.Message)
		h, n, _ := format.ParseBytes(msg, 0)
		hdr := bytes.Clone(msg[:n])
		hdr[len(h.Fixed)-1] ^= 0x01
		h2, _, err := format.ParseBytes(hdr, 0)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := stream.Derive(format.Suite1, mustHex(t, v.DataKey), h2.Salt[:], 1)
		if err != nil {
			t.Fatal(err)
		}
		tag := keys.HeaderTag(h2.Authd)
		copy(hdr[n-len(tag):], tag[:])
		aad := format.Digest(h2.Fixed)
		pt := mustHex(t, v.Plaintext)
		c := keys.Seal(0, hdr, pt[:v.SegmentSize], 0, false, aad[:])
		c = keys.Seal(0, c, pt[v.SegmentSize:], 1, true, aad[:])
		invalid(v, "invalid-commitment-only", "ErrNotAuthentic",
			"partial-final with a key commitment byte flipped and the header tag and segments recomputed with the real data key: only the commitment check refuses it", c, nil)
	}
	{
		v := made["multi-key-context"]
		invalid(v, "invalid-wrong-context", "ErrNotAuthentic",
			"multi-key-context decrypted with a different encryption context",
			mustHex(t, v.Message), map[string]string{"tenant": "租户-8", "purpose": "backup", "empty": ""})
	}
	{
		v := made["short-text"]
		c := mustHex(t, v.Message)
		c[4] = 2
		invalid(v, "invalid-version-2", "ErrUnsupported", "short-text with the version byte set to 2", c, nil)
	}
	{
		// Tags that verify, but an empty final segment after full ones:
		// not the canonical encoding, so refused.
		v := made["one-full-segment"]
		hdr, _ := split(v)
		h, _, _ := format.ParseBytes(mustHex(t, v.Message), 0)
		keys, err := stream.Derive(format.Suite1, mustHex(t, v.DataKey), h.Salt[:], 1)
		if err != nil {
			t.Fatal(err)
		}
		aad := format.Digest(h.Fixed)
		pt := mustHex(t, v.Plaintext)
		msg := keys.Seal(0, bytes.Clone(hdr), pt, 0, false, aad[:])
		msg = keys.Seal(0, msg, nil, 1, true, aad[:])
		invalid(v, "invalid-empty-final-after-data", "ErrNotAuthentic",
			"one-full-segment re-encoded as a non-final segment plus an empty final one: every tag verifies, the encoding is not canonical", msg, nil)
	}

	names := make([]string, 0, len(made))
	for n := range made {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := json.MarshalIndent(made[n], "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(vectorDir, n+".json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d vectors: %s", len(names), strings.Join(names, ", "))
}
