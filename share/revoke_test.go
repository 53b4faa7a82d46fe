package share_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	ramsdk "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/share"
)

// TestRevokeDeletesCreatedRoles: with DeleteCreatedRoles a revoke deletes
// the application roles kmsshare created, with their kmsshare policies, and
// keeps every other role, saying why in the plan.
func TestRevokeDeletesCreatedRoles(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 2})
	m0, m1 := lz.members[0], lz.members[1]
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::` + m0.ID + `:root"}}]}`
	if _, err := m0.NewRole("legacy", trust); err != nil { // made by someone else
		t.Fatal(err)
	}
	c := lz.client(t)
	ctx := context.Background()
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
		{Account: m0.ID, Principal: share.PrincipalRole, Name: "app"},
		{Account: m0.ID, Principal: share.PrincipalRole, Name: "legacy"},
		{Account: m0.ID, Principal: share.PrincipalRole, Name: "busy"},
		{Account: m1.ID},
		{Account: m1.ID, Principal: share.PrincipalECSDiskRole},
	}}
	if _, err := c.Share(ctx, spec); err != nil {
		t.Fatal(err)
	}
	// kmsshare created busy, but something else has started using it.
	ram := ramSDK(t, lz, m0)
	if _, err := ram.AttachPolicyToRoleWithContext(ctx, &ramsdk.AttachPolicyToRoleRequest{PolicyType: tea.String("System"),
		PolicyName: tea.String("AliyunKMSFullAccess"), RoleName: tea.String("busy")}, &dara.RuntimeOptions{}); err != nil {
		t.Fatal(err)
	}

	plan, err := c.PlanRevoke(ctx, spec, share.RevokeOptions{DeleteCreatedRoles: true})
	if err != nil || plan.Err() != nil {
		t.Fatalf("%v %v", err, plan.Err())
	}
	var actions []string
	for _, s := range plan.Recipients[0].Steps {
		actions = append(actions, string(s.Action))
	}
	if got := strings.Join(actions, ","); got != "detach-policy,delete-role,delete-policy" {
		t.Errorf("app: steps %s", got)
	}
	for i, want := range []string{"", "role legacy is kept: kmsshare did not create it", "role busy is kept: kmsshare created it, but it also has system policy AliyunKMSFullAccess attached",
		"ResourceDirectoryAccountAccessRole is kept", "AliyunECSDiskEncryptDefaultRole is kept: ECS uses it for every key"} {
		rp := plan.Recipients[i]
		if want == "" {
			continue
		}
		if len(rp.Steps) != 0 || len(rp.Notes) != 1 || !strings.HasPrefix(rp.Notes[0], want) {
			t.Errorf("%s: steps %v, notes %q; want a note %q", rp.Principal, rp.Steps, rp.Notes, want)
		}
		if !strings.Contains(plan.String(), "  note: "+want) {
			t.Errorf("plan text lacks the note %q:\n%s", want, plan)
		}
	}
	res, err := c.Apply(ctx, plan)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	admin := mustClients(t, lz, m0.ID)
	if _, err := admin.RAM.GetRole(ctx, "app"); !errors.Is(err, cloudapi.ErrNotFound) {
		t.Errorf("role app was not deleted: %v", err)
	}
	if _, err := admin.RAM.GetPolicy(ctx, share.RecipientPolicyName(arn.MustParse(lz.key.ARN), arn.RAMRole(m0.ID, "app")), "Custom"); !errors.Is(err, cloudapi.ErrNotFound) {
		t.Errorf("app's kmsshare policy was not deleted: %v", err)
	}
	for _, role := range []string{"legacy", "busy"} {
		if _, err := admin.RAM.GetRole(ctx, role); err != nil {
			t.Errorf("role %s: %v", role, err)
		}
	}
	other := mustClients(t, lz, m1.ID)
	for _, role := range []string{arn.ResourceDirectoryAccessRoleName, "AliyunECSDiskEncryptDefaultRole"} {
		if _, err := other.RAM.GetRole(ctx, role); err != nil {
			t.Errorf("role %s: %v", role, err)
		}
	}
	// Every recipient is refused now, the deleted role included.
	rep, err := c.VerifyRevoked(ctx, spec)
	if err != nil || !rep.OK() {
		t.Fatalf("VerifyRevoked: %v\n%s", err, rep)
	}
	// Revoking again plans nothing.
	again, err := c.PlanRevoke(ctx, spec, share.RevokeOptions{DeleteCreatedRoles: true})
	if err != nil || again.Changes() {
		t.Errorf("second revoke: %v\n%s", err, again)
	}
}

// TestRevokeNeverDeletesOthersRoles: a revoke plan deletes an application
// role kmsshare created; if someone replaces the role with their own
// between PlanRevoke and Apply, Apply stops before any recipient-side
// change and the role is kept.
func TestRevokeNeverDeletesOthersRoles(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	m := lz.members[0]
	c := lz.client(t)
	ctx := context.Background()
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: m.ID, Principal: share.PrincipalRole, Name: "app"}}}
	if _, err := c.Share(ctx, spec); err != nil {
		t.Fatal(err)
	}
	plan, err := c.PlanRevoke(ctx, spec, share.RevokeOptions{RemoveRecipientPolicies: true, DeleteCreatedRoles: true})
	if err != nil {
		t.Fatal(err)
	}
	steps := plan.Recipients[0].Steps
	if len(steps) != 3 || steps[1].Action != share.StepDeleteRole {
		t.Fatalf("steps %v", steps)
	}
	// Someone else's role of the same name takes the place of kmsshare's.
	ram := mustClients(t, lz, m.ID).RAM
	if err := ram.DetachPolicyFromRole(ctx, "Custom", steps[0].Policy, "app"); err != nil {
		t.Fatal(err)
	}
	if err := ram.DeleteRole(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.NewRole("app", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::`+m.ID+`:root"}}]}`); err != nil {
		t.Fatal(err)
	}
	res, err := c.Apply(ctx, plan)
	if !errors.Is(err, share.ErrIncomplete) || !strings.Contains(err.Error(), "not created by kmsshare") {
		t.Fatalf("Apply = %v", err)
	}
	for _, s := range res.Recipients[0].Steps {
		if s.Status != share.StatusNotAttempted {
			t.Errorf("%s: %s", s.Step, s.Status)
		}
	}
	if _, err := ram.GetRole(ctx, "app"); err != nil {
		t.Errorf("role app: %v", err)
	}
}
