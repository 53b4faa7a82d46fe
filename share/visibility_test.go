package share_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// events collects progress messages.
type events struct {
	mu   sync.Mutex
	msgs []string
}

func (e *events) add(ev share.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.msgs = append(e.msgs, ev.Message)
}

func (e *events) count(sub string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, m := range e.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// createRoleViaAPI creates an application role through RAM's API, so it
// is subject to the emulator's VisibilityDelay, and attaches policies with
// the set-up API (at once).
func createRoleViaAPI(t *testing.T, lz *landingZone, m *fakecloud.Account, name string, policies ...string) {
	t.Helper()
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + m.ID + `:root"]}}]}`
	if _, err := ramSDK(t, lz, m).CreateRoleWithContext(context.Background(), &ram.CreateRoleRequest{
		RoleName: tea.String(name), AssumeRolePolicyDocument: tea.String(trust)}, &dara.RuntimeOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(policies) > 0 {
		if err := (&fakecloud.Role{Account: m, Name: name}).Attach(policies...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestApplyWaitsForNewPrincipal: a role created moments ago exists in RAM
// but KMS refuses it in a key policy (InvalidParameter) until it becomes
// visible. Apply tells this apart from a missing role by asking RAM, and
// waits it out within VisibilityWait, reporting the waits.
func TestApplyWaitsForNewPrincipal(t *testing.T) {
	t.Parallel()
	const delay = 40 * time.Second
	lz := newLandingZone(t, lzOptions{members: 1, visibility: delay})
	m := lz.members[0]
	createRoleViaAPI(t, lz, m, "app", "AliyunKMSFullAccess")
	var ev events
	c := lz.client(t, func(o *share.Options) { o.Progress = ev.add })
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: m.ID, Principal: share.PrincipalRole, Name: "app"}}}
	start := lz.clock.Now()
	res, err := c.Share(context.Background(), spec)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	if n := lz.cloud.Log().Count(fakecloud.Match{Action: "SetKeyPolicy", Code: "InvalidParameter"}); n == 0 {
		t.Fatal("SetKeyPolicy never refused the new role: the test did not test the wait")
	}
	if ev.count("KMS does not see them yet") == 0 {
		t.Errorf("no progress event reported the wait: %q", ev.msgs)
	}
	if waited := lz.clock.Now().Sub(start); waited < delay || waited > delay+time.Minute {
		t.Errorf("waited %s of emulator time for a %s visibility delay", waited, delay)
	}
}

// TestApplyGivesUpOnInvisiblePrincipal: the wait is bounded.
func TestApplyGivesUpOnInvisiblePrincipal(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1, visibility: time.Hour})
	m := lz.members[0]
	createRoleViaAPI(t, lz, m, "app", "AliyunKMSFullAccess")
	c := lz.client(t, func(o *share.Options) { o.VisibilityWait = 30 * time.Second })
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: m.ID, Principal: share.PrincipalRole, Name: "app"}}}
	start := lz.clock.Now()
	res, err := c.Share(context.Background(), spec)
	if !errors.Is(err, share.ErrNotYetVisible) || !errors.Is(err, share.ErrInvalidParameter) {
		t.Fatalf("Share = %v\n%s", err, res)
	}
	if waited := lz.clock.Now().Sub(start); waited < 30*time.Second || waited > 45*time.Second {
		t.Errorf("gave up after %s, want about 30s", waited)
	}
}

// TestVerifyWaitsForNewPrincipal: a role re-created moments ago is refused
// by AssumeRole with EntityNotExist.Role although RAM has it; Verify reports
// it as not yet propagated (not as a missing role) and succeeds once it is
// visible. A role RAM does not know is still missing at once.
func TestVerifyWaitsForNewPrincipal(t *testing.T) {
	t.Parallel()
	const delay = 40 * time.Second
	lz := newLandingZone(t, lzOptions{members: 2, visibility: delay})
	m := lz.members[0]
	if _, err := m.NewRole("app", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+m.ID+`:root"]}}]}`); err != nil {
		t.Fatal(err)
	}
	var ev events
	c := lz.client(t, func(o *share.Options) { o.Progress = ev.add })
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: m.ID, Principal: share.PrincipalRole, Name: "app"}}}
	if res, err := c.Share(context.Background(), spec); err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	// Delete the role and create it again through the API: the key policy
	// still names it, but STS does not see the new one yet.
	rc := ramSDK(t, lz, m)
	policyName := share.RecipientPolicyName(arn.MustParse(lz.key.ARN), arn.RAMRole(m.ID, "app"))
	detachFromRole(t, rc, "Custom", policyName, "app")
	deleteRole(t, rc, "app")
	createRoleViaAPI(t, lz, m, "app")
	if err := (&fakecloud.Role{Account: m, Name: "app"}).Attach(policyName); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Verify(context.Background(), spec)
	if err != nil || !rep.OK() {
		t.Fatalf("Verify = %v\n%s", err, rep)
	}
	if r := rep.Results[0]; r.Outcome != share.OutcomeOK || r.Attempts < 2 || r.Elapsed < delay {
		t.Errorf("result %+v", r)
	}
	if ev.count("exists in RAM but STS does not see it yet") == 0 {
		t.Errorf("no verify event said the role is not visible yet: %q", ev.msgs)
	}

	// A role that does not exist at all is missing at the first attempt.
	other := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: lz.members[1].ID, Principal: share.PrincipalRole, Name: "nope"}}}
	rep, _ = c.Verify(context.Background(), other)
	if r := rep.Results[0]; r.Outcome != share.OutcomeRecipientRoleMissing || r.Attempts != 1 {
		t.Errorf("missing role: %+v", r)
	}
}

// TestRevokeRetriesDeletePolicyAfterDetach: RAM sees a detach from a role
// only after a while, and DeletePolicy answers DeleteConflict.Role.Policy
// meanwhile (RAM has no DeleteConflict.Policy.Role); Apply retries it, as
// Terraform does, and reports the waits.
func TestRevokeRetriesDeletePolicyAfterDetach(t *testing.T) {
	t.Parallel()
	const delay = 20 * time.Second
	lz := newLandingZone(t, lzOptions{members: 1, visibility: delay})
	m := lz.members[0]
	if _, err := m.NewRole("app", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+m.ID+`:root"]}}]}`); err != nil {
		t.Fatal(err)
	}
	var ev events
	c := lz.client(t, func(o *share.Options) { o.Progress = ev.add })
	ctx := context.Background()
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: m.ID, Principal: share.PrincipalRole, Name: "app"}}}
	if res, err := c.Share(ctx, spec); err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	plan, err := c.PlanRevoke(ctx, spec, share.RevokeOptions{RemoveRecipientPolicies: true})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.Apply(ctx, plan); err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	if n := lz.cloud.Log().Count(fakecloud.Match{Action: "DeletePolicy", Code: "DeleteConflict.Role.Policy"}); n == 0 {
		t.Fatal("DeletePolicy never saw the detach late: the test did not test the retry")
	}
	if ev.count("RAM does not show the change of a moment ago yet") == 0 {
		t.Errorf("no progress event reported the wait: %q", ev.msgs)
	}
	name := share.RecipientPolicyName(arn.MustParse(lz.key.ARN), arn.RAMRole(m.ID, "app"))
	if _, err := mustClients(t, lz, m.ID).RAM.GetPolicy(ctx, name, "Custom"); !errors.Is(err, share.ErrNotFound) {
		t.Errorf("the policy is still there: %v", err)
	}
}
