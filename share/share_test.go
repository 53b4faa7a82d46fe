package share_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// TestLandingZoneW1 is workflow W1 end to end: a Security account shares a
// key with three members' RD access roles; each member then uses the key
// from its own identity; after a revoke each member is refused.
func TestLandingZoneW1(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 3, propagation: 90 * time.Second})
	var events []share.Event
	c := lz.client(t, func(o *share.Options) {
		o.Progress = func(e share.Event) { events = append(events, e) }
		o.Concurrency = 1
	})
	ctx := context.Background()
	spec := lz.spec(lz.members...)

	plan := mustPlan(t, c, spec)
	if err := plan.Err(); err != nil {
		t.Fatal(err)
	}
	if n := len(plan.KeyPolicy.Changes); n != 3*len(share.DefaultActions()) {
		t.Errorf("plan has %d key policy changes, want 12 (3 principals × the 4 default actions)", n)
	}
	for _, r := range plan.Recipients {
		if len(r.Steps) != 0 {
			t.Errorf("%s: RD access role has AdministratorAccess; no recipient steps expected, got %v", r.Principal, r.Steps)
		}
	}
	text := plan.String()
	for _, want := range []string{"Share key " + lz.key.ARN, "+ Allow RAM acs:ram::" + lz.members[0].ID + ":role/resourcedirectoryaccountaccessrole kms:Decrypt, kms:DescribeKey, kms:Encrypt, kms:GenerateDataKey on *",
		"no change: its own RAM policies already allow the actions on the key", "access management quota"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan text lacks %q:\n%s", want, text)
		}
	}

	res, err := c.Apply(ctx, plan)
	if err != nil {
		t.Fatalf("Apply: %v\n%s", err, res)
	}
	if res.KeyPolicy.Writes != 1 {
		t.Errorf("%d key policy writes, want 1 for the whole batch", res.KeyPolicy.Writes)
	}
	kp := policy.MustParse(lz.key.PolicyDocument())
	for _, m := range lz.members {
		if policy.Evaluate(policy.Request{Caller: policy.Caller{Account: m.ID, ARN: arn.MustParse("acs:ram::" + m.ID + ":assumed-role/ResourceDirectoryAccountAccessRole/xx")},
			Action: "kms:GenerateDataKey", Resource: lz.key.ARN, ResourceAccount: lz.security.ID}, kp).Decision != policy.Allowed {
			t.Errorf("key policy does not grant member %s: %s", m.ID, kp)
		}
	}
	if kp.Statement[0].Sid != policy.DefaultKeyPolicySid {
		t.Errorf("default statement moved or lost: %s", kp)
	}

	// Propagation takes 90 s of emulator time; Verify polls until it works.
	events = nil
	rep, err := c.Verify(ctx, spec)
	if err != nil || !rep.OK() {
		t.Fatalf("Verify: %v\n%s", err, rep)
	}
	waited := false
	for _, r := range rep.Results {
		if r.Outcome != share.OutcomeOK || strings.Join(r.Checked, ",") != "DescribeKey,GenerateDataKey,Decrypt,Encrypt" {
			t.Errorf("%s: %s %v", r.Principal, r.Outcome, r.Checked)
		}
		waited = waited || r.Attempts > 1
	}
	if !waited {
		t.Error("propagation delay did not make Verify poll")
	}
	sawWait := false
	for _, e := range events {
		sawWait = sawWait || (e.Phase == "verify" && e.Outcome == share.OutcomeNotYetPropagated)
	}
	if !sawWait {
		t.Error("no not-yet-propagated progress events")
	}
	// The members really did use the key: GenerateDataKey from their roles.
	for _, m := range lz.members {
		if n := len(lz.cloud.Log().Entries(fakecloud.Match{Action: "GenerateDataKey", CallerAccount: m.ID, Status: 200})); n == 0 {
			t.Errorf("member %s never used the key", m.ID)
		}
	}

	res, err = c.Revoke(ctx, spec, share.RevokeOptions{})
	if err != nil {
		t.Fatalf("Revoke: %v\n%s", err, res)
	}
	if got := lz.key.PolicyDocument(); !policy.Equivalent(policy.MustParse(got), mustDefault(t, lz.security.ID)) {
		t.Errorf("after revoke the key policy is %s", got)
	}
	rep, err = c.VerifyRevoked(ctx, spec)
	if err != nil || !rep.OK() {
		t.Fatalf("VerifyRevoked: %v\n%s", err, rep)
	}
	for _, r := range rep.Results {
		if r.Outcome != share.OutcomeRevoked {
			t.Errorf("%s: %s", r.Principal, r.Outcome)
		}
	}
	// Quota comes back about five minutes after the revoke.
	if used := lz.instance.QuotaUsed(); used != 3 {
		t.Errorf("quota used right after revoke = %d, want 3 (released after a delay)", used)
	}
	lz.clock.Advance(6 * time.Minute)
	if used := lz.instance.QuotaUsed(); used != 0 {
		t.Errorf("quota used 6 minutes after revoke = %d, want 0", used)
	}
}

func mustDefault(t testing.TB, owner string) *policy.Document {
	d, err := policy.DefaultKeyPolicy(owner)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestIdempotent: applying the same spec again makes no write at all.
func TestIdempotent(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 2})
	c := lz.client(t)
	ctx := context.Background()
	spec := lz.spec(lz.members...)
	spec.Recipients = append(spec.Recipients,
		share.Recipient{Account: lz.members[0].ID, Principal: share.PrincipalRole, Name: "orders-app", Actions: []string{"kms:Decrypt", "kms:DescribeKey"}},
		// A second application role in the same account, with other actions:
		// each principal gets its own recipient policy.
		share.Recipient{Account: lz.members[0].ID, Principal: share.PrincipalRole, Name: "batch"},
		share.Recipient{Account: lz.members[1].ID, Principal: share.PrincipalECSDiskRole})
	if _, err := c.Share(ctx, spec); err != nil {
		t.Fatal(err)
	}
	first := lz.writes(0)
	if first["SetKeyPolicy"] != 1 || first["CreateRole"] != 3 || first["CreatePolicy"] != 3 || first["AttachPolicyToRole"] != 3 {
		t.Errorf("first apply writes: %v", first)
	}
	seq := lz.lastSeq()
	plan := mustPlan(t, c, spec)
	if plan.Changes() {
		t.Errorf("second plan has changes:\n%s", plan)
	}
	// Each recipient's kmsshare policy is read once, with the principal's
	// other attached policies, not fetched again to be compared.
	gets := 0
	for _, e := range lz.cloud.Log().Entries(fakecloud.Match{Action: "GetPolicy"}) {
		if e.Seq > seq {
			gets++
		}
	}
	if gets != 3 { // orders-app, batch and the ECS disk role have one
		t.Errorf("second plan made %d GetPolicy calls, want 3", gets)
	}
	if !strings.Contains(plan.String(), "Nothing to do.") {
		t.Errorf("plan text:\n%s", plan)
	}
	res, err := c.Apply(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if w := lz.writes(seq); len(w) != 0 {
		t.Errorf("re-apply made writes: %v", w)
	}
	if res.KeyPolicy.Writes != 0 || res.KeyPolicy.Status != share.StatusAlreadyDone {
		t.Errorf("key policy result %+v", res.KeyPolicy)
	}
	// A fresh client (no cached sessions) also writes nothing.
	seq = lz.lastSeq()
	if _, err := lz.client(t).Share(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if w := lz.writes(seq); len(w) != 0 {
		t.Errorf("re-apply from a new client made writes: %v", w)
	}
	// Every recipient really works, including both roles of one account.
	rep, err := c.Verify(ctx, spec)
	if err != nil || !rep.OK() {
		t.Errorf("verify: %v\n%s", err, rep)
	}
}

// TestECSDiskRoleW2 is workflow W2: the recipient's ECS disk role is created
// before the key policy names it, and ECS acting for the recipient can then
// use the key.
func TestECSDiskRoleW2(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	c := lz.client(t)
	ctx := context.Background()
	b := lz.members[0]
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: b.ID, Principal: share.PrincipalECSDiskRole}}}
	plan := mustPlan(t, c, spec)
	steps := plan.Recipients[0].Steps
	if len(steps) < 3 || steps[0].Action != share.StepCreateRole || steps[0].Role != "AliyunECSDiskEncryptDefaultRole" {
		t.Fatalf("steps %v", steps)
	}
	res, err := c.Apply(ctx, plan)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	// Order: every recipient-side write happened before the key policy write.
	var order []string
	for _, e := range lz.cloud.Log().Entries(fakecloud.Match{Status: 200}) {
		if e.Action == "CreateRole" || e.Action == "SetKeyPolicy" || e.Action == "AttachPolicyToRole" {
			order = append(order, e.Action)
		}
	}
	if len(order) == 0 || order[len(order)-1] != "SetKeyPolicy" || order[0] != "CreateRole" {
		t.Errorf("write order %v", order)
	}
	// ECS acting for B assumes B's disk role and uses A's key by ARN, once
	// the change has propagated.
	lz.clock.Advance(defaultPropagation)
	creds, err := b.Service("ecs.aliyuncs.com").AssumeRole(arn.RAMRole(b.ID, "AliyunECSDiskEncryptDefaultRole").String(), "ecs-disk", 0)
	if err != nil {
		t.Fatal(err)
	}
	ecs := mustKMS(t, lz.cloud.Config(creds, "cn-hangzhou"))
	if _, err := ecs.GenerateDataKey(ctx, lz.key.ARN, nil); err != nil {
		t.Errorf("ECS for the recipient cannot use the shared key: %v", err)
	}
	rep, err := c.Verify(ctx, spec)
	if err != nil || rep.Results[0].Outcome != share.OutcomeVerifiedStatically {
		t.Errorf("Verify: %v\n%s", err, rep)
	}
}

// TestWrongOrderInvalidParameter makes the owner side run when the
// recipient role no longer exists (it is deleted between Plan and Apply):
// the key policy write fails with InvalidParameter (workflow W2) and
// nothing is changed.
func TestWrongOrderInvalidParameter(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	c := lz.client(t)
	b := lz.members[0]
	ctx := context.Background()
	// The role exists and may use any key, so the plan has no recipient steps.
	if _, err := b.NewPolicy("kms-all", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	trust, _ := policy.TrustService(arn.ECS(""))
	if _, err := b.NewRole(ecsroles.DiskEncryptRoleName, trust.String(), "kms-all"); err != nil {
		t.Fatal(err)
	}
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: b.ID, Principal: share.PrincipalECSDiskRole}}}
	plan := mustPlan(t, c, spec)
	if len(plan.Recipients[0].Steps) != 0 {
		t.Fatalf("steps %v", plan.Recipients[0].Steps)
	}
	ram := mustClients(t, lz, b.ID).RAM
	if err := ram.DetachPolicyFromRole(ctx, "Custom", "kms-all", ecsroles.DiskEncryptRoleName); err != nil {
		t.Fatal(err)
	}
	if err := ram.DeleteRole(ctx, ecsroles.DiskEncryptRoleName); err != nil {
		t.Fatal(err)
	}
	before := lz.key.PolicyDocument()
	res, err := c.Apply(ctx, plan)
	var ae *share.ApplyError
	if !errors.As(err, &ae) || !errors.Is(err, share.ErrIncomplete) || !errors.Is(err, share.ErrInvalidParameter) {
		t.Fatalf("Apply = %v, want an ApplyError wrapping InvalidParameter", err)
	}
	var api *share.APIError
	if !errors.As(err, &api) || api.Code != "InvalidParameter" || api.Action != "SetKeyPolicy" || api.RequestID == "" {
		t.Errorf("API error %+v", api)
	}
	if res.Recipients[0].Granted || res.KeyPolicy.Status != share.StatusFailed || res.KeyPolicy.Writes != 1 {
		t.Errorf("result %+v", res)
	}
	if lz.key.PolicyDocument() != before {
		t.Error("the key policy changed")
	}
	// The real order then works.
	if _, err := c.Share(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
}

// TestQuotaExceeded: a plan that needs more quota than the instance has is
// refused before any write, with a typed error; if the quota runs out
// between plan and apply, SetKeyPolicy's refusal leaves the policy unchanged.
func TestQuotaExceeded(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 3, quota: 2})
	c := lz.client(t)
	ctx := context.Background()

	plan := mustPlan(t, c, lz.spec(lz.members...))
	err := plan.Err()
	if !errors.Is(err, share.ErrPreflight) || !errors.Is(err, share.ErrQuotaExceeded) || plan.Quota == nil || plan.Quota.Limit != 2 {
		t.Fatalf("plan.Err() = %v, quota %+v", err, plan.Quota)
	}
	seq := lz.lastSeq()
	if _, err := c.Apply(ctx, plan); !errors.Is(err, share.ErrQuotaExceeded) {
		t.Errorf("Apply of a refused plan = %v", err)
	}
	if w := lz.writes(seq); len(w) != 0 {
		t.Errorf("refused plan made writes %v", w)
	}

	// Two members fit; plan them, then let another key take the quota.
	plan = mustPlan(t, c, lz.spec(lz.members[:2]...))
	if err := plan.Err(); err != nil {
		t.Fatal(err)
	}
	other, _ := lz.instance.NewKey(fakecloud.KeyOptions{})
	if _, err := c.Share(ctx, &share.Spec{Key: other.ARN, Recipients: []share.Recipient{{Account: lz.members[2].ID}, {Account: lz.members[1].ID}}}); err != nil {
		t.Fatal(err)
	}
	before := lz.key.PolicyDocument()
	res, err := c.Apply(ctx, plan)
	var api *share.APIError
	if !errors.Is(err, share.ErrQuotaExceeded) || !errors.As(err, &api) || api.Code != "Rejected.ShareQuotaExceedLimit" {
		t.Fatalf("Apply = %v", err)
	}
	if lz.key.PolicyDocument() != before || res.Recipients[0].Granted {
		t.Error("the key policy changed despite the quota error")
	}
}

// TestSpecJSON: specs round-trip through JSON and unknown fields are refused.
func TestSpecJSON(t *testing.T) {
	t.Parallel()
	in := `{"key":"acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7","recipients":[` +
		`{"account":"2222222222222222"},{"account":"3333333333333333","principal":"ecs-disk-role"},` +
		`{"account":"4444444444444444","principal":"role","name":"app","actions":["kms:Decrypt"],` +
		`"trust":{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::4444444444444444:root"}}]}}]}`
	s, err := share.ParseSpec([]byte(in), "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(s)
	s2, err := share.ParseSpec(out, "")
	if err != nil || len(s2.Recipients) != 3 || s2.Recipients[2].Trust == nil || !policy.Equivalent(s.Recipients[2].Trust, s2.Recipients[2].Trust) {
		t.Errorf("round trip: %v %s", err, out)
	}
	if _, err := share.ParseSpec([]byte(`{"key":"x","recipients":[],"extra":1}`), ""); !errors.Is(err, share.ErrInvalidSpec) {
		t.Errorf("unknown field: %v", err)
	}
}

func TestPlanJSON(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	plan := mustPlan(t, lz.client(t), lz.spec(lz.members...))
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Operation string
		Key       struct{ ARN string }
		KeyPolicy struct {
			Changes []policy.Change
			Desired *policy.Document
		}
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Operation != "share" || back.Key.ARN != lz.key.ARN ||
		len(back.KeyPolicy.Changes) != len(share.DefaultActions()) || back.KeyPolicy.Desired == nil {
		t.Errorf("plan JSON: %v %s", err, b)
	}
}
