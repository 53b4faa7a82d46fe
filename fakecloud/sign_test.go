package fakecloud

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// acs3Vector is the worked example of wire-protocol.md §6, recomputed there
// by an independent implementation.
type acs3Vector struct {
	AccessKeyID     string            `json:"access_key_id"`
	AccessKeySecret string            `json:"access_key_secret"`
	RequestLine     string            `json:"request_line"`
	Host            string            `json:"host"`
	Headers         map[string]string `json:"headers"`
	Canonical       string            `json:"canonical_request"`
	CanonicalSHA256 string            `json:"canonical_request_sha256"`
	Signature       string            `json:"signature"`
}

func loadVector(t *testing.T) (acs3Vector, *http.Request) {
	t.Helper()
	data, err := os.ReadFile("testdata/acs3_vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v acs3Vector
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	method, target, _ := strings.Cut(v.RequestLine, " ")
	r := httptest.NewRequest(method, target, http.NoBody)
	r.Host = v.Host
	for k, val := range v.Headers {
		r.Header.Set(k, val)
	}
	return v, r
}

func TestACS3Vector(t *testing.T) {
	t.Parallel()
	v, r := loadVector(t)
	auth, err := parseACS3(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	query := map[string]string{}
	for k, vals := range r.URL.Query() {
		query[k] = vals[0]
	}
	canonical := acs3CanonicalRequest(r, query, auth.SignedHeaders, r.Header.Get("x-acs-content-sha256"))
	if canonical != v.Canonical {
		t.Fatalf("canonical request:\n%s\nwant:\n%s", canonical, v.Canonical)
	}
	if sum := sha256.Sum256([]byte(canonical)); hex.EncodeToString(sum[:]) != v.CanonicalSHA256 {
		t.Errorf("SHA-256 of the canonical request = %x, want %s", sum, v.CanonicalSHA256)
	}
	if got := acs3Signature(v.AccessKeySecret, canonical); got != v.Signature || got != auth.Signature {
		t.Errorf("signature = %s, want %s", got, v.Signature)
	}
}

// TestACS3VectorEndToEnd serves the vector's request: it must pass
// authentication (and then fail on the key, which does not exist), while
// the same request with one byte changed must not.
func TestACS3VectorEndToEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(r *http.Request)
		code   string
	}{
		{"as signed", func(*http.Request) {}, "Forbidden.KeyNotFound"},
		{"query changed", func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "NumberOfBytes=32", "NumberOfBytes=16", 1)
		}, "SignatureDoesNotMatch"},
		{"signed header changed", func(r *http.Request) { r.Header.Set("X-Acs-Date", "2026-11-22T09:15:14Z") }, "SignatureDoesNotMatch"},
		{"host changed", func(r *http.Request) { r.Host = "127.0.0.1:1" }, "SignatureDoesNotMatch"},
		{"body hash wrong", func(r *http.Request) { r.Header.Set("X-Acs-Content-Sha256", strings.Repeat("0", 64)) }, "SignatureDoesNotMatch"},
		{"unsigned header ignored", func(r *http.Request) { r.Header.Set("User-Agent", "other") }, "Forbidden.KeyNotFound"},
		{"action left unsigned", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;x-acs-action;", "host;", 1))
		}, "IncompleteSignature"},
		{"not signed", func(r *http.Request) { r.Header.Del("Authorization") }, "IncompleteSignature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, r := loadVector(t)
			c := New(Options{Clock: NewManualClock(time0)})
			acct := c.NewAccount("vector")
			c.mu.Lock()
			c.accessKeys[v.AccessKeyID] = &accessKey{id: v.AccessKeyID, secret: v.AccessKeySecret, account: c.accounts[acct.ID]}
			c.mu.Unlock()
			tc.tamper(r)
			rec := httptest.NewRecorder()
			c.Handler(region).ServeHTTP(rec, r)
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Code != tc.code || rec.Header().Get("x-acs-request-id") != body.RequestID {
				t.Errorf("got %d %s (%s), want %s", rec.Code, body.Code, body.Message, tc.code)
			}
		})
	}
}
