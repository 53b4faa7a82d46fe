package share_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// wantUnsealed fails unless err is the refusal of a plan that is not as
// the package made it: a *SpecError about the field "plan".
func wantUnsealed(t *testing.T, name string, err error) {
	t.Helper()
	var se *share.SpecError
	if !errors.As(err, &se) || !errors.Is(err, share.ErrInvalidSpec) || len(se.Problems) != 1 || se.Problems[0].Field != "plan" ||
		!strings.Contains(err.Error(), "plans are applied only unchanged") {
		t.Errorf("%s: got %v, want the *SpecError of a changed plan", name, err)
	}
}

// TestApplyRefusesChangedPlan: Apply takes a plan only as Plan or
// PlanRevoke made it. A plan edited afterwards (directly, or through a copy
// made by value), decoded from JSON, or built by hand is refused with one
// typed error before any API call, and nothing is written. (An edited
// "actions": ["kms:ScheduleKeyDeletion"] was once applied as the default
// action set.)
func TestApplyRefusesChangedPlan(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 2})
	c := lz.client(t)
	m0, m1 := lz.members[0], lz.members[1]
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
		{Account: m0.ID, Principal: share.PrincipalRole, Name: "app", Actions: []string{"kms:Decrypt"}},
		{Account: m1.ID}}}
	other, err := lz.instance.NewKey(fakecloud.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	star := policy.MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(p *share.Plan) *share.Plan
	}{
		{"admin action in the spec", func(p *share.Plan) *share.Plan {
			p.Spec.Recipients[0].Actions = []string{"kms:ScheduleKeyDeletion"}
			return p
		}},
		{"wider actions in a recipient", func(p *share.Plan) *share.Plan {
			p.Recipients[1].Recipient.Actions = []string{"kms:Decrypt", "kms:Encrypt"}
			return p
		}},
		{"another key", func(p *share.Plan) *share.Plan { p.Key.ARN = other.ARN; p.Spec.Key = other.ARN; return p }},
		{"recipient dropped", func(p *share.Plan) *share.Plan { p.Recipients = p.Recipients[:1]; return p }},
		{"operation changed", func(p *share.Plan) *share.Plan { p.Operation = share.OpRevoke; return p }},
		{"step removed", func(p *share.Plan) *share.Plan { p.Recipients[0].Steps = p.Recipients[0].Steps[1:]; return p }},
		{"step added", func(p *share.Plan) *share.Plan {
			p.Recipients[1].Steps = append(p.Recipients[1].Steps, share.Step{Action: share.StepDeleteRole, Account: m1.ID, Role: "admin"})
			return p
		}},
		{"step moved to another account", func(p *share.Plan) *share.Plan { p.Recipients[0].Steps[0].Account = m1.ID; return p }},
		{"policy document widened", func(p *share.Plan) *share.Plan { p.Recipients[0].Steps[1].Document = star; return p }},
		{"policy document edited in place", func(p *share.Plan) *share.Plan {
			p.Recipients[0].Steps[1].Document.Statement[0].Action = policy.List("*")
			return p
		}},
		{"warning added", func(p *share.Plan) *share.Plan {
			p.Warnings = append(p.Warnings, share.Problem{Code: "x", Message: "added"})
			return p
		}},
		{"copied by value and edited", func(p *share.Plan) *share.Plan {
			cp := *p
			cp.Recipients = append([]share.RecipientPlan(nil), p.Recipients...)
			cp.Recipients[0].Steps = nil
			return &cp
		}},
		{"decoded from JSON", func(p *share.Plan) *share.Plan {
			data, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var q share.Plan
			if err := json.Unmarshal(data, &q); err != nil {
				t.Fatal(err)
			}
			return &q
		}},
		{"built by hand", func(p *share.Plan) *share.Plan {
			return &share.Plan{Operation: share.OpShare, Spec: *spec, Key: p.Key, Recipients: p.Recipients}
		}},
		{"zero plan", func(*share.Plan) *share.Plan { return &share.Plan{} }},
	}
	before := lz.key.PolicyDocument()
	for _, tt := range tests {
		p := mustPlan(t, c, spec)
		if len(p.Recipients[0].Steps) != 3 {
			t.Fatalf("steps %v", p.Recipients[0].Steps)
		}
		q := tt.change(p)
		seq := lz.lastSeq()
		res, err := c.Apply(ctx, q)
		wantUnsealed(t, tt.name, err)
		if res != nil {
			t.Errorf("%s: result %v", tt.name, res)
		}
		if n := lz.lastSeq() - seq; n != 0 {
			t.Errorf("%s: the changed plan reached the cloud: %d requests", tt.name, n)
		}
	}
	if _, err := c.Apply(ctx, nil); !errors.Is(err, share.ErrInvalidSpec) {
		t.Errorf("nil plan: %v", err)
	}
	if lz.key.PolicyDocument() != before {
		t.Errorf("the key policy changed: %s", lz.key.PolicyDocument())
	}
	if w := lz.writes(0); len(w) != 0 {
		t.Errorf("writes %v", w)
	}

	// The plan as made applies, and so does a copy of it left unchanged,
	// also after the plan was marshalled (which changes nothing).
	p := mustPlan(t, c, spec)
	if _, err := json.Marshal(p); err != nil {
		t.Fatal(err)
	}
	cp := *p
	if _, err := c.Apply(ctx, &cp); err != nil {
		t.Fatal(err)
	}
	// Apply changes nothing in the plan, so it applies again (its steps are
	// idempotent; the key policy, already right, is not written).
	seq0 := lz.lastSeq()
	if _, err := c.Apply(ctx, p); err != nil {
		t.Fatalf("the plan applied a second time: %v", err)
	}
	if w := lz.writes(seq0); w["SetKeyPolicy"] != 0 {
		t.Errorf("the second apply wrote %v", w)
	}
	// A revoke plan edited to delete a role is refused too.
	rp, err := c.PlanRevoke(ctx, spec, share.RevokeOptions{RemoveRecipientPolicies: true})
	if err != nil {
		t.Fatal(err)
	}
	rp.Recipients[1].Steps = append(rp.Recipients[1].Steps, share.Step{Action: share.StepDeleteRole, Account: m1.ID, Role: "ResourceDirectoryAccountAccessRole"})
	seq := lz.lastSeq()
	_, err = c.Apply(ctx, rp)
	wantUnsealed(t, "revoke plan with a delete-role step", err)
	if n := lz.lastSeq() - seq; n != 0 {
		t.Errorf("the edited revoke plan reached the cloud: %d requests", n)
	}
}

// TestApplyRefusesPlanOfAnotherRegion: a plan made by a client of one
// region is not applied by a client of another.
func TestApplyRefusesPlanOfAnotherRegion(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	p := mustPlan(t, lz.client(t), lz.spec(lz.members...))
	elsewhere, err := share.New(lz.cloud.Config(lz.pipeline.Credentials(), "cn-shanghai"))
	if err != nil {
		t.Fatal(err)
	}
	seq := lz.lastSeq()
	if _, err := elsewhere.Apply(context.Background(), p); !errors.Is(err, share.ErrInvalidSpec) || !strings.Contains(err.Error(), "cn-shanghai") {
		t.Errorf("Apply in another region: %v", err)
	}
	if n := lz.lastSeq() - seq; n != 0 {
		t.Errorf("%d requests", n)
	}
}

// TestApplyManifestRefusesChangedPlan: ApplyManifest takes a plan only as
// PlanManifest made it; an edited, decoded or hand-made plan is refused
// before any write, and the plan as made applies.
func TestApplyManifestRefusesChangedPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newOrg(t, orgOptions{keys: 2, apps: 2})
	c := g.client(t)
	m := g.manifest(`{"accounts": ["` + g.members[0].ID + `", "` + g.members[1].ID + `"]}`)
	m.Grants[0].Principal, m.Grants[0].Name = share.PrincipalRole, "app"
	plan := func() *share.OrgPlan {
		p, err := c.PlanManifest(ctx, m, share.ManifestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		change func(q *share.OrgPlan) *share.OrgPlan
	}{
		{"delete a role", func(q *share.OrgPlan) *share.OrgPlan {
			q.Principals[0].Steps = append(q.Principals[0].Steps, share.Step{Action: share.StepDeleteRole, Account: q.Principals[0].Account, Role: "app"})
			return q
		}},
		{"attach another policy", func(q *share.OrgPlan) *share.OrgPlan {
			q.Principals[1].Steps[2].Policy = "AdministratorAccess"
			return q
		}},
		{"a step in another account", func(q *share.OrgPlan) *share.OrgPlan { q.Principals[0].Steps[0].Account = g.security.ID; return q }},
		{"the owner as a recipient", func(q *share.OrgPlan) *share.OrgPlan { q.Keys[0].Recipients[0].Account = g.security.ID; return q }},
		{"a key dropped", func(q *share.OrgPlan) *share.OrgPlan { q.Keys = q.Keys[1:]; return q }},
		{"pruning added", func(q *share.OrgPlan) *share.OrgPlan {
			q.Keys[0].Pruned = append(q.Keys[0].Pruned, arn.RAMRole(g.members[0].ID, "admin").String())
			return q
		}},
		{"copied by value and edited", func(q *share.OrgPlan) *share.OrgPlan {
			cp := *q
			cp.Principals = cp.Principals[:1]
			return &cp
		}},
		{"decoded from JSON", func(q *share.OrgPlan) *share.OrgPlan {
			data, err := json.Marshal(q)
			if err != nil {
				t.Fatal(err)
			}
			var back share.OrgPlan
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			return &back
		}},
		{"zero plan", func(*share.OrgPlan) *share.OrgPlan { return &share.OrgPlan{} }},
	} {
		q := tc.change(plan())
		seq := g.lastSeq()
		_, err := c.ApplyManifest(ctx, q)
		wantUnsealed(t, tc.name, err)
		if n := g.lastSeq() - seq; n != 0 {
			t.Errorf("%s: %d requests", tc.name, n)
		}
	}
	if w := g.writes(0); len(w) != 0 {
		t.Errorf("writes %v", w)
	}
	res, err := c.ApplyManifest(ctx, plan())
	if err != nil || res.Writes() != 2 {
		t.Fatalf("apply of the plan as made: %v, %+v", err, res)
	}
	rep, err := c.Verify(ctx, &share.Spec{Key: g.keys[1].ARN, Recipients: []share.Recipient{{Account: g.members[1].ID, Principal: share.PrincipalRole, Name: "app"}}})
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	// The plans Onboard and RevokeManifest return are sealed too: applying
	// them again is accepted, and changes nothing more.
	ob, err := c.Onboard(ctx, m, g.members[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	seq := g.lastSeq()
	if res, err := c.ApplyManifest(ctx, ob.Plan); err != nil || res.Writes() != 0 {
		t.Errorf("Onboard's plan applied again: %v", err)
	}
	rp, _, err := c.RevokeManifest(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.ApplyManifest(ctx, rp); err != nil || res.Writes() != 0 {
		t.Errorf("RevokeManifest's plan applied again: %v", err)
	}
	if w := g.writes(seq); w["SetKeyPolicy"] != len(g.keys) {
		t.Errorf("writes %v, want only the revoke's one key-policy write per key", w)
	}
}

// TestApplyRoleRefusesChangedPlan: ApplyRole runs steps, deletions
// included, so it takes a role plan only as PlanRole or PlanDeleteRole
// made it.
func TestApplyRoleRefusesChangedPlan(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	c := lz.client(t)
	ctx := context.Background()
	owner := lz.security.ID
	spec, err := ecsroles.ShareEncryptImage(owner, ecsroles.Accounts(lz.members[0].ID), arn.MustParse(lz.key.ARN))
	if err != nil {
		t.Fatal(err)
	}
	plan := func() *share.RolePlan {
		p, err := c.PlanRole(ctx, owner, spec)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	star := policy.MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	for _, tc := range []struct {
		name   string
		change func(p *share.RolePlan) *share.RolePlan
	}{
		{"a delete step added", func(p *share.RolePlan) *share.RolePlan {
			p.Steps = append(p.Steps, share.Step{Action: share.StepDeleteRole, Account: owner, Role: "admin"})
			return p
		}},
		{"a step removed", func(p *share.RolePlan) *share.RolePlan { p.Steps = p.Steps[1:]; return p }},
		{"trust widened", func(p *share.RolePlan) *share.RolePlan { p.Steps[0].Document = star; return p }},
		{"another account", func(p *share.RolePlan) *share.RolePlan { p.Account = lz.members[0].ID; return p }},
		{"decoded from JSON", func(p *share.RolePlan) *share.RolePlan {
			data, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var q share.RolePlan
			if err := json.Unmarshal(data, &q); err != nil {
				t.Fatal(err)
			}
			return &q
		}},
		{"built by hand", func(*share.RolePlan) *share.RolePlan {
			return &share.RolePlan{Account: owner, Role: "admin", Steps: []share.Step{{Action: share.StepDeleteRole, Account: owner, Role: "admin"}}}
		}},
	} {
		q := tc.change(plan())
		seq := lz.lastSeq()
		res, err := c.ApplyRole(ctx, q)
		wantUnsealed(t, tc.name, err)
		if res != nil {
			t.Errorf("%s: result %+v", tc.name, res)
		}
		if n := lz.lastSeq() - seq; n != 0 {
			t.Errorf("%s: %d requests", tc.name, n)
		}
	}
	if w := lz.writes(0); len(w) != 0 {
		t.Errorf("writes %v", w)
	}
	if _, err := c.ApplyRole(ctx, plan()); err != nil {
		t.Fatal(err)
	}
	del, err := c.PlanDeleteRole(ctx, owner, spec)
	if err != nil {
		t.Fatal(err)
	}
	edited := *del
	edited.Steps = append([]share.Step{{Action: share.StepDeleteRole, Account: owner, Role: "other"}}, del.Steps...)
	_, err = c.ApplyRole(ctx, &edited)
	wantUnsealed(t, "delete plan with another role", err)
	if _, err := c.ApplyRole(ctx, del); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PlanRole(ctx, "119285303511****", spec); !errors.Is(err, share.ErrInvalidSpec) {
		t.Errorf("PlanRole in a masked account: %v", err)
	}
}
