package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
)

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
