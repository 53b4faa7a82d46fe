// Command ecsdisk runs workflow W2 end to end: account B creates encrypted
// ECS disks with a KMS key owned by account A. B needs the role
// AliyunECSDiskEncryptDefaultRole, trusted by the ECS service, with a policy
// allowing the key; A names that role as a cross-account user in the key
// policy. The order matters: A's key policy refuses a principal that does
// not exist yet, so kmsshare creates B's role first.
//
// Usage:
//
//	go run ./examples/ecsdisk
//	go run ./examples/ecsdisk -real -key <key ARN> -recipient <uid> [-apply] [-revoke]
//
// By default it runs on an emulated Alibaba Cloud built in memory, with
// nothing to set up: the sharer A owns a KMS instance and a key, the
// recipient B and an outsider C are other accounts of the same resource
// directory, and the management account's RAM user "pipeline" runs
// kmsshare. There it also shows what goes wrong in the wrong order, and
// plays ECS: ECS acting for B assumes B's role and generates a data key
// with A's key, as CreateDisk with Encrypted=true and A's KMSKeyId would,
// while ECS acting for C cannot. Changes take sim.DefaultPropagation of
// emulated time to propagate and new roles sim.DefaultVisibility to become
// visible, as in a real cloud (on a manual clock: no real waiting).
//
// With -real it runs the same plan, apply, verify and revoke against real
// Alibaba Cloud, with credentials from credentials-go's default chain
// (environment variables, ~/.alibabacloud/credentials,
// ~/.aliyun/config.json, ...) that can assume the
// ResourceDirectoryAccountAccessRole of A and B. It only reads and prints
// the plan unless told otherwise: -apply creates B's role and changes A's
// key policy, -revoke removes the role from A's key policy (the role itself
// stays). Playing ECS is the emulator's part; in real Alibaba Cloud, create
// the disk in B with Encrypted=true and KMSKeyId set to A's key.
//
// The exit status is 0 on success, 2 for bad flags or a bad key or account
// ID, and 1 for anything else.
package main

import (
	"context"
	"io"

	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/examples/internal/lesson"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/share"
)

func main() { lesson.Main(cli) }

// runEmulated builds the accounts and tells the story on them.
func runEmulated(ctx context.Context, w io.Writer) error {
	lz, err := sim.NewLandingZone(sim.Options{Clock: sim.ManualClock(), Seed: 2, Owner: "sharer",
		Members: []string{"recipient", "outsider"}, Quota: 2, Propagation: sim.DefaultPropagation, Visibility: sim.DefaultVisibility})
	if err != nil {
		return err
	}
	b, outsider := lz.Members[0], lz.Members[1]
	p := narrate.New(w)
	p.Printf("W2: account B creates encrypted ECS disks with a KMS key owned by account A.\n")
	p.Printf("Emulated Alibaba Cloud: nothing leaves this machine. Changes take %s (emulated) to propagate, new roles %s to become visible.\n\n",
		sim.DefaultPropagation, sim.DefaultVisibility)
	p.Printf("Accounts of resource directory %s (RAM user %q of the management account runs kmsshare):\n", lz.Directory.ID, lz.Pipeline.Name)
	p.Printf("  A  %-9s  %s  owns KMS instance %s (access management quota 2) and key %s\n", lz.Security.Name, lz.Security.ID, lz.Instance.ID, lz.Key.ID)
	p.Printf("  B  %-9s  %s  creates encrypted disks with A's key\n", b.Name, b.ID)
	p.Printf("  C  %-9s  %s  has nothing to do with the share\n", outsider.Name, outsider.ID)

	spec := &share.Spec{Key: lz.Key.ARN, Recipients: []share.Recipient{{Account: b.ID, Principal: share.PrincipalECSDiskRole}}}
	admin, err := lz.Security.NewUser("admin", "AdministratorAccess")
	if err != nil {
		return err
	}
	if err := wrongOrder(ctx, p, lz.Cloud, admin, spec); err != nil {
		return err
	}
	c, err := share.New(lz.Config(), lz.ShareOptions)
	if err != nil {
		return err
	}
	return run(ctx, p, c, spec, true, true, &ecsPlay{cloud: lz.Cloud, clock: lz.Clock, recipient: b, outsider: outsider})
}

// runReal runs the same plan, apply, verify and revoke on real Alibaba
// Cloud, for the key and recipient given by flags.
func runReal(ctx context.Context, w io.Writer, cfg config, getenv func(string) string) error {
	spec := &share.Spec{Key: cfg.Key, Recipients: []share.Recipient{{Account: cfg.recipient, Principal: share.PrincipalECSDiskRole}}}
	p := narrate.New(w)
	c, err := cfg.RealClient(p, getenv, "W2", spec)
	if err != nil {
		return err
	}
	return run(ctx, p, c, spec, cfg.Apply, cfg.Revoke, nil)
}

// run plans the share, applies and verifies it (apply), then revokes it
// (revoke); ecs, on the emulator only, plays ECS after each. It is the same
// on the emulator and in the real cloud.
func run(ctx context.Context, p *narrate.Printer, c *share.Client, spec *share.Spec, apply, revoke bool, ecs *ecsPlay) error {
	key := spec.KeyARN()
	b := spec.Recipients[0].Account
	p.Step("Plan: share key %s with %s of account %s", key.ResourceName(), ecsroles.DiskEncryptRoleName, b)
	plan, err := c.Plan(ctx, spec)
	if err := lesson.Planned(p, plan, err); err != nil {
		return err
	}
	if apply {
		p.Step("Apply: B's role and policy first (a key policy may only name a principal that exists), then A's key policy")
		res, err := c.Apply(ctx, plan)
		if err := lesson.Applied(p, res, err); err != nil {
			return err
		}
		p.Step("Verify: ECS's role cannot be assumed by kmsshare, so both policies are checked instead")
		rep, err := c.Verify(ctx, spec)
		if err := verified(p, rep, err); err != nil {
			return err
		}
		if ecs != nil {
			p.Step("ECS uses the key, as for CreateDisk with Encrypted=true and KMSKeyId %s", key.ResourceName())
			if err := ecs.use(ctx, p, spec, true); err != nil {
				return err
			}
		} else {
			p.Printf("\nB can now create a disk with Encrypted=true and KMSKeyId %s (B sees only the key ID on its disks).\n", key.ResourceName())
		}
	}
	if revoke {
		p.Step("Revoke: remove B's role from A's key policy (the role itself stays)")
		res, err := c.Revoke(ctx, spec, share.RevokeOptions{})
		if err := lesson.Applied(p, res, err); err != nil {
			return err
		}
		rep, err := c.VerifyRevoked(ctx, spec)
		if err := verified(p, rep, err); err != nil {
			return err
		}
		if ecs != nil {
			p.Step("ECS tries again")
			if err := ecs.use(ctx, p, spec, false); err != nil {
				return err
			}
		}
	}
	lesson.End(p, apply || revoke, "share the key, or -revoke to undo the share")
	return nil
}
