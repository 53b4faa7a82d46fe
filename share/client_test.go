package share_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// TestNewFromClients builds the orchestrator from SDK clients; the clients
// for other accounts are derived from their settings.
func TestNewFromClients(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	cfg := lz.cloud.Config(lz.pipeline.Credentials(), "cn-hangzhou")
	k, err := kms.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := ram.NewClient(lz.cloud.Config(lz.pipeline.Credentials(), "cn-hangzhou"))
	s, _ := sts.NewClient(lz.cloud.Config(lz.pipeline.Credentials(), "cn-hangzhou"))
	c, err := share.NewFromClients(k, r, s, func(o *share.Options) { o.Clock = manualClock{lz.clock}; o.SettleDelay = time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	if c.Region() != "cn-hangzhou" {
		t.Errorf("region %q", c.Region())
	}
	spec := lz.spec(lz.members...)
	if _, err := c.Share(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Verify(context.Background(), spec); err != nil || !rep.OK() {
		t.Fatalf("%v %s", err, rep)
	}
	if _, err := share.NewFromClients(nil, r, s); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := share.New(nil); err == nil {
		t.Error("nil config accepted")
	}
}

// TestNewFromDefaultCredentials: the credentials-go default chain is wired
// in without any network access at construction.
func TestNewFromDefaultCredentials(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-example-id")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "example-secret")
	c, err := share.NewFromDefaultCredentials("cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if c.Region() != "cn-hangzhou" {
		t.Errorf("region %q", c.Region())
	}
	if _, err := share.NewFromDefaultCredentials(""); err == nil {
		t.Error("no region accepted")
	}
}

// TestSessionsCachedAndRefreshed: STS sessions into member accounts are
// reused, and renewed before they expire.
func TestSessionsCachedAndRefreshed(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	c := lz.client(t, func(o *share.Options) { o.SessionDuration = time.Hour })
	ctx := context.Background()
	spec := lz.spec(lz.members...)
	assumes := func() int {
		return len(lz.cloud.Log().Entries(fakecloud.Match{Action: "AssumeRole", CallerAccount: lz.mgmt.ID, Status: 200}))
	}
	if _, err := c.Plan(ctx, spec); err != nil {
		t.Fatal(err)
	}
	first := assumes()
	if first != 2 { // the Security account and the member
		t.Errorf("%d AssumeRole calls for the first plan, want 2", first)
	}
	if _, err := c.Plan(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if n := assumes(); n != first {
		t.Errorf("sessions not reused: %d AssumeRole calls", n)
	}
	lz.clock.Advance(56 * time.Minute) // within 5 minutes of expiry
	if _, err := c.Plan(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if n := assumes(); n != first+2 {
		t.Errorf("sessions not refreshed before expiry: %d AssumeRole calls", n)
	}
}

// TestOneAssumeRolePerAccount: recipients in one account planned in
// parallel share one STS session; they do not each assume the access role.
func TestOneAssumeRolePerAccount(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	m := lz.members[0]
	c := lz.client(t)
	spec := &share.Spec{Key: lz.key.ARN}
	for i := range 6 {
		spec.Recipients = append(spec.Recipients, share.Recipient{Account: m.ID, Principal: share.PrincipalRole, Name: fmt.Sprintf("app%d", i)})
	}
	mustPlan(t, c, spec)
	if n := lz.cloud.Log().Count(fakecloud.Match{Action: "AssumeRole", TargetAccount: m.ID}); n != 1 {
		t.Errorf("%d AssumeRole calls into the recipients' account, want 1", n)
	}
}

// TestEventualConsistencyRetried: RAM briefly hides new roles and policies
// from AttachPolicyToRole; Apply retries instead of failing.
func TestEventualConsistencyRetried(t *testing.T) {
	t.Parallel()
	clock := fakecloud.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	cloud := fakecloud.New(fakecloud.Options{Clock: clock, Seed: 3, VisibilityDelay: 3 * time.Second})
	mgmt := cloud.NewAccount("management")
	rd, _ := cloud.NewResourceDirectory(mgmt)
	sec := rd.Root().NewMember("security")
	member := rd.Root().NewMember("app")
	key, _ := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 3}).NewKey(fakecloud.KeyOptions{})
	pipeline, _ := mgmt.NewUser("pipeline", "AdministratorAccess")
	var logBuf bytes.Buffer
	c, err := share.New(cloud.Config(pipeline.Credentials(), "cn-hangzhou"), func(o *share.Options) {
		o.Clock = manualClock{clock}
		o.SettleDelay = time.Millisecond
		o.Logger = slog.New(slog.NewTextHandler(&logBuf, nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	spec := &share.Spec{Key: key.ARN, Recipients: []share.Recipient{{Account: member.ID, Principal: share.PrincipalECSDiskRole}}}
	res, err := c.Share(context.Background(), spec)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	hidden := cloud.Log().Entries(fakecloud.Match{Action: "AttachPolicyToRole", Failed: true})
	if len(hidden) == 0 || !strings.HasPrefix(hidden[0].Code, "EntityNotExist.") {
		t.Errorf("the visibility delay was not exercised: %+v", hidden)
	}
	// The slog hook saw the steps.
	out := logBuf.String()
	for _, want := range []string{"phase=apply", "create role AliyunECSDiskEncryptDefaultRole", "key policy confirmed"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestThrottledStepNotRetriedTwice: a step that is always throttled is tried
// as often as the retry policy says, not that many times for each of the
// consistency retries around it.
func TestThrottledStepNotRetriedTwice(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	lz.cloud.Faults().Add(fakecloud.Fault{Action: "AttachPolicyToRole", Throttle: 1})
	const attempts = 3
	c := lz.client(t, func(o *share.Options) { o.Retry.MaxAttempts = attempts })
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: lz.members[0].ID, Principal: share.PrincipalRole, Name: "app"}}}
	res, err := c.Share(context.Background(), spec)
	if !errors.Is(err, share.ErrIncomplete) {
		t.Fatalf("Share = %v, want ErrIncomplete\n%s", err, res)
	}
	if n := len(lz.cloud.Log().Entries(fakecloud.Match{Action: "AttachPolicyToRole"})); n != attempts {
		t.Errorf("%d AttachPolicyToRole calls, want %d (Retry.MaxAttempts)", n, attempts)
	}
}
