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
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

type config struct {
	real      bool
	key       string
	recipient string
	region    string
	apply     bool
	revoke    bool
}

var errUsage = errors.New("usage")

func cli(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		if cfg.real {
			err = runReal(ctx, stdout, cfg, getenv)
		} else {
			err = runEmulated(ctx, stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "ecsdisk:", err)
		if errors.Is(err, errUsage) || errors.Is(err, share.ErrInvalidSpec) {
			return 2
		}
		return 1
	}
	return 0
}

func parse(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("ecsdisk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: ecsdisk [flags]

Workflow W2: account B creates encrypted ECS disks with account A's KMS key.
kmsshare creates B's AliyunECSDiskEncryptDefaultRole first, then names it in
A's key policy; verifies both policies; revokes.

Emulator (default): the whole story on an emulated Alibaba Cloud in memory,
including ECS acting for B (and for an outsider) with the key; nothing to set
up, nothing leaves this machine.

Real Alibaba Cloud (-real): credentials from credentials-go's default chain
(ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, ~/.alibabacloud/credentials,
~/.aliyun/config.json, ...) that can assume the
ResourceDirectoryAccountAccessRole of A and B. Read-only unless -apply or
-revoke is given.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.BoolVar(&cfg.real, "real", false, "use real Alibaba Cloud instead of the emulator")
	fs.StringVar(&cfg.key, "key", "", "with -real: the ARN of A's key, acs:kms:<region>:<A-uid>:key/<key-id>")
	fs.StringVar(&cfg.recipient, "recipient", "", "with -real: the UID of account B")
	fs.StringVar(&cfg.region, "region", "", "with -real: the region of the clients (default: the key's region)")
	fs.BoolVar(&cfg.apply, "apply", false, "with -real: create B's role and policy and change A's key policy")
	fs.BoolVar(&cfg.revoke, "revoke", false, "with -real: remove B's role from A's key policy")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case !cfg.real && (cfg.key != "" || cfg.recipient != "" || cfg.apply || cfg.revoke || cfg.region != ""):
		return cfg, fmt.Errorf("%w: -key, -recipient, -region, -apply and -revoke are for -real; the emulator runs the whole story on its own key", errUsage)
	case cfg.real && (cfg.key == "" || cfg.recipient == ""):
		return cfg, fmt.Errorf("%w: -real needs -key and -recipient", errUsage)
	}
	return cfg, nil
}

// ecsPlay is the emulator's part: ECS acting for accounts.
type ecsPlay struct {
	cloud     *fakecloud.Cloud
	clock     sim.Clock
	recipient *fakecloud.Account
	outsider  *fakecloud.Account
}

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
	c, err := share.New(lz.Config(), func(o *share.Options) { o.Clock = lz.Clock })
	if err != nil {
		return err
	}
	return run(ctx, p, c, spec, true, true, &ecsPlay{cloud: lz.Cloud, clock: lz.Clock, recipient: b, outsider: outsider})
}

// wrongOrder shows, on the emulator, why B's role must exist first: A's
// admin saves a key policy naming it, and KMS refuses.
func wrongOrder(ctx context.Context, p *narrate.Printer, cloud *fakecloud.Cloud, admin *fakecloud.User, spec *share.Spec) error {
	key := spec.KeyARN()
	role := spec.Recipients[0].PrincipalARN()
	p.Step("The wrong order: A names B's role in the key policy before B has created it")
	client, err := kms.NewClient(cloud.Config(admin.Credentials(), key.Region))
	if err != nil {
		return err
	}
	rt := &dara.RuntimeOptions{}
	out, err := client.GetKeyPolicyWithContext(ctx, &kms.GetKeyPolicyRequest{KeyId: tea.String(key.String()), PolicyName: tea.String("default")}, rt)
	if err != nil {
		return err
	}
	cur, err := policy.Parse([]byte(tea.StringValue(out.Body.Policy)))
	if err != nil {
		return err
	}
	next, err := policy.SetCrossAccountUsers(cur, key.AccountID, share.EcsDiskActions(), role)
	if err != nil {
		return err
	}
	_, err = client.SetKeyPolicyWithContext(ctx, &kms.SetKeyPolicyRequest{KeyId: tea.String(key.String()),
		PolicyName: tea.String("default"), Policy: tea.String(next.String())}, rt)
	if err == nil {
		return errors.New("KMS accepted a key policy naming a role that does not exist")
	}
	p.Line("refused", "SetKeyPolicy naming %s: %s; nothing changed", role, narrate.Refusal("kms", "SetKeyPolicy", err))
	return nil
}

// runReal runs the same plan, apply, verify and revoke on real Alibaba
// Cloud, for the key and recipient given by flags.
func runReal(ctx context.Context, w io.Writer, cfg config, getenv func(string) string) error {
	spec := &share.Spec{Key: cfg.key, Recipients: []share.Recipient{{Account: cfg.recipient, Principal: share.PrincipalECSDiskRole}}}
	if err := spec.Validate(cfg.region); err != nil {
		return err
	}
	region := cmp.Or(cfg.region, spec.KeyARN().Region)
	c, source, err := realcloud.NewClient(getenv, region)
	if err != nil {
		return err
	}
	p := narrate.New(w)
	p.Printf("W2 on real Alibaba Cloud, region %s, credentials from %s.\n", region, source)
	if !cfg.apply && !cfg.revoke {
		p.Printf("Read-only: only the plan is made (-apply and -revoke write).\n")
	}
	return run(ctx, p, c, spec, cfg.apply, cfg.revoke, nil)
}

// run plans the share, applies and verifies it (apply), then revokes it
// (revoke); ecs, on the emulator only, plays ECS after each. It is the same
// on the emulator and in the real cloud.
func run(ctx context.Context, p *narrate.Printer, c *share.Client, spec *share.Spec, apply, revoke bool, ecs *ecsPlay) error {
	key := spec.KeyARN()
	b := spec.Recipients[0].Account
	p.Step("Plan: share key %s with %s of account %s", key.ResourceName(), ecsroles.DiskEncryptRoleName, b)
	plan, err := c.Plan(ctx, spec)
	if err != nil {
		return err
	}
	p.Block(plan.String())
	if err := plan.Err(); err != nil {
		return err
	}
	if apply {
		p.Step("Apply: B's role and policy first (a key policy may only name a principal that exists), then A's key policy")
		res, err := c.Apply(ctx, plan)
		if res != nil {
			p.Block(res.String())
		}
		if err != nil {
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
		if res != nil {
			p.Block(res.String())
		}
		if err != nil {
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
	if !apply && !revoke {
		p.Printf("\nNothing was changed. Run again with -apply to share the key, or -revoke to undo the share.\n")
		return nil
	}
	p.Printf("\nDone.\n")
	return nil
}

// verified prints a verification report and returns its error.
func verified(p *narrate.Printer, rep *share.VerifyReport, err error) error {
	if err != nil {
		return err
	}
	for _, r := range rep.Results {
		tag := "ok"
		if r.Outcome != share.OutcomeVerifiedStatically && r.Outcome != share.OutcomeRevoked {
			tag = "FAILED"
		}
		detail := r.Detail
		if r.Outcome == share.OutcomeRevoked {
			detail = "the key policy no longer grants it"
		}
		p.Line(tag, "%s: %s: %s", r.Principal, r.Outcome, detail)
	}
	return rep.Err()
}

// use plays ECS acting for the recipient, and while the key is shared for
// the outsider too: assume B's disk role, then generate a data key with A's
// key by ARN, as ECS does for a new encrypted disk. It fails unless ECS
// acting for the recipient uses the key exactly while it is shared, and
// ECS acting for the outsider is refused.
func (e *ecsPlay) use(ctx context.Context, p *narrate.Printer, spec *share.Spec, shared bool) error {
	key := spec.KeyARN()
	role := spec.Recipients[0].PrincipalARN().String()
	// Verified statically is no proof that the change has reached KMS:
	// ECS, like any user, may be refused (or still admitted) until it has
	// propagated. Wait the emulator's delay, as a pipeline would poll.
	if d := e.cloud.PropagationDelay(); d > 0 {
		p.Line("wait", "%s of emulated time for the key policy change to propagate", d)
		if err := e.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
	try := func(acct *fakecloud.Account, admitted bool) error {
		who := "ECS acting for " + acct.Name
		got, err := sim.ECSUse(ctx, e.cloud, acct, role, key, sim.ECSCall{Session: "ecs-create-disk", Purpose: "ecs-disk"})
		switch got {
		case sim.ECSRoleRefused:
			p.Line("refused", "%s cannot assume %s: %s", who, ecsroles.DiskEncryptRoleName, narrate.Refusal("sts", "AssumeRole", err))
		case sim.ECSKeyRefused:
			p.Line("refused", "%s assumed %s, but GenerateDataKey with A's key: %s", who, ecsroles.DiskEncryptRoleName, narrate.Refusal("kms", "GenerateDataKey", err))
		case sim.ECSKeyUsed:
			p.Line("ok", "%s assumed %s and generated a data key with A's key %s", who, ecsroles.DiskEncryptRoleName, key.ResourceName())
		default:
			p.Line("FAILED", "%s: %v", who, err)
		}
		if err := got.Check(admitted); err != nil {
			return fmt.Errorf("%s: %w", who, err)
		}
		return nil
	}
	if err := try(e.recipient, shared); err != nil {
		return err
	}
	if shared {
		return try(e.outsider, false)
	}
	return nil
}
