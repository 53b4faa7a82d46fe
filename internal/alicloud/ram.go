package alicloud

import (
	"context"
	"fmt"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// RAM is the RAM adapter.
type RAM struct {
	pool  *pool[ram.Client]
	retry cloudapi.Retry
}

// Role is what GetRole reports.
type Role struct {
	Name               string // display case
	ARN                string // role name in lower case
	ID                 string
	Description        string
	TrustPolicy        string
	MaxSessionDuration int64
}

// GetRole reads a role; a missing role is a cloudapi.ErrNotFound error.
func (r *RAM) GetRole(ctx context.Context, name string) (Role, error) {
	var role Role
	err := r.pool.do(ctx, r.retry, "ram", "GetRole", func(ctx context.Context, cl *ram.Client) error {
		resp, err := cl.GetRoleWithContext(ctx, &ram.GetRoleRequest{RoleName: tea.String(name)}, rt())
		if err != nil {
			return err
		}
		if resp.Body == nil || resp.Body.Role == nil {
			return fmt.Errorf("GetRole: empty response")
		}
		x := resp.Body.Role
		role = Role{Name: tea.StringValue(x.RoleName), ARN: tea.StringValue(x.Arn), ID: tea.StringValue(x.RoleId),
			Description: tea.StringValue(x.Description), TrustPolicy: tea.StringValue(x.AssumeRolePolicyDocument),
			MaxSessionDuration: tea.Int64Value(x.MaxSessionDuration)}
		return nil
	})
	return role, err
}

// CreateRole creates a role; maxSession 0 leaves RAM's default.
func (r *RAM) CreateRole(ctx context.Context, name, description, trust string, maxSession int64) (Role, error) {
	var role Role
	err := r.pool.do(ctx, r.retry, "ram", "CreateRole", func(ctx context.Context, cl *ram.Client) error {
		req := &ram.CreateRoleRequest{RoleName: tea.String(name), AssumeRolePolicyDocument: tea.String(trust)}
		if description != "" {
			req.Description = tea.String(description)
		}
		if maxSession != 0 {
			req.MaxSessionDuration = tea.Int64(maxSession)
		}
		resp, err := cl.CreateRoleWithContext(ctx, req, rt())
		if err != nil {
			return err
		}
		if resp.Body == nil || resp.Body.Role == nil {
			return fmt.Errorf("CreateRole: empty response")
		}
		x := resp.Body.Role
		role = Role{Name: tea.StringValue(x.RoleName), ARN: tea.StringValue(x.Arn), ID: tea.StringValue(x.RoleId),
			TrustPolicy: tea.StringValue(x.AssumeRolePolicyDocument), MaxSessionDuration: tea.Int64Value(x.MaxSessionDuration)}
		return nil
	})
	return role, err
}

// UpdateRoleTrust replaces a role's trust policy.
func (r *RAM) UpdateRoleTrust(ctx context.Context, name, trust string) error {
	return r.pool.do(ctx, r.retry, "ram", "UpdateRole", func(ctx context.Context, cl *ram.Client) error {
		_, err := cl.UpdateRoleWithContext(ctx, &ram.UpdateRoleRequest{RoleName: tea.String(name),
			NewAssumeRolePolicyDocument: tea.String(trust)}, rt())
		return err
	})
}

// Policy is a RAM policy with its default version's document.
type Policy struct {
	Name           string
	Type           string // "Custom" or "System"
	DefaultVersion string
	Document       string
}

// GetPolicy reads a policy and its default version's document.
func (r *RAM) GetPolicy(ctx context.Context, name, policyType string) (Policy, error) {
	var p Policy
	err := r.pool.do(ctx, r.retry, "ram", "GetPolicy", func(ctx context.Context, cl *ram.Client) error {
		resp, err := cl.GetPolicyWithContext(ctx, &ram.GetPolicyRequest{PolicyName: tea.String(name), PolicyType: tea.String(policyType)}, rt())
		if err != nil {
			return err
		}
		p = Policy{Name: name, Type: policyType}
		if pol := resp.Body.Policy; pol != nil {
			p.Name, p.Type, p.DefaultVersion = tea.StringValue(pol.PolicyName), tea.StringValue(pol.PolicyType), tea.StringValue(pol.DefaultVersion)
		}
		// Policy.PolicyDocument is deprecated ("N/A"); the document is the default version's.
		if v := resp.Body.DefaultPolicyVersion; v != nil {
			p.Document = tea.StringValue(v.PolicyDocument)
			if p.DefaultVersion == "" {
				p.DefaultVersion = tea.StringValue(v.VersionId)
			}
		}
		return nil
	})
	return p, err
}

// CreatePolicy creates a custom policy.
func (r *RAM) CreatePolicy(ctx context.Context, name, description, document string) error {
	return r.pool.do(ctx, r.retry, "ram", "CreatePolicy", func(ctx context.Context, cl *ram.Client) error {
		req := &ram.CreatePolicyRequest{PolicyName: tea.String(name), PolicyDocument: tea.String(document)}
		if description != "" {
			req.Description = tea.String(description)
		}
		_, err := cl.CreatePolicyWithContext(ctx, req, rt())
		return err
	})
}

// CreateDefaultPolicyVersion adds a version and makes it the default,
// deleting the oldest non-default version when the policy already has the
// maximum of five, so the version limit never blocks an update.
func (r *RAM) CreateDefaultPolicyVersion(ctx context.Context, name, document string) (string, error) {
	var id string
	err := r.pool.do(ctx, r.retry, "ram", "CreatePolicyVersion", func(ctx context.Context, cl *ram.Client) error {
		resp, err := cl.CreatePolicyVersionWithContext(ctx, &ram.CreatePolicyVersionRequest{
			PolicyName: tea.String(name), PolicyDocument: tea.String(document), SetAsDefault: tea.Bool(true),
			RotateStrategy: tea.String("DeleteOldestNonDefaultVersionWhenLimitExceeded")}, rt())
		if err != nil {
			return err
		}
		if resp.Body.PolicyVersion != nil {
			id = tea.StringValue(resp.Body.PolicyVersion.VersionId)
		}
		return nil
	})
	return id, err
}

// DeletePolicy deletes a custom policy with all its versions.
func (r *RAM) DeletePolicy(ctx context.Context, name string) error {
	return r.pool.do(ctx, r.retry, "ram", "DeletePolicy", func(ctx context.Context, cl *ram.Client) error {
		_, err := cl.DeletePolicyWithContext(ctx, &ram.DeletePolicyRequest{PolicyName: tea.String(name), CascadingDelete: tea.Bool(true)}, rt())
		return err
	})
}

// Attached is a policy attached to a role or user.
type Attached struct {
	Name string
	Type string // "Custom" or "System"
}

// ListPoliciesForRole lists the policies attached to a role.
func (r *RAM) ListPoliciesForRole(ctx context.Context, role string) ([]Attached, error) {
	var out []Attached
	err := r.pool.do(ctx, r.retry, "ram", "ListPoliciesForRole", func(ctx context.Context, cl *ram.Client) error {
		resp, err := cl.ListPoliciesForRoleWithContext(ctx, &ram.ListPoliciesForRoleRequest{RoleName: tea.String(role)}, rt())
		if err != nil {
			return err
		}
		out = out[:0]
		if resp.Body.Policies != nil {
			for _, p := range resp.Body.Policies.Policy {
				out = append(out, Attached{Name: tea.StringValue(p.PolicyName), Type: tea.StringValue(p.PolicyType)})
			}
		}
		return nil
	})
	return out, err
}

// AttachPolicyToRole attaches a policy to a role.
func (r *RAM) AttachPolicyToRole(ctx context.Context, policyType, policyName, role string) error {
	return r.pool.do(ctx, r.retry, "ram", "AttachPolicyToRole", func(ctx context.Context, cl *ram.Client) error {
		_, err := cl.AttachPolicyToRoleWithContext(ctx, &ram.AttachPolicyToRoleRequest{
			PolicyType: tea.String(policyType), PolicyName: tea.String(policyName), RoleName: tea.String(role)}, rt())
		return err
	})
}

// DetachPolicyFromRole detaches a policy from a role.
func (r *RAM) DetachPolicyFromRole(ctx context.Context, policyType, policyName, role string) error {
	return r.pool.do(ctx, r.retry, "ram", "DetachPolicyFromRole", func(ctx context.Context, cl *ram.Client) error {
		_, err := cl.DetachPolicyFromRoleWithContext(ctx, &ram.DetachPolicyFromRoleRequest{
			PolicyType: tea.String(policyType), PolicyName: tea.String(policyName), RoleName: tea.String(role)}, rt())
		return err
	})
}

// GetUser checks that a RAM user exists and returns its display name.
func (r *RAM) GetUser(ctx context.Context, name string) (string, error) {
	var got string
	err := r.pool.do(ctx, r.retry, "ram", "GetUser", func(ctx context.Context, cl *ram.Client) error {
		resp, err := cl.GetUserWithContext(ctx, &ram.GetUserRequest{UserName: tea.String(name)}, rt())
		if err != nil {
			return err
		}
		if resp.Body.User != nil {
			got = tea.StringValue(resp.Body.User.UserName)
		}
		return nil
	})
	return got, err
}

// ListPoliciesForUser lists the policies attached to a user.
func (r *RAM) ListPoliciesForUser(ctx context.Context, user string) ([]Attached, error) {
	var out []Attached
	err := r.pool.do(ctx, r.retry, "ram", "ListPoliciesForUser", func(ctx context.Context, cl *ram.Client) error {
		resp, err := cl.ListPoliciesForUserWithContext(ctx, &ram.ListPoliciesForUserRequest{UserName: tea.String(user)}, rt())
		if err != nil {
			return err
		}
		out = out[:0]
		if resp.Body.Policies != nil {
			for _, p := range resp.Body.Policies.Policy {
				out = append(out, Attached{Name: tea.StringValue(p.PolicyName), Type: tea.StringValue(p.PolicyType)})
			}
		}
		return nil
	})
	return out, err
}

// AttachPolicyToUser attaches a policy to a user.
func (r *RAM) AttachPolicyToUser(ctx context.Context, policyType, policyName, user string) error {
	return r.pool.do(ctx, r.retry, "ram", "AttachPolicyToUser", func(ctx context.Context, cl *ram.Client) error {
		_, err := cl.AttachPolicyToUserWithContext(ctx, &ram.AttachPolicyToUserRequest{
			PolicyType: tea.String(policyType), PolicyName: tea.String(policyName), UserName: tea.String(user)}, rt())
		return err
	})
}

// DetachPolicyFromUser detaches a policy from a user.
func (r *RAM) DetachPolicyFromUser(ctx context.Context, policyType, policyName, user string) error {
	return r.pool.do(ctx, r.retry, "ram", "DetachPolicyFromUser", func(ctx context.Context, cl *ram.Client) error {
		_, err := cl.DetachPolicyFromUserWithContext(ctx, &ram.DetachPolicyFromUserRequest{
			PolicyType: tea.String(policyType), PolicyName: tea.String(policyName), UserName: tea.String(user)}, rt())
		return err
	})
}

// DeleteRole deletes a role, which must have no policies attached.
func (r *RAM) DeleteRole(ctx context.Context, name string) error {
	return r.pool.do(ctx, r.retry, "ram", "DeleteRole", func(ctx context.Context, cl *ram.Client) error {
		_, err := cl.DeleteRoleWithContext(ctx, &ram.DeleteRoleRequest{RoleName: tea.String(name)}, rt())
		return err
	})
}
