package share

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// RevokeOptions say how far a revoke goes.
type RevokeOptions struct {
	// RemoveRecipientPolicies also detaches and deletes, in each recipient
	// account, the policy this library created to allow the key
	// (RecipientPolicyName).
	RemoveRecipientPolicies bool
	// DeleteCreatedRoles also deletes each application role (PrincipalRole)
	// that this library created, with its kmsshare policy for the key: a
	// role whose description starts "created by kmsshare" and that has no
	// other policy attached. Any other role is kept and the plan says why:
	// roles someone else created, roles something else still uses, the
	// Resource Directory access role, and the ECS disk role (ECS uses it
	// for every key of the account, and nothing marks it as kmsshare's).
	// RAM users are never deleted.
	DeleteCreatedRoles bool
}

// PlanRevoke returns the plan that removes the spec's recipients from the
// key policy (only from the statements this library owns; statements others
// made that still allow a recipient something are listed in its
// RecipientPlan.Kept, not removed) and, as opts say, the
// recipients' kmsshare policies and the roles this library created. The
// instance's access quota for an account is released about five minutes
// after its last grant is removed (kms.md §9).
//
// The plan is sealed, as Plan's is: Apply takes it only unchanged.
func (c *Client) PlanRevoke(ctx context.Context, spec *Spec, opts RevokeOptions) (*Plan, error) {
	if err := spec.Validate(c.Region()); err != nil {
		return nil, err
	}
	p, err := c.planRevoke(ctx, spec, opts)
	if err != nil {
		return nil, err
	}
	p.seal = sealOf(p)
	return p, nil
}

// planRevoke makes the plan of PlanRevoke for a valid spec.
func (c *Client) planRevoke(ctx context.Context, spec *Spec, opts RevokeOptions) (*Plan, error) {
	p := &Plan{Operation: OpRevoke, Spec: spec.clone()}
	key := spec.KeyARN()
	owner, err := c.account(ctx, key.AccountID, "")
	if err != nil {
		return nil, err
	}
	if err := c.readKey(ctx, owner, key, p); err != nil {
		return nil, err
	}
	// A disabled key can still lose its grants.
	p.Problems = slices.DeleteFunc(p.Problems, func(pr Problem) bool {
		return pr.Code == ProblemKeyNotEnabled || pr.Code == ProblemKeyUsage
	})
	p.Recipients = make([]RecipientPlan, len(spec.Recipients))
	own := spec.clone() // the recipient plans share nothing with p.Spec either
	parallel(ctx, c.opts.Concurrency, len(spec.Recipients), func(i int) {
		r := own.Recipients[i]
		rp := RecipientPlan{Recipient: r, Principal: r.PrincipalARN().String()}
		if opts.RemoveRecipientPolicies || opts.DeleteCreatedRoles {
			rp = c.planRecipientCleanup(ctx, key, rp, opts)
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
	for i := range p.Recipients {
		p.Recipients[i].Kept = keptGrants(desired, key, p.Recipients[i].Recipient)
	}
	c.emit(ctx, Event{Phase: "plan", Account: key.AccountID, Message: fmt.Sprintf("revoke %d principal(s): %d grant(s) to remove", len(spec.Recipients), len(p.KeyPolicy.Changes))})
	return p, nil
}

// planRecipientCleanup lists the recipient-side steps of a revoke: delete
// the role if this library created it (DeleteCreatedRoles), else remove
// the recipient's kmsshare policy (RemoveRecipientPolicies).
func (c *Client) planRecipientCleanup(ctx context.Context, key arn.ARN, rp RecipientPlan, opts RevokeOptions) RecipientPlan {
	r := rp.Recipient
	problem := func(code ProblemCode, msg string, err error) RecipientPlan {
		rp.Problems = append(rp.Problems, Problem{Code: code, Account: r.Account, Principal: rp.Principal, Message: msg, Err: err})
		return rp
	}
	acct, err := c.account(ctx, r.Account, r.AccessRole)
	if err != nil {
		return problem(ProblemUnreachable, "cannot act in the recipient account to remove its policy", err)
	}
	name := RecipientPolicyName(key, r.PrincipalARN())
	if opts.DeleteCreatedRoles {
		switch r.kind() {
		case PrincipalRDAccessRole:
			rp.Notes = append(rp.Notes, r.roleOrUserName()+" is kept: it belongs to the resource directory, and kmsshare never deletes it")
		case PrincipalECSDiskRole:
			rp.Notes = append(rp.Notes, r.roleOrUserName()+" is kept: ECS uses it for every key of the account, and nothing marks it as created by kmsshare")
		case PrincipalUser:
			rp.Notes = append(rp.Notes, "RAM user "+r.Name+" is kept: kmsshare never deletes users")
		case PrincipalRole:
			steps, note, err := c.planDeleteCreatedRole(ctx, acct, r, name)
			if err != nil {
				return problem(ProblemRecipientReadFail, "cannot read role "+r.Name+" and its policies", err)
			}
			if note != "" {
				rp.Notes = append(rp.Notes, note)
			}
			if steps != nil {
				rp.Exists, rp.Steps = true, steps
				return rp
			}
		}
	}
	if !opts.RemoveRecipientPolicies {
		return rp
	}
	_, err = acct.RAM.GetPolicy(ctx, name, "Custom")
	if errors.Is(err, cloudapi.ErrNotFound) {
		return rp
	}
	if err != nil {
		return problem(ProblemRecipientReadFail, "cannot read policy "+name, err)
	}
	rp.Exists = true
	rp.Steps = []Step{
		{Action: StepDetachPolicy, Account: r.Account, Role: r.roleOrUserName(), User: r.kind() == PrincipalUser, Policy: name, PolicyType: "Custom"},
		{Action: StepDeletePolicy, Account: r.Account, Policy: name},
	}
	return rp
}

// planDeleteCreatedRole returns the steps that delete an application role
// this library created, with its kmsshare policy (ours), or nil steps and
// a note saying why the role is kept.
func (c *Client) planDeleteCreatedRole(ctx context.Context, acct *alicloud.Clients, r Recipient, ours string) ([]Step, string, error) {
	role, err := acct.RAM.GetRole(ctx, r.Name)
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
		// Gone already; its policy may be left over from a revoke that failed midway.
		steps, err := c.deleteRoleSteps(ctx, acct, r.Account, r.Name, false, nil, []string{ours}, nil)
		if len(steps) == 0 {
			steps = nil
		}
		return steps, "", err
	case err != nil:
		return nil, "", err
	case !strings.HasPrefix(role.Description, createdRolePrefix):
		return nil, fmt.Sprintf("role %s is kept: kmsshare did not create it (its description does not start with %q)", role.Name, createdRolePrefix), nil
	}
	attached, err := acct.RAM.ListPoliciesForRole(ctx, role.Name)
	if err != nil {
		return nil, "", err
	}
	var others []string
	for _, a := range attached {
		if a.Type != "Custom" || !strings.EqualFold(a.Name, ours) {
			others = append(others, strings.ToLower(a.Type)+" policy "+a.Name)
		}
	}
	if len(others) > 0 {
		return nil, fmt.Sprintf("role %s is kept: kmsshare created it, but it also has %s attached, so something else may still use it",
			role.Name, strings.Join(others, ", ")), nil
	}
	steps, err := c.deleteRoleSteps(ctx, acct, r.Account, role.Name, true, attached, []string{ours}, nil)
	return steps, "", err
}

// Share plans and applies spec in one call. See Plan and Apply.
func (c *Client) Share(ctx context.Context, spec *Spec) (*Result, error) {
	p, err := c.Plan(ctx, spec)
	if err != nil {
		return nil, err
	}
	return c.apply(ctx, p)
}

// Revoke plans and applies the revoke of spec in one call. See PlanRevoke.
func (c *Client) Revoke(ctx context.Context, spec *Spec, opts RevokeOptions) (*Result, error) {
	p, err := c.PlanRevoke(ctx, spec, opts)
	if err != nil {
		return nil, err
	}
	return c.apply(ctx, p)
}
