package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
)

// world is the emulated cloud of the story: A ("sharer") and app-1 and
// app-2 in the apps folder of a resource directory, app-3 in apps/team-a,
// sandbox-1 in another folder, a stranger outside the directory, and A's
// RAM user admin that makes the changes.
type world struct {
	*sim.LandingZone
	admin                    *fakecloud.User
	app3, sandbox1, stranger *fakecloud.Account
	p                        *narrate.Printer
}

// newWorld builds the world and introduces it on w.
func newWorld(w io.Writer, snapshot bool) (*world, error) {
	lz, err := sim.NewLandingZone(sim.Options{Clock: sim.ManualClock(), Seed: 4, Owner: "sharer", Members: []string{"app-1", "app-2"},
		Propagation: sim.DefaultPropagation, Visibility: sim.DefaultVisibility})
	if err != nil {
		return nil, err
	}
	team := lz.Apps.NewFolder("team-a")
	app3 := team.NewMember("app-3")
	sandbox := lz.Directory.Root().NewFolder("sandbox")
	sandbox1 := sandbox.NewMember("sandbox-1")
	stranger := lz.Cloud.NewAccount("stranger") // not in the resource directory
	admin, err := lz.Security.NewUser("admin", "AdministratorAccess")
	if err != nil {
		return nil, err
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

	return &world{LandingZone: lz, admin: admin, app3: app3, sandbox1: sandbox1, stranger: stranger, p: p}, nil
}

// scenario is one trust scope of the emulated story, with the accounts
// whose ECS it should admit and refuse.
type scenario struct {
	title    string
	trust    ecsroles.Trusted
	admitted []*fakecloud.Account
	refused  []*fakecloud.Account
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

// play waits for the last change to propagate, then plays ECS acting for
// each account: the admitted must use the key, the refused must not.
func (e *ecsPlay) play(ctx context.Context, p *narrate.Printer, spec policy.RoleSpec, admitted, refused []*fakecloud.Account) error {
	if err := e.settle(ctx, p); err != nil {
		return err
	}
	for _, a := range admitted {
		if err := e.use(ctx, p, a, spec, true); err != nil {
			return err
		}
	}
	for _, a := range refused {
		if err := e.use(ctx, p, a, spec, false); err != nil {
			return err
		}
	}
	return nil
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
