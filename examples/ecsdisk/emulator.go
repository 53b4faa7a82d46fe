package main

import (
	"context"
	"errors"
	"fmt"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// ecsPlay is the emulator's part: ECS acting for accounts.
type ecsPlay struct {
	cloud     *fakecloud.Cloud
	clock     sim.Clock
	recipient *fakecloud.Account
	outsider  *fakecloud.Account
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
	next, err := policy.SetCrossAccountUsers(cur, key.AccountID, ecsroles.ECSDiskKeyPolicyActions(), role)
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
