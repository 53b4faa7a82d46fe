package share_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// TestQuotaCountsAccountsAcrossKeys: the access management quota counts
// distinct accounts across the instance's keys, so sharing a second key
// with an account the first already reaches costs nothing, and the plan
// must not refuse it (kms.md §9; the emulator counts the same way).
func TestQuotaCountsAccountsAcrossKeys(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 3, quota: 2})
	a, b, cc := lz.members[0], lz.members[1], lz.members[2]
	ctx := context.Background()
	if _, err := lz.client(t).Share(ctx, lz.spec(a)); err != nil {
		t.Fatal(err)
	}
	key2, err := lz.instance.NewKey(fakecloud.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// key2 with a and b: naively 1 used + 2 new > 2, but a is already counted.
	spec := &share.Spec{Key: key2.ARN, Recipients: []share.Recipient{{Account: a.ID}, {Account: b.ID}}}

	t.Run("counted", func(t *testing.T) {
		c := lz.client(t)
		plan := mustPlan(t, c, spec)
		if err := plan.Err(); err != nil || len(plan.Warnings) != 0 {
			t.Fatalf("plan: %v, warnings %v\n%s", err, plan.Warnings, plan)
		}
		if q := plan.Quota; q == nil || len(q.AlreadyCounted) != 1 || q.AlreadyCounted[0] != a.ID {
			t.Errorf("quota %+v", plan.Quota)
		}
		if !strings.Contains(plan.String(), "2 new account(s), 1 of them already counted through other keys of the instance") {
			t.Errorf("plan text:\n%s", plan)
		}
	})

	t.Run("true excess refused", func(t *testing.T) {
		c := lz.client(t)
		plan := mustPlan(t, c, &share.Spec{Key: key2.ARN, Recipients: []share.Recipient{{Account: b.ID}, {Account: cc.ID}}})
		if err := plan.Err(); !errors.Is(err, share.ErrQuotaExceeded) || !strings.Contains(err.Error(), "0 of the 2 are already counted") {
			t.Errorf("plan.Err() = %v", err)
		}
	})

	// When the keys cannot be listed (here: KMS keeps answering 503), the
	// plan warns instead of refusing, and Apply succeeds: the quota stays
	// at 2 accounts, as SetKeyPolicy enforces it.
	c := lz.client(t, func(o *share.Options) { o.Retry.MaxAttempts = 2 })
	fault := lz.cloud.Faults().Add(fakecloud.Fault{Service: "kms", Action: "ListKeys", Unavailable: 1})
	plan := mustPlan(t, c, spec)
	lz.cloud.Faults().Remove(fault)
	if err := plan.Err(); err != nil {
		t.Fatalf("a quota that cannot be checked refused the plan: %v", err)
	}
	if len(plan.Warnings) != 1 || plan.Warnings[0].Code != share.WarningQuotaUnchecked || !errors.Is(plan.Warnings[0].Err, share.ErrUnavailable) {
		t.Fatalf("warnings %+v", plan.Warnings)
	}
	if !strings.Contains(plan.String(), "WARNING quota-unchecked: ") {
		t.Errorf("plan text:\n%s", plan)
	}
	if _, err := c.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if used := lz.instance.QuotaUsed(); used != 2 {
		t.Errorf("quota used %d, want 2", used)
	}
}

// TestQuotaOneAccountTwoKeys is the case from the audit: quota 1, key 1
// already shared with member A; sharing key 2 with A fits.
func TestQuotaOneAccountTwoKeys(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1, quota: 1})
	c := lz.client(t)
	ctx := context.Background()
	if _, err := c.Share(ctx, lz.spec(lz.members...)); err != nil {
		t.Fatal(err)
	}
	key2, err := lz.instance.NewKey(fakecloud.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := &share.Spec{Key: key2.ARN, Recipients: []share.Recipient{{Account: lz.members[0].ID}}}
	plan := mustPlan(t, c, spec)
	if err := plan.Err(); err != nil {
		t.Fatalf("plan refused: %v", err)
	}
	if _, err := c.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if used := lz.instance.QuotaUsed(); used != 1 {
		t.Errorf("quota used %d, want 1", used)
	}
}

// TestSkipQuotaCheck: with Options.SkipQuotaCheck the plan does not read
// the quota, and SetKeyPolicy's refusal is what stops the share.
func TestSkipQuotaCheck(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 3, quota: 2})
	c := lz.client(t, func(o *share.Options) { o.SkipQuotaCheck = true })
	seq := lz.lastSeq()
	plan := mustPlan(t, c, lz.spec(lz.members...))
	if err := plan.Err(); err != nil || plan.Quota != nil {
		t.Fatalf("plan: %v, quota %+v", err, plan.Quota)
	}
	for _, e := range lz.cloud.Log().Entries(fakecloud.Match{Action: "GetKmsInstanceQuotaInfos"}) {
		if e.Seq > seq {
			t.Error("the quota was read")
		}
	}
	before := lz.key.PolicyDocument()
	if _, err := c.Apply(context.Background(), plan); !errors.Is(err, share.ErrQuotaExceeded) {
		t.Errorf("Apply = %v", err)
	}
	if lz.key.PolicyDocument() != before {
		t.Error("the key policy changed")
	}
}
