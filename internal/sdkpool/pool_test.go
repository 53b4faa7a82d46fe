package sdkpool

import (
	"errors"
	"net/http"
	"sync"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// TestKMSPool: the given client is handed out first; callers that overlap
// get clients of their own with its configuration; all go back for reuse.
func TestKMSPool(t *testing.T) {
	t.Parallel()
	given, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String("ak"), AccessKeySecret: tea.String("not-a-secret"),
		RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String("127.0.0.1:1"), Protocol: tea.String("http"),
		HttpClient: noHTTP{},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := KMS(given)
	if err := p.Use(func(cl *kms.Client) error {
		if cl != given {
			t.Error("first Use did not get the given client")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	const n = 4
	held := overlap(p, n)
	if len(held) != n {
		t.Fatalf("%d overlapping callers got %d distinct clients", n, len(held))
	}
	for cl := range held {
		if tea.StringValue(cl.Endpoint) != "127.0.0.1:1" || tea.StringValue(cl.RegionId) != "cn-hangzhou" || cl.Credential != given.Credential {
			t.Errorf("pooled client has endpoint %q, region %q, other credentials: want the given client's", tea.StringValue(cl.Endpoint), tea.StringValue(cl.RegionId))
		}
	}
	if len(p.free) != n {
		t.Errorf("%d clients back in the pool, want %d", len(p.free), n)
	}
}

// noHTTP is a caller's HTTP client that is never called here.
type noHTTP struct{}

func (noHTTP) Call(*http.Request, *http.Transport) (*http.Response, error) {
	return nil, errors.New("no HTTP in this test")
}

// TestKMSPoolWithoutHTTPClient: without a HttpClient of the caller's, the
// pool never hands out the given client (it would send through the SDK's
// process-wide, racy HTTP client); overlapping callers get clients of their
// own that share one HTTP of the pool's.
func TestKMSPoolWithoutHTTPClient(t *testing.T) {
	t.Parallel()
	given, err := kms.NewClient(&openapi.Config{
		AccessKeyId: tea.String("ak"), AccessKeySecret: tea.String("not-a-secret"),
		RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String("127.0.0.1:1"), Protocol: tea.String("http"),
	})
	if err != nil {
		t.Fatal(err)
	}
	p := KMS(given)
	const n = 4
	held := overlap(p, n) // nobody takes turns
	var shared *HTTP
	for cl := range held {
		if cl == given {
			t.Error("the pool handed out the given client, which has no HTTP client of its own")
		}
		h, ok := cl.HttpClient.(*HTTP)
		if !ok {
			t.Fatalf("a pooled client's HTTP client is %T, want *HTTP", cl.HttpClient)
		}
		if shared != nil && h != shared {
			t.Error("pooled clients do not share one HTTP")
		}
		shared = h
	}
	if len(held) != n {
		t.Errorf("%d overlapping callers got %d distinct clients", n, len(held))
	}
	if given.HttpClient != nil {
		t.Error("KMS changed the given client")
	}
}

// overlap has n callers Use p at once, each holding its client until all n
// hold one, and returns the clients they held.
func overlap(p *Pool[kms.Client], n int) map[*kms.Client]bool {
	var mu sync.Mutex
	held := map[*kms.Client]bool{}
	var wg, in sync.WaitGroup
	in.Add(n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = p.Use(func(cl *kms.Client) error {
				mu.Lock()
				held[cl] = true
				mu.Unlock()
				in.Done()
				in.Wait() // all n hold a client at once
				return nil
			})
		}()
	}
	wg.Wait()
	return held
}
