package share_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
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
// policy and a careful writer adds a statement of its own. SetKeyPolicy is
// last-writer-wins, so writes are lost all the time; every grant must still
// end up in the policy exactly once, and the foreign and the careful
// writer's statements must survive.
//
// Everyone runs in lockstep on the emulator's manual clock (lockstep_test.go):
// no real waiting, and the stale writer holds its copy for a drawn time that
// is exactly as long in emulated time as the drawn value, always shorter
// than the settle delay, which is what Apply promises to withstand (package
// doc). The outcome does not depend on how the machine schedules the
// goroutines, only on emulated time.
func TestConcurrentAppliesLoseNothing(t *testing.T) {
	t.Parallel()
	const n = 32
	const settleDelay = 200 * time.Millisecond // Options.SettleDelay's default, set explicitly below
	lz := newLandingZone(t, lzOptions{members: n, quota: n + 8})
	ctx := context.Background()

	// Someone else's statement, written before the pipelines start.
	foreign := `{"Sid":"audit-team","Effect":"Allow","Principal":{"RAM":["acs:ram::` + lz.security.ID + `:user/auditor"]},"Action":["kms:DescribeKey"],"Resource":["*"]}`
	if _, err := lz.security.NewUser("auditor"); err != nil {
		t.Fatal(err)
	}
	owner := securitySDK(t, lz)
	cur := getPolicy(t, owner, lz.key.ARN)
	setPolicy(t, owner, lz.key.ARN, strings.Replace(cur, `],"Version"`, ","+foreign+`],"Version"`, 1))

	names := []string{"stale writer", "careful writer"}
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("pipeline %d", i))
	}
	_, actors := newLockstep(t, lz.clock, names...)
	start := lz.clock.Now()
	staleClock, carefulClock, pipelineClocks := actors[0], actors[1], actors[2:]
	var pipelinesLeft atomic.Int32
	pipelinesLeft.Store(n)
	var carefulDone atomic.Bool
	var wg sync.WaitGroup

	// The stale writer: reads the policy, holds the copy for less than the
	// settle delay, writes it back, pauses, and again, until everyone else
	// is done. Its first copy is taken before any pipeline starts, so its
	// first write surely drops grants the pipelines have written by then.
	var staleWrites, staleOverwrites int
	stale := securitySDK(t, lz) // SDK clients are not safe for concurrent use
	staleRand := rand.New(rand.NewPCG(7, 1))
	first := getPolicy(t, stale, lz.key.ARN)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer staleClock.Done()
		doc, read := first, staleClock.Now()
		for {
			hold := settleDelay/10 + time.Duration(staleRand.Int64N(int64(settleDelay*9/10))) // [20ms, 200ms)
			if err := staleClock.Sleep(ctx, hold); err != nil {
				t.Error(err)
				return
			}
			if held := staleClock.Now().Sub(read); held >= settleDelay {
				t.Errorf("the stale writer held its copy %v, not shorter than the settle delay: the test models no promise", held)
				return
			}
			if getPolicy(t, stale, lz.key.ARN) != doc {
				staleOverwrites++ // someone wrote since the read: this write undoes it
			}
			setPolicy(t, stale, lz.key.ARN, doc)
			staleWrites++
			if err := staleClock.Sleep(ctx, settleDelay); err != nil {
				t.Error(err)
				return
			}
			if pipelinesLeft.Load() == 0 && carefulDone.Load() {
				return
			}
			doc, read = getPolicy(t, stale, lz.key.ARN), staleClock.Now()
		}
	}()

	// A careful writer adds a statement of its own in the middle of the run
	// the way this library does: read, merge, write, and re-read a while
	// later, longer than the stale writer holds its copies, until its
	// statement has stuck twice in a row.
	careful := `{"Sid":"careful-team","Effect":"Allow","Principal":{"RAM":["acs:ram::` + lz.security.ID + `:user/auditor"]},"Action":["kms:DescribeKey"],"Resource":["*"]}`
	carefulWrites := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer carefulClock.Done()
		defer carefulDone.Store(true)
		sdk := securitySDK(t, lz)
		if err := carefulClock.Sleep(ctx, 500*time.Millisecond); err != nil {
			t.Error(err)
			return
		}
		for stuck := 0; stuck < 2; {
			doc := getPolicy(t, sdk, lz.key.ARN)
			if strings.Contains(doc, careful) {
				stuck++
			} else {
				stuck = 0
				if carefulWrites++; carefulWrites > 100 {
					t.Error("the careful writer's statement never stuck in 100 writes")
					return
				}
				setPolicy(t, sdk, lz.key.ARN, strings.Replace(doc, `],"Version"`, ","+careful+`],"Version"`, 1))
			}
			if err := carefulClock.Sleep(ctx, 3*settleDelay/2); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	results := make([]*share.Result, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer pipelineClocks[i].Done()
			defer pipelinesLeft.Add(-1)
			c, err := share.New(lz.cloud.Config(lz.pipeline.Credentials(), "cn-hangzhou"), func(o *share.Options) {
				o.Clock = pipelineClocks[i]
				o.Rand = rand.New(rand.NewPCG(7, uint64(100+i))).Int64N
				o.SettleDelay = settleDelay
				o.KeyPolicyAttempts = 50
			})
			if err != nil {
				errs[i] = err
				return
			}
			results[i], errs[i] = c.Share(ctx, lz.spec(lz.members[i]))
		}(i)
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
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
	if !strings.Contains(b, careful) {
		t.Errorf("a statement another careful writer added during the run was lost:\n%s", b)
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
	if staleOverwrites == 0 {
		t.Errorf("none of the stale writer's %d writes undid another's: the run did not test concurrent overwrites", staleWrites)
	}
	if writes <= n {
		t.Errorf("%d key policy writes for %d pipelines: no pipeline had to merge again after an overwrite", writes, n)
	}
	t.Logf("%d pipelines, %d key policy writes (%d beyond one each), %d stale writes by someone else (%d undid another's), %d careful writes, %v of emulated time",
		n, writes, writes-n, staleWrites, staleOverwrites, carefulWrites, lz.clock.Now().Sub(start))
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
