package share_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// hookClock is the manual clock with a hook run at every wait, to script
// what other writers do while Apply waits.
type hookClock struct {
	manualClock
	mu     sync.Mutex
	n      int
	onWait func(n int, d time.Duration)
}

func (h *hookClock) Sleep(ctx context.Context, d time.Duration) error {
	h.mu.Lock()
	h.n++
	n := h.n
	h.mu.Unlock()
	if h.onWait != nil {
		h.onWait(n, d)
	}
	return h.manualClock.Sleep(ctx, d)
}

// TestLostResponseWriteIsConfirmed: a SetKeyPolicy that took effect but
// answered 503 is confirmed like any write. A writer that read the policy
// before it and saves after the next read would otherwise erase the grant
// unnoticed.
func TestLostResponseWriteIsConfirmed(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	sdk := securitySDK(t, lz)
	stale := getPolicy(t, sdk, lz.key.ARN) // read by the other writer before our write
	fault := lz.cloud.Faults().Add(fakecloud.Fault{Action: "SetKeyPolicy", LostResponse: 1})
	clock := &hookClock{manualClock: manualClock{lz.clock}}
	clock.onWait = func(n int, _ time.Duration) {
		switch n {
		case 1: // the backoff after the "failed" write, which was carried out
			lz.cloud.Faults().Remove(fault)
		case 2: // the wait after the read that found the changes in place
			setPolicy(t, sdk, lz.key.ARN, stale)
		}
	}
	c := lz.client(t, func(o *share.Options) { o.Clock = clock })
	res, err := c.Share(context.Background(), lz.spec(lz.members...))
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	if !strings.Contains(lz.key.PolicyDocument(), arn.ResourceDirectoryAccessRole(lz.members[0].ID).String()) {
		t.Errorf("the grant was lost: %s", lz.key.PolicyDocument())
	}
	if kp := res.KeyPolicy; kp.Writes != 2 || kp.Status != share.StatusDone {
		t.Errorf("key policy result %+v, want 2 writes: the lost response, and the one after the overwrite", kp)
	}
}

// TestOverwriteBacksOff: after another writer overwrote the key policy,
// Apply waits (Options.Retry.Backoff, growing) before merging again.
func TestOverwriteBacksOff(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	sdk := securitySDK(t, lz)
	stale := getPolicy(t, sdk, lz.key.ARN)
	var mu sync.Mutex
	var backoffs []int
	written := 0
	c := lz.client(t, func(o *share.Options) {
		o.Retry.Backoff = func(attempt int) time.Duration {
			mu.Lock()
			backoffs = append(backoffs, attempt)
			mu.Unlock()
			return time.Second
		}
		o.Progress = func(e share.Event) {
			if strings.HasPrefix(e.Message, "key policy written") {
				if written++; written <= 2 { // the first two writes are overwritten
					setPolicy(t, sdk, lz.key.ARN, stale)
				}
			}
		}
	})
	res, err := c.Share(context.Background(), lz.spec(lz.members...))
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	if kp := res.KeyPolicy; kp.Writes != 3 || kp.Rounds != 3 {
		t.Errorf("key policy result %+v, want 3 writes", kp)
	}
	if !slices.Equal(backoffs, []int{1, 2}) {
		t.Errorf("backoffs before merging again: %v, want [1 2]", backoffs)
	}
}

// TestLostUpdateBound: a writer that overwrites every write makes Apply
// give up after Options.KeyPolicyAttempts rounds with ErrLostUpdate, and
// the result says the grant is not in place.
func TestLostUpdateBound(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	sdk := securitySDK(t, lz)
	stale := getPolicy(t, sdk, lz.key.ARN)
	c := lz.client(t, func(o *share.Options) {
		o.KeyPolicyAttempts = 3
		o.Progress = func(e share.Event) {
			if strings.HasPrefix(e.Message, "key policy written") {
				setPolicy(t, sdk, lz.key.ARN, stale)
			}
		}
	})
	res, err := c.Share(context.Background(), lz.spec(lz.members...))
	var ae *share.ApplyError
	if !errors.Is(err, share.ErrLostUpdate) || !errors.Is(err, share.ErrIncomplete) || !errors.As(err, &ae) || ae.Result != res {
		t.Fatalf("Share = %v, want an *ApplyError matching ErrLostUpdate", err)
	}
	if kp := res.KeyPolicy; kp.Status != share.StatusFailed || kp.Writes != 3 || !strings.Contains(kp.Error, "3 rounds") {
		t.Errorf("key policy result %+v", kp)
	}
	if r := res.Recipients[0]; r.Granted || r.Done {
		t.Errorf("recipient result %+v", r)
	}
	if !strings.Contains(res.String(), "NOT granted in the key policy") {
		t.Errorf("result text:\n%s", res)
	}
}

// TestDeletedRoleFailsAtOnce: a key policy write refused with
// InvalidParameter for a principal RAM does not know is not waited on: the
// role really is missing (deleted here after Apply made it).
func TestDeletedRoleFailsAtOnce(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	m := lz.members[0]
	ram := ramSDK(t, lz, m)
	policyName := share.RecipientPolicyName(arn.MustParse(lz.key.ARN), arn.RAMRole(m.ID, "app"))
	var waited bool
	c := lz.client(t, func(o *share.Options) {
		o.Progress = func(e share.Event) {
			switch {
			case strings.HasPrefix(e.Message, "attach custom policy") && strings.HasSuffix(e.Message, ": done"):
				detachFromRole(t, ram, "Custom", policyName, "app")
				deleteRole(t, ram, "app")
			case strings.Contains(e.Message, "KMS does not see them yet"):
				waited = true
			}
		}
	})
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: m.ID, Principal: share.PrincipalRole, Name: "app"}}}
	res, err := c.Share(context.Background(), spec)
	if !errors.Is(err, share.ErrIncomplete) || !errors.Is(err, share.ErrInvalidParameter) || !strings.Contains(err.Error(), "role/app does not exist") {
		t.Fatalf("Share = %v\n%s", err, res)
	}
	refused := lz.cloud.Log().Entries(fakecloud.Match{Action: "SetKeyPolicy", Code: "InvalidParameter"})
	if waited || len(refused) != 1 || res.KeyPolicy.Writes != 1 {
		t.Errorf("waited %v, %d refusals, result %+v", waited, len(refused), res.KeyPolicy)
	}
}

// TestKeyPolicyRetryUsesRetrySleep: the backoff between attempts of a
// throttled SetKeyPolicy waits with Options.Retry.Sleep, like every other
// retried call.
func TestKeyPolicyRetryUsesRetrySleep(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	lz.cloud.Faults().Add(fakecloud.Fault{Action: "SetKeyPolicy", Throttle: 1})
	var mu sync.Mutex
	var waits []time.Duration
	c := lz.client(t, func(o *share.Options) {
		o.Retry.MaxAttempts = 3
		o.Retry.Backoff = func(attempt int) time.Duration { return time.Duration(attempt) * time.Second }
		o.Retry.Sleep = func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return ctx.Err()
		}
	})
	res, err := c.Share(context.Background(), lz.spec(lz.members...))
	if !errors.Is(err, share.ErrIncomplete) || res.KeyPolicy.Writes != 3 {
		t.Fatalf("Share = %v, key policy %+v; want 3 throttled writes", err, res.KeyPolicy)
	}
	if !slices.Equal(waits, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("Retry.Sleep waits %v, want [1s 2s]", waits)
	}
}
