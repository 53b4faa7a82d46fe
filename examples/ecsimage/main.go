// Command ecsimage runs workflow W4: account A shares ECS images (or
// snapshots) encrypted with its own KMS key. ECS in the recipient accounts
// must use A's key, so A owns the role AliyunECSShareEncryptImageDefaultRole
// (AliyunECSShareEncryptSnapshotDefaultRole for snapshots), trusted by the
// recipients' ECS service, with a policy allowing the key. Without it ECS
// refuses to share with AssumeRoleError.
//
// Usage:
//
//	go run ./examples/ecsimage [-snapshot]
//	go run ./examples/ecsimage -real -key <key ARN> (-accounts <uid>,<uid> | -rd <rd-id> | -folder <rd-path>) [-snapshot] [-apply] [-revoke]
//
// By default it runs on an emulated Alibaba Cloud built in memory, with
// nothing to set up, and goes through the three trust scenarios on one
// role: specific accounts, a whole resource directory, and one folder of it
// (and the folders below). After each it plays ECS: ECS acting for each
// account the scenario admits assumes the role and encrypts and decrypts a
// data key with A's key; ECS acting for an account it does not admit is
// refused. Finally it deletes the role, and ECS fails as it would with
// AssumeRoleError.
//
// The role is built by package ecsroles and applied in A's own account by
// package share (PlanRole, ApplyRole, PlanDeleteRole).
//
// With -real it runs the same plan and apply against real Alibaba Cloud,
// with credentials from credentials-go's default chain (environment
// variables, ~/.alibabacloud/credentials, ~/.aliyun/config.json, ...),
// which must belong to A, the key's owner: the role lives there. It only
// reads and prints the plan unless told otherwise: -apply creates or
// updates the role and its policy, -revoke detaches the role's policies and
// deletes the role and its custom policies.
//
// The trust scopes for a resource directory and a folder rely on the
// condition keys sts:ServiceOwnerRDId and sts:ServiceOwnerRDPath, which are
// unverified (see package ecsroles); check them against a console-made
// trust policy before relying on them.
//
// The exit status is 0 on success, 2 for bad flags or bad identifiers, and
// 1 for anything else.
package main

import (
	"context"
	"io"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/examples/internal/lesson"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

func main() { lesson.Main(cli) }

// runEmulated builds A and the recipients and goes through the three
// scenarios on one role.
func runEmulated(ctx context.Context, w io.Writer, snapshot bool) error {
	wd, err := newWorld(w, snapshot)
	if err != nil {
		return err
	}
	lz, p := wd.LandingZone, wd.p
	app1, app2, app3, sandbox1, stranger := lz.Members[0], lz.Members[1], wd.app3, wd.sandbox1, wd.stranger
	roles, err := share.New(lz.Cloud.Config(wd.admin.Credentials(), sim.Region), lz.ShareOptions)
	if err != nil {
		return err
	}
	key := arn.MustParse(lz.Key.ARN)
	ecs := &ecsPlay{cloud: lz.Cloud, clock: lz.Clock, key: key}
	var spec policy.RoleSpec
	for _, sc := range []scenario{
		{"Specific accounts: share with app-1 and app-2", ecsroles.Accounts(app1.ID, app2.ID), []*fakecloud.Account{app1, app2}, []*fakecloud.Account{sandbox1}},
		{"The whole resource directory", ecsroles.ResourceDirectory(lz.Directory.ID), []*fakecloud.Account{app2, sandbox1}, []*fakecloud.Account{stranger}},
		{"One folder and the folders below it: apps", ecsroles.Folder(lz.Apps.Path), []*fakecloud.Account{app1, app3}, []*fakecloud.Account{sandbox1, stranger}},
	} {
		if spec, err = roleSpec(snapshot, lz.Security.ID, sc.trust, key); err != nil {
			return err
		}
		p.Step("%s (%s)", sc.title, sc.trust)
		if err := run(ctx, p, roles, lz.Security.ID, spec, true, false); err != nil {
			return err
		}
		if err := ecs.play(ctx, p, spec, sc.admitted, sc.refused); err != nil {
			return err
		}
	}
	p.Step("Stop sharing: delete the role")
	if err := run(ctx, p, roles, lz.Security.ID, spec, false, true); err != nil {
		return err
	}
	if err := ecs.play(ctx, p, spec, nil, []*fakecloud.Account{app1}); err != nil {
		return err
	}
	p.Printf("\nDone.\n")
	return nil
}

// run plans the role (or its deletion, with revoke) in account and makes
// the changes if asked. It is the same on the emulator and in the real
// cloud.
func run(ctx context.Context, p *narrate.Printer, c *share.Client, account string, spec policy.RoleSpec, apply, revoke bool) error {
	var plan *share.RolePlan
	var err error
	if revoke {
		plan, err = c.PlanDeleteRole(ctx, account, spec)
	} else {
		plan, err = c.PlanRole(ctx, account, spec)
	}
	if err != nil {
		return err
	}
	if len(plan.Steps) == 0 {
		p.Line("ok", "nothing to do: the role in account %s is already as it should be", account)
		return nil
	}
	if !apply && !revoke {
		for _, st := range plan.Steps {
			p.Line("plan", "%s", st)
		}
		p.Printf("\nNothing was changed. Run again with -apply to make these changes, or -revoke to delete the role.\n")
		return nil
	}
	res, err := c.ApplyRole(ctx, plan)
	return lesson.RoleApplied(p, res, err)
}

// roleSpec builds the share role for the images or snapshots encrypted
// with key.
func roleSpec(snapshot bool, owner string, trust ecsroles.Trusted, key arn.ARN) (policy.RoleSpec, error) {
	if snapshot {
		return ecsroles.ShareEncryptSnapshot(owner, trust, key)
	}
	return ecsroles.ShareEncryptImage(owner, trust, key)
}
