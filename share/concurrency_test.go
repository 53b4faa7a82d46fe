package share_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// TestConcurrentAppliesLoseNothing: 32 pipelines, each its own Client (as
// separate processes would be), share one key with 32 different accounts at
// the same time, while "someone else" keeps saving stale copies of the key
// policy with a statement of their own. SetKeyPolicy is last-writer-wins,
// so writes are lost all the time; every grant must still end up in the
// policy exactly once, and the foreign statement must survive.
func TestConcurrentAppliesLoseNothing(t *testing.T) {
	t.Parallel()
	const n = 32
	lz := newLandingZone(t, lzOptions{members: n, quota: n + 8, realClock: true})
	ctx := context.Background()

	// Someone else's statement, written before the pipelines start.
	foreign := `{"Sid":"audit-team","Effect":"Allow","Principal":{"RAM":["acs:ram::` + lz.security.ID + `:user/auditor"]},"Action":["kms:DescribeKey"],"Resource":["*"]}`
	if _, err := lz.security.NewUser("auditor"); err != nil {
		t.Fatal(err)
	}
	owner := securitySDK(t, lz)
	cur := getPolicy(t, owner, lz.key.ARN)
	setPolicy(t, owner, lz.key.ARN, strings.Replace(cur, `],"Version"`, ","+foreign+`],"Version"`, 1))

	// The stale writer: reads, holds the copy briefly, writes it back. It
	// stays within what Apply promises to withstand (package doc): a
	// writer whose read-to-write interval is shorter than the settle delay.
	// When load stretches its interval beyond Options.SettleDelay's
	// default, it drops that write instead.
	const settleDelay = 200 * time.Millisecond // Options.SettleDelay's default
	stop := make(chan struct{})
	var staleWrites, staleSkips int
	var wg sync.WaitGroup
	// A careful writer adds a statement of its own in the middle of the run
	// the way this library does: read, merge, write, and re-read after a
	// while until its statement has stuck.
	careful := `{"Sid":"careful-team","Effect":"Allow","Principal":{"RAM":["acs:ram::` + lz.security.ID + `:user/auditor"]},"Action":["kms:DescribeKey"],"Resource":["*"]}`
	wg.Add(1)
	go func() {
		defer wg.Done()
		owner := securitySDK(t, lz) // SDK clients are not safe for concurrent use
		time.Sleep(100 * time.Millisecond)
		for stuck := 0; stuck < 2; {
			doc := getPolicy(t, owner, lz.key.ARN)
			if strings.Contains(doc, careful) {
				stuck++
			} else {
				stuck = 0
				setPolicy(t, owner, lz.key.ARN, strings.Replace(doc, `],"Version"`, ","+careful+`],"Version"`, 1))
			}
			time.Sleep(300 * time.Millisecond)
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			doc := getPolicy(t, owner, lz.key.ARN)
			read := time.Now()
			time.Sleep(5 * time.Millisecond)
			if held := time.Since(read); held > settleDelay {
				staleSkips++
				t.Logf("stale write skipped: held the copy %v, longer than the settle delay", held)
			} else {
				setPolicy(t, owner, lz.key.ARN, doc)
				staleWrites++
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()

	results := make([]*share.Result, n)
	errs := make([]error, n)
	var apply sync.WaitGroup
	for i := 0; i < n; i++ {
		apply.Add(1)
		go func(i int) {
			defer apply.Done()
			c, err := share.New(lz.cloud.Config(lz.pipeline.Credentials(), "cn-hangzhou"), func(o *share.Options) {
				o.KeyPolicyAttempts = 50
			})
			if err != nil {
				errs[i] = err
				return
			}
			results[i], errs[i] = c.Share(ctx, lz.spec(lz.members[i]))
		}(i)
	}
	apply.Wait()
	close(stop)
	wg.Wait()
	if !strings.Contains(lz.key.PolicyDocument(), careful) {
		t.Errorf("a statement another careful writer added during the run was lost:\n%s", lz.key.PolicyDocument())
	}

	writes := 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("pipeline %d: %v", i, errs[i])
		}
		writes += results[i].KeyPolicy.Writes
	}
	final := policy.MustParse(lz.key.PolicyDocument())
	b := final.String()
	if !strings.Contains(b, foreign) {
		t.Errorf("the foreign statement was lost or rewritten:\n%s", b)
	}
	if final.Statement[0].Sid != policy.DefaultKeyPolicySid {
		t.Error("the default statement moved")
	}
	for _, m := range lz.members {
		p := arn.ResourceDirectoryAccessRole(m.ID).String()
		if c := strings.Count(b, `"`+p+`"`); c != 1 {
			t.Errorf("%s appears %d times", p, c)
		}
	}
	if staleWrites == 0 {
		t.Error("the stale writer never wrote: the run did not test concurrent overwrites")
	}
	t.Logf("%d pipelines, %d key policy writes (%d beyond one each), %d stale overwrites by someone else (%d skipped as too slow)",
		n, writes, writes-n, staleWrites, staleSkips)
}

// TestFaultsConverge: with 20% throttling, 5% 503s and added latency on every
// call, sharing with 50 accounts still converges and nothing is lost.
func TestFaultsConverge(t *testing.T) {
	t.Parallel()
	const n = 50
	lz := newLandingZone(t, lzOptions{members: n, quota: n + 5})
	lz.cloud.Faults().Add(fakecloud.Fault{Throttle: 0.20, Unavailable: 0.05, Latency: time.Millisecond})
	// And some requests are carried out but answered with a 503, so that
	// retries meet the results of the attempts they repeat.
	lz.cloud.Faults().Add(fakecloud.Fault{LostResponse: 0.05})
	c := lz.client(t, func(o *share.Options) {
		o.Retry.MaxAttempts = 25
		o.Concurrency = 8
	})
	ctx := context.Background()
	spec := lz.spec(lz.members...)
	spec.Recipients[0].Principal = share.PrincipalECSDiskRole // some recipient-side writes too
	spec.Recipients[1] = share.Recipient{Account: lz.members[1].ID, Principal: share.PrincipalRole, Name: "payments"}

	var res *share.Result
	var err error
	for run := 1; run <= 3; run++ {
		if res, err = c.Share(ctx, spec); err == nil {
			break
		}
		t.Logf("run %d incomplete, re-running: %v", run, err)
	}
	if err != nil {
		t.Fatalf("did not converge: %v\n%s", err, res)
	}
	failed := len(lz.cloud.Log().Entries(fakecloud.Match{Failed: true}))
	if failed == 0 {
		t.Fatal("no faults were injected")
	}
	rep, err := c.Verify(ctx, spec)
	if err != nil || !rep.OK() {
		t.Fatalf("verify under faults: %v\n%s", err, rep)
	}
	final := lz.key.PolicyDocument()
	for _, r := range spec.Recipients {
		if !strings.Contains(final, r.PrincipalARN().Canonical().String()) {
			t.Errorf("%s lost", r.PrincipalARN())
		}
	}
	t.Logf("%d failed requests injected", failed)
}

// TestThrottledWriteIsMergedAgain: a throttled SetKeyPolicy is not resent
// as it was; the policy is read and merged again, so a statement another
// writer saved during the backoff survives.
func TestThrottledWriteIsMergedAgain(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	sdk := securitySDK(t, lz)
	foreign := `{"Sid":"audit-team","Effect":"Allow","Principal":{"RAM":["acs:ram::` + lz.security.ID + `:*"]},"Action":["kms:DescribeKey"],"Resource":["*"]}`
	fault := lz.cloud.Faults().Add(fakecloud.Fault{Action: "SetKeyPolicy", Throttle: 1})
	var once sync.Once
	c := lz.client(t, func(o *share.Options) {
		o.Progress = func(e share.Event) {
			if e.Err == nil || !strings.Contains(e.Message, "key policy write failed") {
				return
			}
			once.Do(func() { // someone saves the policy during the backoff
				lz.cloud.Faults().Remove(fault)
				cur := getPolicy(t, sdk, lz.key.ARN)
				setPolicy(t, sdk, lz.key.ARN, strings.Replace(cur, `],"Version"`, ","+foreign+`],"Version"`, 1))
			})
		}
	})
	res, err := c.Share(context.Background(), lz.spec(lz.members...))
	if err != nil {
		t.Fatal(err)
	}
	got := lz.key.PolicyDocument()
	if !strings.Contains(got, foreign) || !strings.Contains(got, arn.ResourceDirectoryAccessRole(lz.members[0].ID).String()) {
		t.Errorf("after a throttled write the policy is %s", got)
	}
	if res.KeyPolicy.Writes != 2 {
		t.Errorf("key policy result %+v, want 2 writes (the throttled one and the merged one)", res.KeyPolicy)
	}
}

// securitySDK is a raw KMS client of the Security account's root, for
// tampering with the key policy the way a console user would.
func securitySDK(t testing.TB, lz *landingZone) *kms.Client {
	t.Helper()
	c, err := kms.NewClient(lz.cloud.Config(lz.security.RootCredentials(), "cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getPolicy(t testing.TB, c *kms.Client, key string) string {
	resp, err := c.GetKeyPolicyWithContext(context.Background(), &kms.GetKeyPolicyRequest{KeyId: tea.String(key), PolicyName: tea.String("default")}, &dara.RuntimeOptions{})
	if err != nil {
		t.Error(err)
		return ""
	}
	return tea.StringValue(resp.Body.Policy)
}

func setPolicy(t testing.TB, c *kms.Client, key, doc string) {
	if _, err := c.SetKeyPolicyWithContext(context.Background(), &kms.SetKeyPolicyRequest{KeyId: tea.String(key), Policy: tea.String(doc), PolicyName: tea.String("default")}, &dara.RuntimeOptions{}); err != nil {
		t.Error(err)
	}
}
