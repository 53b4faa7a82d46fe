package share_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// gatewayAhead is the real clock moved forward: the API gateway's view of
// a host whose clock is behind.
type gatewayAhead time.Duration

func (g gatewayAhead) Now() time.Time { return time.Now().UTC().Add(time.Duration(g)) }

// TestClockSkewIsNamed: a pipeline host whose clock is 20 minutes off gets
// ErrClockSkew, whose message says to fix the host's clock, at once (it is
// not retried, nor taken for a missing permission).
func TestClockSkewIsNamed(t *testing.T) {
	t.Parallel()
	clk := fakecloud.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	cloud := fakecloud.New(fakecloud.Options{Clock: clk, GatewayClock: gatewayAhead(20 * time.Minute)})
	mgmt := cloud.NewAccount("management")
	sec := cloud.NewAccount("security")
	app := cloud.NewAccount("app")
	key, err := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 3}).NewKey(fakecloud.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pipeline, err := mgmt.NewUser("pipeline", "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	c, err := share.New(cloud.Config(pipeline.Credentials(), "cn-hangzhou"), func(o *share.Options) { o.Clock = manualClock{clk} })
	if err != nil {
		t.Fatal(err)
	}
	spec := &share.Spec{Key: key.ARN, Recipients: []share.Recipient{{Account: app.ID}}}
	_, err = c.Plan(context.Background(), spec)
	if !errors.Is(err, share.ErrClockSkew) || !strings.Contains(err.Error(), "fix the host's clock") {
		t.Fatalf("Plan with a host clock 20 minutes off: %v", err)
	}
	if n := cloud.Log().Count(fakecloud.Match{Code: "InvalidTimeStamp.Expired"}); n != 1 {
		t.Errorf("%d refused requests, want 1 (not retried)", n)
	}
}
