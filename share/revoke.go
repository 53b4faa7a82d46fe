package share

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// RevokeOptions say how far a revoke goes.
type RevokeOptions struct {
	// RemoveRecipientPolicies also detaches and deletes, in each recipient
	// account, the policy this library created to allow the key
	// (RecipientPolicyName). Roles are never deleted.
	RemoveRecipientPolicies bool
}

// PlanRevoke returns the plan that removes the spec's recipients from the
// key policy (only from the statements this library owns; grants others
// made are reported by Inventory, not removed) and, with
// RemoveRecipientPolicies, the recipients' kmsshare policies. The
// instance's access quota for an account is released about five minutes
// after its last grant is removed (kms.md §9).
func (c *Client) PlanRevoke(ctx context.Context, spec *Spec, opts RevokeOptions) (*Plan, error) {
	if err := spec.Validate(c.Region()); err != nil {
		return nil, err
	}
	p := &Plan{Operation: OpRevoke, Spec: spec.clone(), revoke: opts}
	key := spec.KeyARN()
	owner, err := c.account(ctx, key.AccountID, "")
	if err != nil {
		return nil, err
	}
	if err := c.readKey(ctx, owner, key, p); err != nil {
		return nil, err
	}
	// A disabled key can still lose its grants.
	p.Problems = dropProblems(p.Problems, ProblemKeyNotEnabled, ProblemKeyUsage)
	p.Recipients = make([]RecipientPlan, len(spec.Recipients))
	own := spec.clone() // the recipient plans share nothing with p.Spec either
	parallel(ctx, c.opts.Concurrency, len(spec.Recipients), func(i int) {
		r := own.Recipients[i]
		rp := RecipientPlan{Recipient: r, Principal: r.PrincipalARN().String()}
		if opts.RemoveRecipientPolicies {
			rp = c.planRecipientCleanup(ctx, key, rp)
		}
		p.Recipients[i] = rp
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.KeyPolicy.Current == nil {
		return p, nil
	}
	desired, err := policy.RemoveCrossAccountUsers(p.KeyPolicy.Current, key.AccountID, spec.principalARNs()...)
	if err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	c.finishKeyPolicyPlan(ctx, owner, key, p, desired)
	c.emit(ctx, Event{Phase: "plan", Account: key.AccountID, Message: fmt.Sprintf("revoke %d principal(s): %d grant(s) to remove", len(spec.Recipients), len(p.KeyPolicy.Changes))})
	return p, nil
}

// planRecipientCleanup lists the steps that remove the recipient's kmsshare
// policy, if it has one.
func (c *Client) planRecipientCleanup(ctx context.Context, key arn.ARN, rp RecipientPlan) RecipientPlan {
	r := rp.Recipient
	acct, err := c.account(ctx, r.Account, r.AccessRole)
	if err != nil {
		rp.Problems = append(rp.Problems, Problem{Code: ProblemUnreachable, Account: r.Account, Principal: rp.Principal,
			Message: "cannot act in the recipient account to remove its policy", Err: err})
		return rp
	}
	name := RecipientPolicyName(key, r.PrincipalARN())
	_, err = acct.RAM.GetPolicy(ctx, name, "Custom")
	if errors.Is(err, cloudapi.ErrNotFound) {
		return rp
	}
	if err != nil {
		rp.Problems = append(rp.Problems, Problem{Code: ProblemRecipientReadFail, Account: r.Account, Principal: rp.Principal,
			Message: "cannot read policy " + name, Err: err})
		return rp
	}
	rp.Exists = true
	rp.Steps = []Step{
		{Action: StepDetachPolicy, Account: r.Account, Role: r.roleOrUserName(), User: r.kind() == PrincipalUser, Policy: name, PolicyType: "Custom"},
		{Action: StepDeletePolicy, Account: r.Account, Policy: name},
	}
	return rp
}

func dropProblems(ps []Problem, codes ...string) []Problem {
	var out []Problem
	for _, p := range ps {
		keep := true
		for _, c := range codes {
			if p.Code == c {
				keep = false
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}

// Share plans and applies spec in one call. See Plan and Apply.
func (c *Client) Share(ctx context.Context, spec *Spec) (*Result, error) {
	p, err := c.Plan(ctx, spec)
	if err != nil {
		return nil, err
	}
	return c.Apply(ctx, p)
}

// Revoke plans and applies the revoke of spec in one call. See PlanRevoke.
func (c *Client) Revoke(ctx context.Context, spec *Spec, opts RevokeOptions) (*Result, error) {
	p, err := c.PlanRevoke(ctx, spec, opts)
	if err != nil {
		return nil, err
	}
	return c.Apply(ctx, p)
}
