package envelope

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// TestKMSConcurrentCalls: with a HttpClient of the caller's, calls through
// one KMS do not wait for each other's round trips (each gets an SDK client
// of its own) and are race-free. The server answers only once n requests
// are in flight at once; calls that took turns on one client would never
// get there.
func TestKMSConcurrentCalls(t *testing.T) {
	t.Parallel()
	const n = 4
	dk := bytes.Repeat([]byte{0x42}, 32)
	var mu sync.Mutex
	inFlight, most := 0, 0
	all := make(chan struct{})
	srv := &kmsServer{handler: func(action string, q url.Values) (int, any) {
		mu.Lock()
		inFlight++
		if inFlight > most {
			most = inFlight
		}
		if inFlight == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(10 * time.Second): // a deadline, not a wait for state
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return 200, map[string]string{"KeyId": "key-hzz6801a1b2c3d4e5f6g7", "KeyVersionId": "v1", "RequestId": "r1",
			"CiphertextBlob": testBlob, "Plaintext": base64.StdEncoding.EncodeToString(dk)}
	}}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String("LTAI-test-id"), AccessKeySecret: tea.String("secret-never-shown"),
		RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String(strings.TrimPrefix(hs.URL, "http://")), Protocol: tea.String("http"),
		HttpClient: httpClient{hs.Client()},
	})
	if err != nil {
		t.Fatal(err)
	}
	k := NewKMS(client, noRetry)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pt, _, err := k.GenerateDataKey(context.Background(), arnMain, nil)
			if err == nil && !bytes.Equal(pt, dk) {
				t.Error("wrong data key")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if most != n {
		t.Errorf("at most %d of %d calls were in flight at once", most, n)
	}
}

// httpClient is a caller's HTTP client for the SDK.
type httpClient struct{ c *http.Client }

func (h httpClient) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	return h.c.Do(req)
}

// TestKMSConcurrentCallsDefaultHTTP: with the SDK's own HTTP client (shared
// process-wide, and racy across concurrent requests), calls through one KMS
// take turns, as they always did, and are race-free.
func TestKMSConcurrentCallsDefaultHTTP(t *testing.T) {
	t.Parallel()
	dk := bytes.Repeat([]byte{0x42}, 32)
	var mu sync.Mutex
	inFlight, most := 0, 0
	srv := &kmsServer{handler: func(action string, q url.Values) (int, any) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		return 200, map[string]string{"KeyId": "key-hzz6801a1b2c3d4e5f6g7", "KeyVersionId": "v1", "RequestId": "r1",
			"CiphertextBlob": testBlob, "Plaintext": base64.StdEncoding.EncodeToString(dk)}
	}}
	k := NewKMS(newKMSClient(t, srv), noRetry)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := k.GenerateDataKey(context.Background(), arnMain, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if most != 1 {
		t.Errorf("%d calls in flight at once over the SDK's shared HTTP client, want 1", most)
	}
}
