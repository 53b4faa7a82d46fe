package sim

import (
	"context"
	"testing"
	"time"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
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
