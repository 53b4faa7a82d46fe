package fakecloud

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
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
			signed, err := time.Parse(requestTimeFormat, v.Headers["X-Acs-Date"])
			if err != nil {
				t.Fatal(err)
			}
			// The gateway's clock agrees with the vector's x-acs-date.
			c := New(Options{Clock: NewManualClock(time0), GatewayClock: NewManualClock(signed.Add(time.Minute))})
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

// TestClockSkewAndReplay: the gateway refuses a request stamped more than
// 15 minutes from its clock (a host whose clock is wrong) with 400
// InvalidTimeStamp.Expired, and the same signed request sent twice with
// SignatureNonceUsed; both through the real SDK client.
func TestClockSkewAndReplay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		skew time.Duration // gateway clock minus the host's
		code string
	}{
		{"in step", 0, ""},
		{"gateway 14 minutes ahead", 14 * time.Minute, ""},
		{"gateway 16 minutes ahead", 16 * time.Minute, "InvalidTimeStamp.Expired"},
		{"gateway 20 minutes behind", -20 * time.Minute, "InvalidTimeStamp.Expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, Options{GatewayClock: skewedClock(tc.skew)})
			for _, tr := range transports {
				kc := newClients(t, configFor(t, w.c, tr)(w.secAdmin.Credentials())).kms
				_, err := kc.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{KeyId: tea.String(w.key.ID)}, rt)
				if tc.code == "" {
					if err != nil {
						t.Fatalf("%s: %v", tr, err)
					}
					continue
				}
				wantCode(t, err, tc.code)
				c := cloudapi.Classify("kms", "DescribeKey", err)
				if !errors.Is(c, cloudapi.ErrClockSkew) || errStatus(err) != 400 || !strings.Contains(c.Error(), "fix the host's clock") {
					t.Errorf("%s: %v (HTTP %d) classified as %v", tr, err, errStatus(err), c)
				}
			}
		})
	}

	t.Run("replayed nonce", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, Options{})
		cfg := w.c.Config(w.secAdmin.Credentials(), region)
		cfg.HttpClient = twice{w.c.HTTPClient(region)}
		kc, err := kms.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = kc.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{KeyId: tea.String(w.key.ID)}, rt)
		wantCode(t, err, "SignatureNonceUsed")
		if n := w.c.Log().Count(Match{Action: "DescribeKey", Status: 200}); n != 1 {
			t.Errorf("%d DescribeKey served, want the first only", n)
		}
	})
}

// skewedClock is the real clock moved by d.
type skewedClock time.Duration

func (s skewedClock) Now() time.Time { return time.Now().UTC().Add(time.Duration(s)) }

// twice sends every request two times, as a replaying attacker (or a
// broken proxy) would, and returns the second response.
type twice struct{ next dara.HttpClient }

func (tw twice) Call(req *http.Request, tr *http.Transport) (*http.Response, error) {
	first := req.Clone(req.Context())
	first.Body = http.NoBody
	resp, err := tw.next.Call(first, tr)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return tw.next.Call(req, tr)
}
