package sim

import (
	"context"
	"testing"
	"time"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
)

// TestLandingZone: the same seed gives the same IDs; the members sit in the
// apps folder; the pipeline user acts in the management account.
func TestLandingZone(t *testing.T) {
	t.Parallel()
	build := func(seed uint64) *LandingZone {
		lz, err := NewLandingZone(Options{Clock: ManualClock(), Seed: seed, Members: []string{"app-1", "app-2"}})
		if err != nil {
			t.Fatal(err)
		}
		return lz
	}
	a, b, c := build(1), build(1), build(2)
	if a.Key.ARN != b.Key.ARN || a.Members[1].ID != b.Members[1].ID || a.Directory.ID != b.Directory.ID {
		t.Errorf("seed 1 twice: %s/%s vs %s/%s", a.Key.ARN, a.Members[1].ID, b.Key.ARN, b.Members[1].ID)
	}
	if a.Key.ARN == c.Key.ARN {
		t.Errorf("seeds 1 and 2 give the same key %s", a.Key.ARN)
	}
	if len(a.Members) != 2 || a.Name(a.Members[0].ID) != "app-1" || a.Name("123") != "123" {
		t.Errorf("members %v, names %q %q", a.Members, a.Name(a.Members[0].ID), a.Name("123"))
	}
	if a.Key.Region != Region || a.Key.Instance.ID != a.Instance.ID || a.Key.Account.ID != a.Security.ID {
		t.Errorf("key %+v", a.Key)
	}
	client, err := sts.NewClient(a.Config())
	if err != nil {
		t.Fatal(err)
	}
	who, err := client.GetCallerIdentity()
	if err != nil || tea.StringValue(who.Body.AccountId) != a.Management.ID {
		t.Errorf("the pipeline acts as %v, %v; want account %s", who, err, a.Management.ID)
	}
	if _, err := NewLandingZone(Options{}); err == nil {
		t.Error("no clock: no error")
	}
}

// TestClocks: both clocks wait on emulator time.
func TestClocks(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Clock{"manual": ManualClock(), "scaled": ScaledClock(1e6)} {
		before := c.Now()
		if err := c.Sleep(context.Background(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if d := c.Now().Sub(before); d < time.Minute {
			t.Errorf("%s: Sleep(1m) moved the clock %v", name, d)
		}
	}
}

// TestECSUse: ECS acting for an account gets as far as the role's trust
// policy and permissions let it, and Check tells expected outcomes apart.
func TestECSUse(t *testing.T) {
	t.Parallel()
	lz, err := NewLandingZone(Options{Clock: ManualClock(), Seed: 1, Members: []string{"app-1"}})
	if err != nil {
		t.Fatal(err)
	}
	trust, err := policy.TrustService(arn.ECS(""))
	if err != nil {
		t.Fatal(err)
	}
	// A role of the key's owner and one of the member, each trusted by ECS
	// acting for its own account: the key policy admits only the owner's.
	admin, err := lz.Security.NewRole("EcsAdmin", trust.String(), "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	member, err := lz.Members[0].NewRole("EcsAdmin", trust.String(), "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	key := arn.MustParse(lz.Key.ARN)
	for _, tc := range []struct {
		name string
		acct *fakecloud.Account
		role string
		call ECSCall
		want ECSOutcome
	}{
		{"used", lz.Security, admin.ARN, ECSCall{Session: "ecs-test", Purpose: "test", Decrypt: true}, ECSKeyUsed},
		{"key refused", lz.Members[0], member.ARN, ECSCall{Session: "ecs-test", Purpose: "test"}, ECSKeyRefused},
		{"role refused", lz.Members[0], admin.ARN, ECSCall{Session: "ecs-test", Purpose: "test"}, ECSRoleRefused},
	} {
		got, err := ECSUse(context.Background(), lz.Cloud, tc.acct, tc.role, key, tc.call)
		if got != tc.want || (err == nil) != (got == ECSKeyUsed) {
			t.Errorf("%s: %s, %v; want %s", tc.name, got, err, tc.want)
		}
		if err := got.Check(got == ECSKeyUsed); err != nil {
			t.Errorf("%s: Check of the expected outcome: %v", tc.name, err)
		}
		if err := got.Check(got != ECSKeyUsed); err == nil {
			t.Errorf("%s: Check of the opposite outcome: no error", tc.name)
		}
	}
	for _, admitted := range []bool{true, false} {
		if err := ECSFailed.Check(admitted); err == nil {
			t.Errorf("ECSFailed.Check(%v): no error", admitted)
		}
	}
}
