package envelope

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// kmsServer answers the KMS actions envelope uses with canned or computed
// responses, and records each request's action and query. It is not the
// emulator: it checks only what the adapter sends and how it reads answers.
type kmsServer struct {
	mu      sync.Mutex
	reqs    []kmsRequest
	handler func(action string, q url.Values) (status int, body any)
}

type kmsRequest struct {
	Action string
	Query  url.Values
}

func (s *kmsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, _ := url.ParseQuery(r.URL.RawQuery)
	action := r.Header.Get("x-acs-action")
	s.mu.Lock()
	s.reqs = append(s.reqs, kmsRequest{action, q})
	s.mu.Unlock()
	status, body := s.handler(action, q)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func (s *kmsServer) requests() []kmsRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]kmsRequest(nil), s.reqs...)
}

// newKMSClient returns a real SDK client pointed at a local server.
func newKMSClient(t *testing.T, h http.Handler) *kms.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	c, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String("LTAI-test-id"), AccessKeySecret: tea.String("secret-never-shown"),
		RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String(host), Protocol: tea.String("http"),
		NoProxy: tea.String(host),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func noRetry(o *KMSOptions) { o.Retry.MaxAttempts = 1 }

const testBlob = "ODZhOWVmZDktM2QxNi00ODk0+/=="

func TestKMSRequestsAndResponses(t *testing.T) {
	t.Parallel()
	dk := bytes.Repeat([]byte{0x42}, 32)
	srv := &kmsServer{handler: func(action string, q url.Values) (int, any) {
		switch action {
		case "GenerateDataKey":
			return 200, map[string]string{"KeyId": "key-hzz6801a1b2c3d4e5f6g7", "KeyVersionId": "v1", "RequestId": "r1",
				"CiphertextBlob": testBlob, "Plaintext": base64.StdEncoding.EncodeToString(dk)}
		case "Encrypt":
			return 200, map[string]string{"KeyId": arnDR, "CiphertextBlob": "ZHItYmxvYg==", "RequestId": "r2"}
		case "Decrypt":
			return 200, map[string]string{"KeyId": "key-hzz6801a1b2c3d4e5f6g7", "Plaintext": base64.StdEncoding.EncodeToString(dk), "RequestId": "r3"}
		}
		return 400, map[string]string{"Code": "UnsupportedOperation"}
	}}
	k := NewKMS(newKMSClient(t, srv), noRetry)
	ctx := context.Background()
	encCtx := map[string]string{"tenant": "a b*c~", "purpose": "envelope"}

	pt, blob, err := k.GenerateDataKey(ctx, arnMain, encCtx)
	if err != nil || !bytes.Equal(pt, dk) || string(blob) != testBlob {
		t.Fatalf("GenerateDataKey = %x, %q, %v", pt, blob, err)
	}
	drBlob, err := k.Encrypt(ctx, arnDR, dk, nil)
	if err != nil || string(drBlob) != "ZHItYmxvYg==" {
		t.Fatalf("Encrypt = %q, %v", drBlob, err)
	}
	got, err := k.Decrypt(ctx, arnMain, blob, encCtx)
	if err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("Decrypt = %x, %v", got, err)
	}

	reqs := srv.requests()
	want := []kmsRequest{
		{"GenerateDataKey", url.Values{"KeyId": {arnMain}, "KeySpec": {"AES_256"}, "NumberOfBytes": {"32"},
			"EncryptionContext": {`{"purpose":"envelope","tenant":"a b*c~"}`}}},
		{"Encrypt", url.Values{"KeyId": {arnDR}, "Plaintext": {base64.StdEncoding.EncodeToString(dk)}}},
		{"Decrypt", url.Values{"CiphertextBlob": {testBlob}, "EncryptionContext": {`{"purpose":"envelope","tenant":"a b*c~"}`}}},
	}
	if fmt.Sprint(reqs) != fmt.Sprint(want) {
		t.Errorf("requests:\n got %v\nwant %v", reqs, want)
	}
}

func TestKMSKeyIDCheck(t *testing.T) {
	t.Parallel()
	dk := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name   string
		action string
		keyID  string
		ok     bool
	}{
		{"Decrypt, bare key ID", "Decrypt", "key-hzz6801a1b2c3d4e5f6g7", true},
		{"Decrypt, full ARN", "Decrypt", arnMain, true},
		{"Decrypt, another key", "Decrypt", "key-attacker000000000000", false},
		{"Decrypt, same ID in another account's ARN", "Decrypt", "acs:kms:cn-hangzhou:2208745523640391:key/key-hzz6801a1b2c3d4e5f6g7", false},
		{"Decrypt, no key ID", "Decrypt", "", false},
		{"GenerateDataKey, another key", "GenerateDataKey", "key-attacker000000000000", false},
		{"GenerateDataKey, no key ID", "GenerateDataKey", "", true},
		{"Encrypt, another key", "Encrypt", "key-attacker000000000000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := &kmsServer{handler: func(string, url.Values) (int, any) {
				body := map[string]string{"Plaintext": dk, "CiphertextBlob": testBlob}
				if tt.keyID != "" {
					body["KeyId"] = tt.keyID
				}
				return 200, body
			}}
			k := NewKMS(newKMSClient(t, srv), noRetry)
			var err error
			switch tt.action {
			case "Decrypt":
				_, err = k.Decrypt(context.Background(), arnMain, []byte(testBlob), nil)
			case "GenerateDataKey":
				_, _, err = k.GenerateDataKey(context.Background(), arnMain, nil)
			case "Encrypt":
				_, err = k.Encrypt(context.Background(), arnMain, make([]byte, 32), nil)
			}
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrKeyMismatch)) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestKMSErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		code   string
		want   error
	}{
		{"denied", 403, "Forbidden.NoPermission", ErrAccessDenied},
		{"not found", 404, "Forbidden.KeyNotFound", ErrKeyNotFound},
		{"disabled", 409, "Rejected.Disabled", ErrKeyState},
		{"throttled", 400, "Throttling.User", ErrThrottled},
		{"unavailable", 503, "SerivceUnvailableTemporary", ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := &kmsServer{handler: func(string, url.Values) (int, any) {
				return tt.status, map[string]string{"Code": tt.code, "Message": "msg", "RequestId": "REQ-1"}
			}}
			k := NewKMS(newKMSClient(t, srv), noRetry)
			_, _, err := k.GenerateDataKey(context.Background(), arnMain, nil)
			var api *APIError
			if !errors.Is(err, tt.want) || !errors.As(err, &api) || api.Code != tt.code || api.RequestID != "REQ-1" || api.Action != "GenerateDataKey" {
				t.Errorf("err = %v", err)
			}
			if strings.Contains(err.Error(), "secret-never-shown") {
				t.Error("error shows the access key secret")
			}
		})
	}
}

// TestKMSTransportErrorsHoldNoSecrets: a request that dies in transport
// (connection dropped, read timeout, caller's deadline) fails with an error
// that shows neither the data key Encrypt was sending nor the access key
// secret, though the SDK's own error quotes the request URL.
func TestKMSTransportErrorsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	dataKey := bytes.Repeat([]byte{0x42}, 32)
	b64 := base64.StdEncoding.EncodeToString(dataKey)
	leaks := []string{b64, url.QueryEscape(b64), "QkJCQkJC", "secret-never-shown"}
	dropped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close()
		}
	})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	short := func(o *KMSOptions) {
		o.Retry.MaxAttempts = 1
		o.Runtime = &dara.RuntimeOptions{ReadTimeout: tea.Int(50), ConnectTimeout: tea.Int(50)}
	}
	tests := []struct {
		name    string
		handler http.Handler
		timeout time.Duration // the caller's deadline; 0 for none
		want    []error
	}{
		{"connection dropped", dropped, 0, []error{ErrUnavailable}},
		{"read timeout", slow, 0, []error{ErrUnavailable}},
		{"caller's deadline", slow, 20 * time.Millisecond, []error{context.DeadlineExceeded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := NewKMS(newKMSClient(t, tt.handler), short)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			_, err := k.Encrypt(ctx, arnMain, dataKey, nil)
			if err == nil {
				t.Fatal("Encrypt succeeded")
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, does not match %v", err, want)
				}
			}
			for _, leak := range leaks {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error shows a secret (%q): %v", leak, err)
				}
			}
		})
	}
}

func TestKMSRetries(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	srv := &kmsServer{handler: func(string, url.Values) (int, any) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls < 3 {
			return 400, map[string]string{"Code": "Throttling.User", "RequestId": "r"}
		}
		return 200, map[string]string{"KeyId": "key-hzz6801a1b2c3d4e5f6g7", "CiphertextBlob": testBlob,
			"Plaintext": base64.StdEncoding.EncodeToString(make([]byte, 32))}
	}}
	k := NewKMS(newKMSClient(t, srv), func(o *KMSOptions) {
		o.Retry.Backoff = func(int) time.Duration { return 0 }
	})
	if _, _, err := k.GenerateDataKey(context.Background(), arnMain, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 {
		t.Errorf("%d calls, want 3", calls)
	}
}

func TestKMSNilClient(t *testing.T) {
	t.Parallel()
	k := NewKMS(nil)
	if _, _, err := k.GenerateDataKey(context.Background(), arnMain, nil); err == nil {
		t.Error("GenerateDataKey with a nil client")
	}
	if _, err := k.Encrypt(context.Background(), arnMain, nil, nil); err == nil {
		t.Error("Encrypt with a nil client")
	}
	if _, err := k.Decrypt(context.Background(), arnMain, nil, nil); err == nil {
		t.Error("Decrypt with a nil client")
	}
}

// TestEnvelopeOverKMSClient runs Encrypt and Decrypt through the real SDK
// client and the adapter, against a minimal stateful stand-in for KMS that
// remembers the data keys it issued.
func TestEnvelopeOverKMSClient(t *testing.T) {
	t.Parallel()
	type issued struct {
		dk, encCtx string
	}
	var mu sync.Mutex
	blobs := map[string]issued{}
	srv := &kmsServer{handler: func(action string, q url.Values) (int, any) {
		mu.Lock()
		defer mu.Unlock()
		switch action {
		case "GenerateDataKey":
			dk, id := make([]byte, 32), make([]byte, 24)
			rand.Read(dk)
			rand.Read(id)
			blob := base64.StdEncoding.EncodeToString(id)
			blobs[blob] = issued{base64.StdEncoding.EncodeToString(dk), q.Get("EncryptionContext")}
			return 200, map[string]string{"KeyId": "key-hzz6801a1b2c3d4e5f6g7", "CiphertextBlob": blob, "Plaintext": blobs[blob].dk}
		case "Decrypt":
			got, ok := blobs[q.Get("CiphertextBlob")]
			if !ok || got.encCtx != q.Get("EncryptionContext") {
				return 400, map[string]string{"Code": "InvalidParameter", "Message": "The specified parameter is not valid."}
			}
			return 200, map[string]string{"KeyId": "key-hzz6801a1b2c3d4e5f6g7", "Plaintext": got.dk}
		}
		return 400, map[string]string{"Code": "UnsupportedOperation"}
	}}
	key := MasterKey{ARN: arnMain, Service: NewKMS(newKMSClient(t, srv), noRetry)}
	enc := &Encryptor{Keys: []MasterKey{key}}
	dec := &Decryptor{Keys: []MasterKey{key}}
	encCtx := map[string]string{"tenant": "acme"}
	pt := pattern(200_000)
	msg, err := enc.Encrypt(context.Background(), pt, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := dec.Decrypt(context.Background(), msg, encCtx)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Decrypt: %v", err)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("%d KMS requests, want 2", n)
	}
}
