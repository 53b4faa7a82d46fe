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
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/examples/internal/commalist"
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
	real     bool
	key      string
	accounts []string
	rd       string
	folder   string
	snapshot bool
	region   string
	apply    bool
	revoke   bool
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
			err = runEmulated(ctx, stdout, cfg.snapshot)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "ecsimage:", err)
		if errors.Is(err, errUsage) || errors.Is(err, policy.ErrInvalid) || errors.Is(err, arn.ErrInvalid) {
			return 2
		}
		return 1
	}
	return 0
}

func parse(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("ecsimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: ecsimage [flags]

Workflow W4: account A shares ECS images (or snapshots) encrypted with its own
KMS key. A owns AliyunECSShareEncryptImageDefaultRole (or ...SnapshotDefaultRole),
trusted by the recipients' ECS service, with a policy allowing the key.

Emulator (default): the three trust scenarios (specific accounts, a whole
resource directory, one folder) on an emulated Alibaba Cloud in memory, with
ECS acting for admitted and refused accounts; nothing to set up, nothing
leaves this machine.

Real Alibaba Cloud (-real): credentials from credentials-go's default chain
(ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, ~/.alibabacloud/credentials,
~/.aliyun/config.json, ...) of account A itself. Give the key and one trust
scope. Read-only unless -apply or -revoke is given.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.BoolVar(&cfg.real, "real", false, "use real Alibaba Cloud instead of the emulator")
	fs.StringVar(&cfg.key, "key", "", "with -real: the ARN of A's key the images are encrypted with")
	fs.Func("accounts", "with -real: trust the ECS service of these comma-separated account UIDs", func(s string) error {
		cfg.accounts = append(cfg.accounts, commalist.Split(s)...)
		return nil
	})
	fs.StringVar(&cfg.rd, "rd", "", "with -real: trust the ECS service of every account of this resource directory (rd-...)")
	fs.StringVar(&cfg.folder, "folder", "", "with -real: trust the ECS service of every account in this folder and below (rd-.../r-.../fd-...)")
	fs.BoolVar(&cfg.snapshot, "snapshot", false, "share snapshots: AliyunECSShareEncryptSnapshotDefaultRole instead of the image role")
	fs.StringVar(&cfg.region, "region", "", "with -real: the region of the clients (default: the key's region)")
	fs.BoolVar(&cfg.apply, "apply", false, "with -real: create or update the role and its policy in A")
	fs.BoolVar(&cfg.revoke, "revoke", false, "with -real: delete the role and its custom policies from A")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: %v", errUsage, err)
	}
	scopes := 0
	for _, set := range []bool{len(cfg.accounts) > 0, cfg.rd != "", cfg.folder != ""} {
		if set {
			scopes++
		}
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case !cfg.real && (cfg.key != "" || scopes > 0 || cfg.apply || cfg.revoke || cfg.region != ""):
		return cfg, fmt.Errorf("%w: -key, -accounts, -rd, -folder, -region, -apply and -revoke are for -real; the emulator runs all three scenarios on its own key", errUsage)
	case cfg.real && (cfg.key == "" || scopes != 1):
		return cfg, fmt.Errorf("%w: -real needs -key and exactly one of -accounts, -rd and -folder", errUsage)
	case cfg.apply && cfg.revoke:
		return cfg, fmt.Errorf("%w: -apply and -revoke together would create the role and delete it again", errUsage)
	}
	return cfg, nil
}

// roleSpec builds the share role for the images or snapshots encrypted
// with key.
func roleSpec(snapshot bool, owner string, trust ecsroles.Trusted, key arn.ARN) (policy.RoleSpec, error) {
	if snapshot {
		return ecsroles.ShareEncryptSnapshot(owner, trust, key)
	}
	return ecsroles.ShareEncryptImage(owner, trust, key)
}

// scenario is one trust scope of the emulated story, with the accounts
// whose ECS it should admit and refuse.
type scenario struct {
	title    string
	trust    ecsroles.Trusted
	admitted []*fakecloud.Account
	refused  []*fakecloud.Account
}

// runEmulated builds A and the recipients and goes through the three
// scenarios on one role.
func runEmulated(ctx context.Context, w io.Writer, snapshot bool) error {
	lz, err := sim.NewLandingZone(sim.Options{Clock: sim.ManualClock(), Seed: 4, Owner: "sharer", Members: []string{"app-1", "app-2"},
		Propagation: sim.DefaultPropagation, Visibility: sim.DefaultVisibility})
	if err != nil {
		return err
	}
	team := lz.Apps.NewFolder("team-a")
	app3 := team.NewMember("app-3")
	sandbox := lz.Directory.Root().NewFolder("sandbox")
	sandbox1 := sandbox.NewMember("sandbox-1")
	stranger := lz.Cloud.NewAccount("stranger") // not in the resource directory
	admin, err := lz.Security.NewUser("admin", "AdministratorAccess")
	if err != nil {
		return err
	}
	app1, app2 := lz.Members[0], lz.Members[1]
	what := "images"
	if snapshot {
		what = "snapshots"
	}
	p := narrate.New(w)
	p.Printf("W4: account A shares ECS %s encrypted with its own KMS key.\n", what)
	p.Printf("Emulated Alibaba Cloud: nothing leaves this machine. Changes take %s (emulated) to propagate, new roles %s to become visible.\n\n",
		sim.DefaultPropagation, sim.DefaultVisibility)
	p.Printf("Accounts (RAM user %q of A makes the changes in A):\n", admin.Name)
	p.Printf("  A  %-9s  %s  owns key %s; member of resource directory %s\n", lz.Security.Name, lz.Security.ID, lz.Key.ID, lz.Directory.ID)
	p.Printf("     %-9s  %s  member in folder %s (%s)\n", app1.Name, app1.ID, lz.Apps.Name, lz.Apps.Path)
	p.Printf("     %-9s  %s  member in folder %s\n", app2.Name, app2.ID, lz.Apps.Name)
	p.Printf("     %-9s  %s  member in folder %s/%s\n", app3.Name, app3.ID, lz.Apps.Name, team.Name)
	p.Printf("     %-9s  %s  member in folder %s (%s)\n", sandbox1.Name, sandbox1.ID, sandbox.Name, sandbox.Path)
	p.Printf("     %-9s  %s  not in the resource directory\n", stranger.Name, stranger.ID)

	roles, err := share.New(lz.Cloud.Config(admin.Credentials(), sim.Region), func(o *share.Options) { o.Clock = lz.Clock })
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
		if err := ecs.settle(ctx, p); err != nil {
			return err
		}
		for _, a := range sc.admitted {
			if err := ecs.use(ctx, p, a, spec, true); err != nil {
				return err
			}
		}
		for _, a := range sc.refused {
			if err := ecs.use(ctx, p, a, spec, false); err != nil {
				return err
			}
		}
	}
	p.Step("Stop sharing: delete the role")
	if err := run(ctx, p, roles, lz.Security.ID, spec, false, true); err != nil {
		return err
	}
	if err := ecs.settle(ctx, p); err != nil {
		return err
	}
	if err := ecs.use(ctx, p, app1, spec, false); err != nil {
		return err
	}
	p.Printf("\nDone.\n")
	return nil
}

// runReal plans (and with -apply or -revoke, makes) the share role of one
// trust scope on real Alibaba Cloud, in the account of the credentials,
// which must own the key.
func runReal(ctx context.Context, w io.Writer, cfg config, getenv func(string) string) error {
	key, err := arn.Parse(cfg.key)
	if err != nil {
		return err
	}
	if key.Service != "kms" || key.ResourceType() != "key" || key.ResourceName() == "" {
		return fmt.Errorf("%w: -key %s is not a KMS key ARN acs:kms:<region>:<owner-uid>:key/<key-id>", errUsage, cfg.key)
	}
	var trust ecsroles.Trusted
	switch {
	case len(cfg.accounts) > 0:
		trust = ecsroles.Accounts(cfg.accounts...)
	case cfg.rd != "":
		trust = ecsroles.ResourceDirectory(cfg.rd)
	default:
		trust = ecsroles.Folder(cfg.folder)
	}
	spec, err := roleSpec(cfg.snapshot, key.AccountID, trust, key)
	if err != nil {
		return err
	}
	sdkConfig, source, err := realcloud.Config(getenv, cmp.Or(cfg.region, key.Region))
	if err != nil {
		return err
	}
	return realWith(ctx, w, cfg, sdkConfig, source, spec, trust, key)
}

// realWith is runReal once the SDK configuration is known.
func realWith(ctx context.Context, w io.Writer, cfg config, sdkConfig *openapi.Config, source string,
	spec policy.RoleSpec, trust ecsroles.Trusted, key arn.ARN) error {
	roles, err := share.New(sdkConfig)
	if err != nil {
		return err
	}
	me, err := roles.CallerIdentity(ctx)
	if err != nil {
		return err
	}
	if me.AccountID != key.AccountID {
		return fmt.Errorf("the credentials from %s belong to account %s, but the role must live in %s, the key's owner", source, me.AccountID, key.AccountID)
	}
	p := narrate.New(w)
	p.Printf("W4 on real Alibaba Cloud, account %s, credentials from %s.\n", me.AccountID, source)
	if !cfg.apply && !cfg.revoke {
		p.Printf("Read-only: only the plan is made (-apply and -revoke write).\n")
	}
	p.Step("%s for key %s, trusting %s", spec.Name, key.ResourceName(), trust)
	return run(ctx, p, roles, me.AccountID, spec, cfg.apply, cfg.revoke)
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
	for _, sr := range res.Steps {
		switch {
		case sr.Status == share.StatusFailed:
			p.Line("FAILED", "%s: %s", sr.Step, narrate.Refusal("ram", "", err))
		case sr.Status == share.StatusNotAttempted:
			p.Line("skipped", "%s", sr.Step)
		default:
			p.Line("done", "%s", sr.Step)
		}
	}
	return err
}

// ecsPlay is the emulator's part: ECS acting for an account, as when it
// copies a shared encrypted image into that account.
type ecsPlay struct {
	cloud *fakecloud.Cloud
	clock sim.Clock
	key   arn.ARN
}

// settle waits the emulator's propagation delay: a trust policy change
// reaches STS only after a while, so ECS would still be refused (or still
// admitted) right after it, as a pipeline polling a real cloud sees.
func (e *ecsPlay) settle(ctx context.Context, p *narrate.Printer) error {
	d := e.cloud.PropagationDelay()
	if d <= 0 {
		return nil
	}
	p.Line("wait", "%s of emulated time for the change to propagate", d)
	return e.clock.Sleep(ctx, d)
}

// use assumes the share role as ECS acting for acct, then encrypts and
// decrypts a data key with A's key. It fails unless ECS uses the key if
// admitted, and is refused if not.
func (e *ecsPlay) use(ctx context.Context, p *narrate.Printer, acct *fakecloud.Account, spec policy.RoleSpec, admitted bool) error {
	who := "ECS acting for " + acct.Name
	role := spec.ARN(e.key.AccountID).String()
	got, err := sim.ECSUse(ctx, e.cloud, acct, role, e.key, sim.ECSCall{Session: "ecs-share", Purpose: "ecs-share", Decrypt: true})
	var fe *fakecloud.Error
	switch {
	case got == sim.ECSRoleRefused && errors.As(err, &fe) && fe.Code == "EntityNotExist.Role":
		p.Line("refused", "%s finds no %s: %s (ECS refuses to share with AssumeRoleError)", who, spec.Name, narrate.Refusal("sts", "AssumeRole", err))
	case got == sim.ECSRoleRefused:
		p.Line("refused", "%s cannot assume the role: %s", who, narrate.Refusal("sts", "AssumeRole", err))
	case got == sim.ECSKeyRefused:
		p.Line("refused", "%s assumed the role, but A's key: %s", who, narrate.Refusal("kms", "", err))
	case got == sim.ECSKeyUsed:
		p.Line("ok", "%s assumed the role and encrypted and decrypted a data key with key %s", who, e.key.ResourceName())
	default:
		p.Line("FAILED", "%s: %v", who, err)
	}
	if err := got.Check(admitted); err != nil {
		return fmt.Errorf("%s: %w", who, err)
	}
	return nil
}
