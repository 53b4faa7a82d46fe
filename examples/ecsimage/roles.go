package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// Package share creates roles only in recipient accounts. A share role
// lives in the sharer's own account, so this file makes one from its
// policy.RoleSpec with the RAM SDK: read what exists, list the changes,
// make them. Every call is classified by internal/cloudapi and retried on
// throttling like the library's own.

// roles manages roles in the account its credentials belong to.
type roles struct {
	ram     *ram.Client
	account string
	retry   cloudapi.Retry
}

// change is one step towards the spec.
type change struct {
	desc string
	do   func(ctx context.Context) error
}

func dialRoles(cfg *openapi.Config) (*roles, error) {
	// NewClient writes to the configuration it is given; each client gets
	// its own copy.
	ramCfg, stsCfg := *cfg, *cfg
	r, err := ram.NewClient(&ramCfg)
	if err != nil {
		return nil, err
	}
	s, err := sts.NewClient(&stsCfg)
	if err != nil {
		return nil, err
	}
	retry := cloudapi.DefaultRetry()
	var who *sts.GetCallerIdentityResponse
	err = retry.Do(context.Background(), func(context.Context) error {
		var e error
		who, e = s.GetCallerIdentityWithOptions(&dara.RuntimeOptions{})
		return cloudapi.Classify("sts", "GetCallerIdentity", e)
	})
	if err != nil {
		return nil, fmt.Errorf("who am I: %w", err)
	}
	return &roles{ram: r, account: tea.StringValue(who.Body.AccountId), retry: retry}, nil
}

// call runs one RAM call with retries and classifies its error.
func (r *roles) call(ctx context.Context, action string, fn func(rt *dara.RuntimeOptions) error) error {
	return r.retry.Do(ctx, func(context.Context) error {
		return cloudapi.Classify("ram", action, fn(&dara.RuntimeOptions{}))
	})
}

// plan lists the changes that make the account's role match spec: create
// the role or correct its trust policy, create or update each custom
// policy, attach what is not attached. Policies attached by others are
// left alone.
func (r *roles) plan(ctx context.Context, spec policy.RoleSpec) ([]change, error) {
	var out []change
	var role *ram.GetRoleResponse
	err := r.call(ctx, "GetRole", func(rt *dara.RuntimeOptions) (e error) {
		role, e = r.ram.GetRoleWithContext(ctx, &ram.GetRoleRequest{RoleName: tea.String(spec.Name)}, rt)
		return e
	})
	exists := err == nil
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
		req := &ram.CreateRoleRequest{RoleName: tea.String(spec.Name), Description: tea.String(spec.Description),
			AssumeRolePolicyDocument: tea.String(spec.Trust.String())}
		if spec.MaxSessionDuration != 0 {
			req.MaxSessionDuration = tea.Int64(spec.MaxSessionDuration)
		}
		out = append(out, change{fmt.Sprintf("create role %s with trust policy %s", spec.Name, spec.Trust), func(ctx context.Context) error {
			return r.call(ctx, "CreateRole", func(rt *dara.RuntimeOptions) error {
				_, e := r.ram.CreateRoleWithContext(ctx, req, rt)
				return e
			})
		}})
	case err != nil:
		return nil, err
	default:
		have, perr := policy.Parse([]byte(tea.StringValue(role.Body.Role.AssumeRolePolicyDocument)))
		if perr != nil || !policy.Equivalent(have, spec.Trust) {
			out = append(out, change{fmt.Sprintf("set the trust policy of role %s to %s", spec.Name, spec.Trust), func(ctx context.Context) error {
				return r.call(ctx, "UpdateRole", func(rt *dara.RuntimeOptions) error {
					_, e := r.ram.UpdateRoleWithContext(ctx, &ram.UpdateRoleRequest{RoleName: tea.String(spec.Name),
						NewAssumeRolePolicyDocument: tea.String(spec.Trust.String())}, rt)
					return e
				})
			}})
		}
	}
	for _, cp := range spec.Policies {
		ch, err := r.planPolicy(ctx, cp)
		if err != nil {
			return nil, err
		}
		out = append(out, ch...)
	}
	attached := map[string]string{}
	if exists {
		if attached, err = r.attached(ctx, spec.Name); err != nil {
			return nil, err
		}
	}
	attach := func(typ, name string) {
		if _, ok := attached[typ+":"+strings.ToLower(name)]; ok {
			return
		}
		out = append(out, change{fmt.Sprintf("attach %s policy %s to role %s", strings.ToLower(typ), name, spec.Name), func(ctx context.Context) error {
			// A role or policy created a moment ago may not be visible to
			// AttachPolicyToRole yet: retry "not found" a few times too.
			retry := r.retry
			retry.MaxAttempts = 6
			retry.Check = func(err error) bool { return errors.Is(err, cloudapi.ErrNotFound) || cloudapi.IsRetryable(err) }
			return retry.Do(ctx, func(ctx context.Context) error {
				_, e := r.ram.AttachPolicyToRoleWithContext(ctx, &ram.AttachPolicyToRoleRequest{PolicyType: tea.String(typ),
					PolicyName: tea.String(name), RoleName: tea.String(spec.Name)}, &dara.RuntimeOptions{})
				return cloudapi.Classify("ram", "AttachPolicyToRole", e)
			})
		}})
	}
	for _, cp := range spec.Policies {
		attach("Custom", cp.Name)
	}
	for _, name := range spec.SystemPolicies {
		attach("System", name)
	}
	return out, nil
}

// planPolicy returns the change that makes a custom policy say what cp
// says, if any.
func (r *roles) planPolicy(ctx context.Context, cp policy.CustomPolicy) ([]change, error) {
	var got *ram.GetPolicyResponse
	err := r.call(ctx, "GetPolicy", func(rt *dara.RuntimeOptions) (e error) {
		got, e = r.ram.GetPolicyWithContext(ctx, &ram.GetPolicyRequest{PolicyName: tea.String(cp.Name), PolicyType: tea.String("Custom")}, rt)
		return e
	})
	doc := cp.Document.String()
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
		return []change{{fmt.Sprintf("create policy %s: %s", cp.Name, doc), func(ctx context.Context) error {
			return r.call(ctx, "CreatePolicy", func(rt *dara.RuntimeOptions) error {
				_, e := r.ram.CreatePolicyWithContext(ctx, &ram.CreatePolicyRequest{PolicyName: tea.String(cp.Name),
					Description: tea.String(cp.Description), PolicyDocument: tea.String(doc)}, rt)
				return e
			})
		}}}, nil
	case err != nil:
		return nil, err
	}
	var have string
	if v := got.Body.DefaultPolicyVersion; v != nil {
		have = tea.StringValue(v.PolicyDocument)
	}
	if d, perr := policy.Parse([]byte(have)); perr == nil && policy.Equivalent(d, cp.Document) {
		return nil, nil
	}
	return []change{{fmt.Sprintf("update policy %s (new default version): %s", cp.Name, doc), func(ctx context.Context) error {
		return r.call(ctx, "CreatePolicyVersion", func(rt *dara.RuntimeOptions) error {
			_, e := r.ram.CreatePolicyVersionWithContext(ctx, &ram.CreatePolicyVersionRequest{PolicyName: tea.String(cp.Name),
				PolicyDocument: tea.String(doc), SetAsDefault: tea.Bool(true),
				RotateStrategy: tea.String("DeleteOldestNonDefaultVersionWhenLimitExceeded")}, rt)
			return e
		})
	}}}, nil
}

// attached returns the role's attached policies by "Type:lowercase-name",
// with their names as RAM shows them.
func (r *roles) attached(ctx context.Context, role string) (map[string]string, error) {
	var got *ram.ListPoliciesForRoleResponse
	err := r.call(ctx, "ListPoliciesForRole", func(rt *dara.RuntimeOptions) (e error) {
		got, e = r.ram.ListPoliciesForRoleWithContext(ctx, &ram.ListPoliciesForRoleRequest{RoleName: tea.String(role)}, rt)
		return e
	})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if got.Body.Policies != nil {
		for _, p := range got.Body.Policies.Policy {
			name := tea.StringValue(p.PolicyName)
			out[tea.StringValue(p.PolicyType)+":"+strings.ToLower(name)] = name
		}
	}
	return out, nil
}

// planDelete lists the changes that remove the role: detach the spec's
// policies, delete the role, delete the spec's custom policies with all
// their versions. A policy someone else attached to the role makes
// DeleteRole fail with DeleteConflict.Role.Policy; it is not detached
// here, because this example did not attach it.
func (r *roles) planDelete(ctx context.Context, spec policy.RoleSpec) ([]change, error) {
	var out []change
	attached, err := r.attached(ctx, spec.Name)
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		var ours [][2]string // type, name
		for _, cp := range spec.Policies {
			ours = append(ours, [2]string{"Custom", cp.Name})
		}
		for _, n := range spec.SystemPolicies {
			ours = append(ours, [2]string{"System", n})
		}
		for _, o := range ours {
			typ := o[0]
			name, ok := attached[typ+":"+strings.ToLower(o[1])]
			if !ok {
				continue
			}
			out = append(out, change{fmt.Sprintf("detach %s policy %s from role %s", strings.ToLower(typ), name, spec.Name), func(ctx context.Context) error {
				return r.call(ctx, "DetachPolicyFromRole", func(rt *dara.RuntimeOptions) error {
					_, e := r.ram.DetachPolicyFromRoleWithContext(ctx, &ram.DetachPolicyFromRoleRequest{PolicyType: tea.String(typ),
						PolicyName: tea.String(name), RoleName: tea.String(spec.Name)}, rt)
					return e
				})
			}})
		}
		out = append(out, change{"delete role " + spec.Name, func(ctx context.Context) error {
			return r.call(ctx, "DeleteRole", func(rt *dara.RuntimeOptions) error {
				_, e := r.ram.DeleteRoleWithContext(ctx, &ram.DeleteRoleRequest{RoleName: tea.String(spec.Name)}, rt)
				return e
			})
		}})
	}
	for _, cp := range spec.Policies {
		err := r.call(ctx, "GetPolicy", func(rt *dara.RuntimeOptions) error {
			_, e := r.ram.GetPolicyWithContext(ctx, &ram.GetPolicyRequest{PolicyName: tea.String(cp.Name), PolicyType: tea.String("Custom")}, rt)
			return e
		})
		switch {
		case errors.Is(err, cloudapi.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		}
		name := cp.Name
		out = append(out, change{"delete policy " + name, func(ctx context.Context) error {
			return r.call(ctx, "DeletePolicy", func(rt *dara.RuntimeOptions) error {
				_, e := r.ram.DeletePolicyWithContext(ctx, &ram.DeletePolicyRequest{PolicyName: tea.String(name), CascadingDelete: tea.Bool(true)}, rt)
				return e
			})
		}})
	}
	return out, nil
}
