package fakecloud

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// TestFaults: injected throttling and 503s, per action and per account,
// over both transports; a faulted call changes nothing and is logged.
func TestFaults(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, Options{})
			cfg := configFor(t, w.c, tr)
			sec := newClients(t, cfg(w.secAdmin.Credentials())).kms
			app := newClients(t, cfg(w.app1.RootCredentials())).kms
			before := getKeyPolicy(t, sec, w.key.ID)
			id := w.c.Faults().Add(Fault{Action: "SetKeyPolicy", Throttle: 1})
			err := setKeyPolicy(sec, w.key.ID, keyPolicy(w.sec.ID, []string{w.app1.RootARN()}))
			// KMS throttles as the real one does: 429 Rejected.Throttling.
			wantCode(t, err, "Rejected.Throttling")
			if c := cloudapi.Classify("kms", "SetKeyPolicy", err); !errors.Is(c, cloudapi.ErrThrottled) || errStatus(err) != 429 {
				t.Errorf("throttle: %v classified as %v", err, c)
			}
			if getKeyPolicy(t, sec, w.key.ID) != before {
				t.Fatal("a throttled SetKeyPolicy changed the policy")
			}
			w.c.Faults().Remove(id)
			w.c.Faults().Add(Fault{Service: "kms", Account: w.app1.ID, Unavailable: 1})
			_, err = app.ListKeysWithContext(ctxb(), &kms.ListKeysRequest{}, rt)
			wantCode(t, err, "SerivceUnvailableTemporary")
			if c := cloudapi.Classify("kms", "ListKeys", err); !errors.Is(c, cloudapi.ErrUnavailable) || errStatus(err) != 503 {
				t.Errorf("503: %v classified as %v", err, c)
			}
			// Other accounts are not affected.
			if _, err := sec.ListKeysWithContext(ctxb(), &kms.ListKeysRequest{}, rt); err != nil {
				t.Fatal(err)
			}
			if n := w.c.Log().Count(Match{Action: "SetKeyPolicy", Code: "Rejected.Throttling", CallerAccount: w.sec.ID}); n != 1 {
				t.Errorf("log: %d throttled SetKeyPolicy, want 1", n)
			}
			if e := w.c.Log().Entries(Match{Status: 503}); len(e) != 1 || e[0].Fault != "unavailable" || e[0].Caller != w.app1.RootARN() {
				t.Errorf("log of the 503: %+v", e)
			}
			w.c.Faults().Clear()
			if _, err := app.ListKeysWithContext(ctxb(), &kms.ListKeysRequest{}, rt); err != nil {
				t.Fatal(err)
			}
			// KMS's 500 is InternalFailure; RAM and STS keep their own codes.
			w.c.Faults().Add(Fault{Service: "kms", Internal: 1})
			_, err = app.ListKeysWithContext(ctxb(), &kms.ListKeysRequest{}, rt)
			wantCode(t, err, "InternalFailure")
			if c := cloudapi.Classify("kms", "ListKeys", err); !errors.Is(c, cloudapi.ErrUnavailable) || errStatus(err) != 500 {
				t.Errorf("500: %v classified as %v", err, c)
			}
			w.c.Faults().Clear()
			w.c.Faults().Add(Fault{Service: "ram", Throttle: 1})
			_, err = newClients(t, cfg(w.secAdmin.Credentials())).ram.GetRoleWithContext(ctxb(), &ram.GetRoleRequest{RoleName: tea.String("x")}, rt)
			wantCode(t, err, "Throttling.User")
			if errStatus(err) != 400 {
				t.Errorf("RAM throttle status %d, want 400", errStatus(err))
			}
			w.c.Faults().Clear()
		})
	}
}

// TestLostResponse: the request is carried out, but its caller gets a 503,
// as when a response is lost on the way back.
func TestLostResponse(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	sec := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	want := keyPolicy(w.sec.ID, []string{w.app1.RootARN()})
	w.c.Faults().Add(Fault{Action: "SetKeyPolicy", LostResponse: 1})
	err := setKeyPolicy(sec, w.key.ID, want)
	wantCode(t, err, "SerivceUnvailableTemporary")
	if got := getKeyPolicy(t, sec, w.key.ID); got != want {
		t.Errorf("the write was not carried out: %s", got)
	}
	if e := w.c.Log().Entries(Match{Action: "SetKeyPolicy"}); len(e) != 1 || e[0].Status != 503 || e[0].Fault != "lost-response" {
		t.Errorf("log %+v", e)
	}
}

// TestFaultsAreSeeded: probabilities are drawn from the seeded source, so
// the same seed gives the same outcomes, and the rates come out near the
// configured ones.
func TestFaultsAreSeeded(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []string {
		w := newWorld(t, Options{Seed: seed})
		w.c.Faults().Add(Fault{Service: "kms", Throttle: 0.2, Unavailable: 0.05})
		kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
		var codes []string
		for range 400 {
			_, err := kc.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{KeyId: tea.String(w.key.ID)}, rt)
			codes = append(codes, errCode(err))
		}
		return codes
	}
	a, b, c := run(1), run(1), run(2)
	count := func(codes []string, code string) int {
		n := 0
		for _, x := range codes {
			if x == code {
				n++
			}
		}
		return n
	}
	if th, un := count(a, "Rejected.Throttling"), count(a, "SerivceUnvailableTemporary"); th < 50 || th > 110 || un < 5 || un > 40 {
		t.Errorf("400 calls at 20%% throttling and 5%% 503: %d throttled, %d unavailable", th, un)
	}
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if !same || !differ {
		t.Errorf("same seed same outcomes: %v; different seed different outcomes: %v", same, differ)
	}
}

// TestLatency: an injected latency waits through Options.Sleep without
// holding the emulator's lock, so concurrent slow calls overlap, and it
// honours the caller's context.
func TestLatency(t *testing.T) {
	t.Parallel()
	const n = 8
	var mu sync.Mutex
	inside, peak := 0, 0
	all := make(chan struct{})
	sleep := func(ctx context.Context, d time.Duration) error {
		if d != 20*time.Millisecond {
			t.Errorf("latency %v, want 20ms", d)
		}
		mu.Lock()
		inside++
		peak = max(peak, inside)
		if inside == n {
			close(all)
		}
		mu.Unlock()
		// Wait until every request is waiting at once: impossible if a
		// waiting request held a lock the others need.
		select {
		case <-all:
		case <-ctx.Done():
			return ctx.Err()
		}
		mu.Lock()
		inside--
		mu.Unlock()
		return nil
	}
	w := newWorld(t, Options{Sleep: sleep})
	w.c.Faults().Add(Fault{Action: "GenerateDataKey", Latency: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(ctxb(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
			_, err := kc.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ID)}, rt)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if peak != n {
		t.Errorf("at most %d requests waited at once, want %d", peak, n)
	}

	// The default Sleep is real time and stops when the context ends.
	for _, tr := range transports {
		w := newWorld(t, Options{})
		w.c.Faults().Add(Fault{Action: "DescribeKey", Latency: time.Hour})
		kc := newClients(t, configFor(t, w.c, tr)(w.secAdmin.Credentials())).kms
		ctx, cancel := context.WithTimeout(ctxb(), 50*time.Millisecond)
		_, err := kc.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(w.key.ID)}, rt)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: a call past its deadline returned %v", tr, err)
		}
		// In process the handler has returned by now; it logged the call
		// with no status. (Over HTTP it notices the disconnect later.)
		if e := w.c.Log().Entries(Match{Action: "DescribeKey"}); tr == inProc && (len(e) != 1 || e[0].Status != 0 || e[0].Fault != "latency") {
			t.Errorf("log of the abandoned call: %+v", e)
		}
	}
}
