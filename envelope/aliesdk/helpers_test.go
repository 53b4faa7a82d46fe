package aliesdk

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// findVectorDir locates the shared interop data: test data made by the
// unmodified Java and Python SDKs, read in place, never copied or edited.
// It sits in shared/ beside the repository (CI: a fresh clone with a copy of
// shared/ beside it; here: /work/shared for /work/main, and for worktrees
// under /work/wt a level further up), so the search starts at the parent of
// the repository root (the directory of go.mod) and walks up. A missing
// directory fails the tests: skipping would leave the interop claims
// untested.
func findVectorDir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(root)
		if up == root {
			t.Fatalf("no go.mod above %s", wd)
		}
		root = up
	}
	for dir := filepath.Dir(root); ; {
		d := filepath.Join(dir, "shared", "interop", "alibaba-encryption-sdk")
		if _, err := os.Stat(filepath.Join(d, "py", "manifest.json")); err == nil {
			return d
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatalf("interop vectors missing: no shared/interop/alibaba-encryption-sdk beside the repository %s or above it", root)
		}
		dir = up
	}
}

type manifest struct {
	Producer string   `json:"producer"`
	Vectors  []vector `json:"vectors"`
	dir      string
}

type edkJSON struct {
	KeyID   string `json:"key_id"`
	Base64  string `json:"edk_base64_text"`
	RawHex  string `json:"edk_raw_hex"`
	RawLen  int    `json:"edk_raw_len"`
	Comment string `json:"note"`
}

type vector struct {
	ID             string            `json:"id"`
	File           string            `json:"file"`
	HeaderFile     string            `json:"header_file"`
	Kind           string            `json:"kind"`
	Expect         string            `json:"expect"`
	DerivedFrom    string            `json:"derived_from"`
	AlgorithmID    uint32            `json:"algorithm_id"`
	Algorithm      string            `json:"algorithm"`
	Version        uint32            `json:"version"`
	DataKeyHex     string            `json:"data_key_hex"`
	PlaintextHex   *string           `json:"plaintext_hex"`
	PlaintextFile  string            `json:"plaintext_file"`
	PlaintextLen   int               `json:"plaintext_len"`
	PlaintextSHA   string            `json:"plaintext_sha256"`
	MessageSHA     string            `json:"message_sha256"`
	MessageLen     int               `json:"message_len"`
	Context        map[string]string `json:"encryption_context"`
	ProviderARN    string            `json:"provider_key_arn"`
	ExtraARNs      []string          `json:"extra_cmk_arns"`
	EDKs           []edkJSON         `json:"encrypted_data_keys"`
	HeaderIVHex    string            `json:"header_iv_hex"`
	HeaderTagHex   string            `json:"header_auth_tag_hex"`
	HeaderAADHex   string            `json:"header_auth_aad_hex"`
	StoredIVHex    string            `json:"stored_header_iv_hex"`
	StoredTagHex   string            `json:"stored_header_auth_tag_hex"`
	StoredAADHex   string            `json:"stored_header_auth_aad_hex"`
	BodyIVHex      string            `json:"body_iv_hex"`
	BodyTagHex     string            `json:"body_auth_tag_hex"`
	BodyAADHex     string            `json:"body_aad_hex"`
	KMSCalls       []string          `json:"kms_calls_on_encrypt"`
	StreamHdrLen   int               `json:"stream_header_len"`
	EDKKeyID       string            `json:"edk_key_id"`
	EDKRawHex      string            `json:"edk_raw_hex"`
	FlippedOffset  *int              `json:"flipped_byte_offset"`
	Note           string            `json:"note"`
	PythonSDKError string            `json:"python_sdk_error"`

	m *manifest
}

func loadManifests(t testing.TB) []*manifest {
	t.Helper()
	vectorDir := findVectorDir(t)
	var out []*manifest
	for _, d := range []string{"java", "py", "fixtures"} {
		b, err := os.ReadFile(filepath.Join(vectorDir, d, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		m := &manifest{dir: filepath.Join(vectorDir, d)}
		if err := json.Unmarshal(b, m); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		for i := range m.Vectors {
			m.Vectors[i].m = m
		}
		out = append(out, m)
	}
	return out
}

func allVectors(t testing.TB) map[string]*vector {
	vs := map[string]*vector{}
	for _, m := range loadManifests(t) {
		for i := range m.Vectors {
			v := &m.Vectors[i]
			if vs[v.ID] != nil {
				t.Fatalf("vector %s twice", v.ID)
			}
			vs[v.ID] = v
		}
	}
	return vs
}

func (v *vector) read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(v.m.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// plaintext is the vector's plaintext: given in hex, in a file, or the
// Python manifest's pattern bytes(i % 251 for i in range(n)).
func (v *vector) plaintext(t testing.TB) []byte {
	t.Helper()
	var p []byte
	switch {
	case v.PlaintextHex != nil:
		p = unhex(t, *v.PlaintextHex)
	case v.PlaintextFile != "":
		p = v.read(t, v.PlaintextFile)
	default:
		p = make([]byte, v.PlaintextLen)
		for i := range p {
			p[i] = byte(i % 251)
		}
	}
	if v.PlaintextSHA != "" {
		if sum := sha256.Sum256(p); hex.EncodeToString(sum[:]) != v.PlaintextSHA {
			t.Fatalf("%s: plaintext does not match plaintext_sha256", v.ID)
		}
	}
	return p
}

// fakeKMS is the key service the vectors were made with (FAKE-KMS-v1 in
// py/manifest.json): an EDK is base64("FKMS1" ‖ nonce ‖ AES-256-GCM under
// SHA-256("aliesdk-fake-kms-wrap:" ‖ ARN), AAD = the context as canonical
// JSON), nonce = HMAC-SHA256("aliesdk-kms:" ‖ vector id, "kms-nonce:" ‖
// ARN)[:12]. It really unwraps: a blob under another ARN, or with another
// context, fails as KMS would. GenerateDataKey returns the vector's data key.
type fakeKMS struct {
	id      string
	dataKey []byte

	mu    sync.Mutex
	calls []string
}

func (f *fakeKMS) record(op string) {
	f.mu.Lock()
	f.calls = append(f.calls, op)
	f.mu.Unlock()
}

func (f *fakeKMS) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func canonicalJSON(m map[string]string) []byte {
	if len(m) == 0 {
		return nil // the SDKs send no context at all then
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func fakeWrapAEAD(arn string) cipher.AEAD {
	k := sha256.Sum256([]byte("aliesdk-fake-kms-wrap:" + arn))
	b, _ := aes.NewCipher(k[:])
	g, _ := cipher.NewGCM(b)
	return g
}

func (f *fakeKMS) wrap(arn string, pt []byte, encCtx map[string]string) []byte {
	mac := hmac.New(sha256.New, []byte("aliesdk-kms:"+f.id))
	mac.Write([]byte("kms-nonce:" + arn))
	nonce := mac.Sum(nil)[:12]
	raw := append([]byte("FKMS1"), nonce...)
	raw = fakeWrapAEAD(arn).Seal(raw, nonce, pt, canonicalJSON(encCtx))
	return []byte(base64.StdEncoding.EncodeToString(raw))
}

var errFakeKMS = errors.New("fake KMS: the ciphertext or the encryption context does not match")

func (f *fakeKMS) unwrap(arn string, blob []byte, encCtx map[string]string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(string(blob))
	if err != nil || len(raw) < 17 || string(raw[:5]) != "FKMS1" {
		return nil, errFakeKMS
	}
	pt, err := fakeWrapAEAD(arn).Open(nil, raw[5:17], raw[17:], canonicalJSON(encCtx))
	if err != nil {
		return nil, errFakeKMS
	}
	return pt, nil
}

func (f *fakeKMS) GenerateDataKey(ctx context.Context, arn string, encCtx map[string]string) ([]byte, []byte, error) {
	return f.GenerateDataKeySize(ctx, arn, 32, encCtx)
}

func (f *fakeKMS) GenerateDataKeySize(_ context.Context, arn string, n int, encCtx map[string]string) ([]byte, []byte, error) {
	f.record("GenerateDataKey")
	if len(f.dataKey) != n {
		return nil, nil, errors.New("fake KMS: the vector's data key has another size")
	}
	return bytes.Clone(f.dataKey), f.wrap(arn, f.dataKey, encCtx), nil
}

func (f *fakeKMS) Encrypt(_ context.Context, arn string, pt []byte, encCtx map[string]string) ([]byte, error) {
	f.record("Encrypt")
	return f.wrap(arn, pt, encCtx), nil
}

func (f *fakeKMS) ReEncrypt(_ context.Context, src string, blob []byte, dst string, encCtx map[string]string) ([]byte, error) {
	f.record("ReEncrypt")
	pt, err := f.unwrap(src, blob, encCtx)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return f.wrap(dst, pt, encCtx), nil
}

func (f *fakeKMS) Decrypt(_ context.Context, arn string, blob []byte, encCtx map[string]string) ([]byte, error) {
	f.record("Decrypt")
	return f.unwrap(arn, blob, encCtx)
}

// detReader yields fixed bytes, then fails: the IVs a test dictates.
type detReader struct{ b []byte }

func (r *detReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, errors.New("detReader: exhausted")
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

var errEOF = io.EOF

func rawBlob(t testing.TB, b64 []byte) []byte {
	raw, err := base64.StdEncoding.DecodeString(string(b64))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
