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

// RolePlan lists the changes that make a role in an account match a
// policy.RoleSpec: create or update the role and its trust policy, create
// or update its custom policies, attach them and its system policies. It is
// how the owner of an encrypted image or snapshot sets up its
// AliyunECSShareEncrypt*DefaultRole (workflow W4, specs from ecsroles), and
// how any other role a workflow needs is kept as specified. Policies
// attached to the role that the spec does not name are left alone. Like a
// Plan, it is sealed when it is made, and ApplyRole takes it only
// unchanged.
type RolePlan struct {
	Account string `json:"account"`
	Role    string `json:"role"`
	Exists  bool   `json:"exists"`
	Steps   []Step `json:"steps"`
	delete  bool
	seal    seal // see seal.go: ApplyRole takes the plan only as it was made
}

// String renders the plan for people.
func (p *RolePlan) String() string {
	var b strings.Builder
	verb := "Role"
	if p.delete {
		verb = "Delete role"
	}
	fmt.Fprintf(&b, "%s %s in account %s:\n", verb, p.Role, p.Account)
	if len(p.Steps) == 0 {
		b.WriteString("  no change\n")
	}
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	return b.String()
}

// RoleResult says what ApplyRole did, step by step. When ApplyRole did only
// part of the plan, its *ApplyError holds the RoleResult.
type RoleResult struct {
	Account string       `json:"account"`
	Role    string       `json:"role"`
	Steps   []StepResult `json:"steps"`
}

// PlanRole reads the role spec.Name in account and returns the steps that
// make it match spec. The spec is validated first (policy.RoleSpec.Validate),
// before any API call. The plan is sealed: ApplyRole takes it only
// unchanged.
func (c *Client) PlanRole(ctx context.Context, account string, spec policy.RoleSpec) (*RolePlan, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := arn.ValidateAccountID(account); err != nil {
		return nil, &SpecError{Problems: []SpecProblem{{Field: "account", Value: account, Reason: reasonOf(err), Err: err}}}
	}
	p, err := c.planRole(ctx, account, cloneRoleSpec(spec))
	if err != nil {
		return nil, err
	}
	p.seal = sealOf(p)
	return p, nil
}

// planRole makes the plan of PlanRole for a valid spec.
func (c *Client) planRole(ctx context.Context, account string, spec policy.RoleSpec) (*RolePlan, error) {
	acct, err := c.account(ctx, account, "")
	if err != nil {
		return nil, err
	}
	p := &RolePlan{Account: account, Role: spec.Name}
	role, err := acct.RAM.GetRole(ctx, spec.Name)
	var attached []string
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
		p.Steps = append(p.Steps, Step{Action: StepCreateRole, Account: account, Role: spec.Name, Document: spec.Trust,
			Description: spec.Description, MaxSession: spec.MaxSessionDuration})
	case err != nil:
		return nil, fmt.Errorf("share: read role %s: %w", spec.Name, err)
	default:
		p.Exists = true
		if have, perr := policy.Parse([]byte(role.TrustPolicy)); perr != nil || !policy.Equivalent(have, spec.Trust) {
			p.Steps = append(p.Steps, Step{Action: StepUpdateTrust, Account: account, Role: role.Name, Document: spec.Trust})
		}
		list, err := acct.RAM.ListPoliciesForRole(ctx, spec.Name)
		if err != nil {
			return nil, fmt.Errorf("share: read the policies of role %s: %w", spec.Name, err)
		}
		for _, a := range list {
			attached = append(attached, strings.ToLower(a.Type+":"+a.Name))
		}
	}
	for _, cp := range spec.Policies {
		steps, err := customPolicySteps(ctx, acct.RAM, account, cp.Name, cp.Description, cp.Document, nil)
		if err != nil {
			return nil, fmt.Errorf("share: read policy %s: %w", cp.Name, err)
		}
		p.Steps = append(p.Steps, steps...)
		if !slices.Contains(attached, strings.ToLower("Custom:"+cp.Name)) {
			p.Steps = append(p.Steps, Step{Action: StepAttachPolicy, Account: account, Role: spec.Name, Policy: cp.Name, PolicyType: "Custom"})
		}
	}
	for _, name := range spec.SystemPolicies {
		if !slices.Contains(attached, strings.ToLower("System:"+name)) {
			p.Steps = append(p.Steps, Step{Action: StepAttachPolicy, Account: account, Role: spec.Name, Policy: name, PolicyType: "System"})
		}
	}
	return p, nil
}

// PlanDeleteRole returns the steps that remove the role spec.Name from
// account: detach the spec's policies, delete the role, delete the spec's
// custom policies with all their versions. Policies someone else attached
// to the role are not detached, so DeleteRole then fails with
// DeleteConflict.Role.Policy rather than silently taking them away. A
// missing role and missing policies plan nothing. The plan is sealed, as
// PlanRole's is.
func (c *Client) PlanDeleteRole(ctx context.Context, account string, spec policy.RoleSpec) (*RolePlan, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := arn.ValidateAccountID(account); err != nil {
		return nil, &SpecError{Problems: []SpecProblem{{Field: "account", Value: account, Reason: reasonOf(err), Err: err}}}
	}
	p, err := c.planDeleteRole(ctx, account, spec)
	if err != nil {
		return nil, err
	}
	p.seal = sealOf(p)
	return p, nil
}

// planDeleteRole makes the plan of PlanDeleteRole for a valid spec.
func (c *Client) planDeleteRole(ctx context.Context, account string, spec policy.RoleSpec) (*RolePlan, error) {
	acct, err := c.account(ctx, account, "")
	if err != nil {
		return nil, err
	}
	p := &RolePlan{Account: account, Role: spec.Name, delete: true}
	list, err := acct.RAM.ListPoliciesForRole(ctx, spec.Name)
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("share: read the policies of role %s: %w", spec.Name, err)
	default:
		p.Exists = true
	}
	custom := make([]string, len(spec.Policies))
	for i, cp := range spec.Policies {
		custom[i] = cp.Name
	}
	if p.Steps, err = c.deleteRoleSteps(ctx, acct, account, spec.Name, p.Exists, list, custom, spec.SystemPolicies); err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	return p, nil
}

// deleteRoleSteps returns the steps that remove role from account: detach
// the named custom and system policies that are attached (attached is what
// ListPoliciesForRole reported; exists says whether the role exists),
// delete the role, then delete the named custom policies that exist.
func (c *Client) deleteRoleSteps(ctx context.Context, acct *alicloud.Clients, account, role string, exists bool,
	attached []alicloud.Attached, custom, system []string) ([]Step, error) {
	var steps []Step
	if exists {
		byName := map[string]string{}
		for _, a := range attached {
			byName[strings.ToLower(a.Type+":"+a.Name)] = a.Name
		}
		detach := func(typ, name string) {
			if shown, ok := byName[strings.ToLower(typ+":"+name)]; ok {
				steps = append(steps, Step{Action: StepDetachPolicy, Account: account, Role: role, Policy: shown, PolicyType: typ})
			}
		}
		for _, name := range custom {
			detach("Custom", name)
		}
		for _, name := range system {
			detach("System", name)
		}
		steps = append(steps, Step{Action: StepDeleteRole, Account: account, Role: role})
	}
	for _, name := range custom {
		_, err := acct.RAM.GetPolicy(ctx, name, "Custom")
		switch {
		case errors.Is(err, cloudapi.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("read policy %s: %w", name, err)
		default:
			steps = append(steps, Step{Action: StepDeletePolicy, Account: account, Policy: name})
		}
	}
	return steps, nil
}

// ApplyRole makes the changes of a role plan, in order, stopping at the
// first failure; it is safe to run again. It takes only a plan that
// PlanRole or PlanDeleteRole returned, unchanged: one edited afterwards
// (a step added, removed or changed), built by hand or decoded from JSON
// is refused with a *SpecError (field "plan") before any API call.
func (c *Client) ApplyRole(ctx context.Context, p *RolePlan) (*RoleResult, error) {
	if p == nil {
		return nil, noPlan()
	}
	if err := checkSeal(p, p.seal, "PlanRole or PlanDeleteRole"); err != nil {
		return nil, err
	}
	res := &RoleResult{Account: p.Account, Role: p.Role}
	acct, err := c.account(ctx, p.Account, "")
	if err != nil {
		return res, &ApplyError{RoleResult: res, errs: []error{err}}
	}
	var failed error
	res.Steps, failed = c.runSteps(ctx, acct, nil, p.Role, p.Steps)
	if failed != nil {
		return res, &ApplyError{RoleResult: res, errs: []error{failed}}
	}
	return res, nil
}

// cloneRoleSpec copies spec's documents, so that a role plan's steps hold
// their own: the caller's later changes to spec must not change the plan.
func cloneRoleSpec(spec policy.RoleSpec) policy.RoleSpec {
	spec.Trust = spec.Trust.Clone()
	spec.Policies = slices.Clone(spec.Policies)
	for i := range spec.Policies {
		spec.Policies[i].Document = spec.Policies[i].Document.Clone()
	}
	spec.SystemPolicies = slices.Clone(spec.SystemPolicies)
	return spec
}
