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

// TestKMSConcurrentCalls: calls through one KMS do not wait for each
// other's round trips (each gets an SDK client of its own) and are
// race-free, with a HttpClient of the caller's and without one (the SDK's
// process-wide client rewrites its Timeout on every request, so the pool's
// clients get one of sdkpool's instead). The server answers only once n
// requests are in flight at once; calls that took turns would never get
// there.
func TestKMSConcurrentCalls(t *testing.T) {
	t.Parallel()
	for _, own := range []bool{true, false} {
		t.Run(map[bool]string{true: "caller's HTTP client", false: "no HTTP client"}[own], func(t *testing.T) {
			t.Parallel()
			concurrentCalls(t, own)
		})
	}
}

func concurrentCalls(t *testing.T, ownHTTP bool) {
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
	host := strings.TrimPrefix(hs.URL, "http://")
	cfg := &openapi.Config{
		AccessKeyId: tea.String("LTAI-test-id"), AccessKeySecret: tea.String("secret-never-shown"),
		RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String(host), Protocol: tea.String("http"),
		NoProxy: tea.String(host),
	}
	if ownHTTP {
		cfg.HttpClient = httpClient{hs.Client()}
	}
	client, err := kms.NewClient(cfg)
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
