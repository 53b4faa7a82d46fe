package share_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// TestShareRoleW4: the owner of an encrypted image creates
// AliyunECSShareEncryptImageDefaultRole from its ecsroles spec, ECS acting
// for a recipient can then assume it (an outsider cannot), the trust scope
// changes to a folder, and the role is deleted again.
func TestShareRoleW4(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	outsider := lz.cloud.NewAccount("outsider")
	c := lz.client(t)
	ctx := context.Background()
	owner, recipient := lz.security.ID, lz.members[0]
	key := arn.MustParse(lz.key.ARN)
	spec, err := ecsroles.ShareEncryptImage(owner, ecsroles.Accounts(recipient.ID), key)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.PlanRole(ctx, owner, spec)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, s := range plan.Steps {
		actions = append(actions, string(s.Action))
	}
	if got := strings.Join(actions, ","); got != "create-role,create-policy,attach-policy" {
		t.Fatalf("steps %s\n%s", got, plan)
	}
	if _, err := c.ApplyRole(ctx, plan); err != nil {
		t.Fatal(err)
	}
	again, err := c.PlanRole(ctx, owner, spec)
	if err != nil || len(again.Steps) != 0 || !again.Exists {
		t.Fatalf("re-plan: %v\n%s", err, again)
	}

	role := spec.ARN(owner).String()
	assume := func(a *fakecloud.Account) error {
		_, err := a.Service("ecs.aliyuncs.com").AssumeRole(role, "share-image", 0)
		return err
	}
	if err := assume(recipient); err != nil {
		t.Errorf("ECS acting for the recipient cannot assume the share role: %v", err)
	}
	if err := assume(outsider); err == nil {
		t.Error("ECS acting for an outsider assumed the share role")
	}

	// Widen the trust to the recipient's folder.
	folderSpec, err := ecsroles.ShareEncryptImage(owner, ecsroles.Folder(lz.apps.Path), key)
	if err != nil {
		t.Fatal(err)
	}
	plan, err = c.PlanRole(ctx, owner, folderSpec)
	if err != nil || len(plan.Steps) != 1 || plan.Steps[0].Action != share.StepUpdateTrust {
		t.Fatalf("trust change plan: %v\n%s", err, plan)
	}
	if _, err := c.ApplyRole(ctx, plan); err != nil {
		t.Fatal(err)
	}
	have, _ := policy.Parse([]byte(roleTrust(t, lz, owner, spec.Name)))
	if !policy.Equivalent(have, folderSpec.Trust) {
		t.Errorf("trust is %s", have)
	}

	del, err := c.PlanDeleteRole(ctx, owner, folderSpec)
	if err != nil || len(del.Steps) != 3 {
		t.Fatalf("delete plan: %v\n%s", err, del)
	}
	if _, err := c.ApplyRole(ctx, del); err != nil {
		t.Fatal(err)
	}
	if err := assume(recipient); err == nil {
		t.Error("the deleted role can still be assumed")
	}
	if del, err = c.PlanDeleteRole(ctx, owner, folderSpec); err != nil || len(del.Steps) != 0 {
		t.Errorf("deleting again: %v\n%s", err, del)
	}
	// A bad spec is refused before any call.
	seq := lz.lastSeq()
	if _, err := c.PlanRole(ctx, owner, policy.RoleSpec{Name: "bad_name"}); !errors.Is(err, policy.ErrInvalid) {
		t.Errorf("bad spec: %v", err)
	}
	if lz.lastSeq() != seq {
		t.Error("a bad role spec reached the cloud")
	}
}

func roleTrust(t *testing.T, lz *landingZone, account, name string) string {
	t.Helper()
	c := mustClients(t, lz, account)
	r, err := c.RAM.GetRole(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return r.TrustPolicy
}
