package policy

import (
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// RoleSpec describes a RAM role as it should exist in an account: its trust
// policy, the custom policies attached to it and the system policies
// attached to it. The ecsroles package produces specs for the ECS encryption
// roles; the share package creates and updates roles from specs.
type RoleSpec struct {
	Name               string         // display name, e.g. "AliyunECSDiskEncryptDefaultRole"
	Description        string         // 0 to 1024 characters
	Trust              *Document      // the trust policy (AssumeRolePolicyDocument)
	Policies           []CustomPolicy // custom permission policies to create and attach
	SystemPolicies     []string       // system policies to attach, e.g. "AliyunKMSFullAccess"
	MaxSessionDuration int64          // seconds, 3600 to 43200; 0 means RAM's default (3600)
}

// CustomPolicy is a custom RAM permission policy by name.
type CustomPolicy struct {
	Name        string // 1 to 128 letters, digits and '-'
	Description string
	Document    *Document
}

// ARN returns the role's ARN in account (role name in lower case).
func (r RoleSpec) ARN(account string) arn.ARN { return arn.RAMRole(account, r.Name) }

// Validate checks the spec against RAM's rules and the kinds of its
// documents, so that creating it cannot fail on input.
func (r RoleSpec) Validate() error {
	if err := arn.ValidateRoleName(r.Name); err != nil {
		return &GrantError{Reason: "invalid role name", Err: err}
	}
	if len(r.Description) > 1024 {
		return &GrantError{Reason: fmt.Sprintf("role %s: description longer than 1024 characters", r.Name)}
	}
	if r.MaxSessionDuration != 0 && (r.MaxSessionDuration < 3600 || r.MaxSessionDuration > 43200) {
		return &GrantError{Reason: fmt.Sprintf("role %s: MaxSessionDuration %d outside 3600..43200 seconds", r.Name, r.MaxSessionDuration)}
	}
	if r.Trust == nil {
		return &GrantError{Reason: fmt.Sprintf("role %s: no trust policy", r.Name)}
	}
	if err := r.Trust.Validate(Trust); err != nil {
		return fmt.Errorf("role %s: %w", r.Name, err)
	}
	seen := map[string]bool{}
	for _, p := range r.Policies {
		if err := ValidatePolicyName(p.Name); err != nil {
			return fmt.Errorf("role %s: %w", r.Name, err)
		}
		if seen[strings.ToLower(p.Name)] {
			return &GrantError{Reason: fmt.Sprintf("role %s: policy %s listed twice", r.Name, p.Name)}
		}
		seen[strings.ToLower(p.Name)] = true
		if len(p.Description) > 1024 {
			return &GrantError{Reason: fmt.Sprintf("policy %s: description longer than 1024 characters", p.Name)}
		}
		if p.Document == nil {
			return &GrantError{Reason: fmt.Sprintf("policy %s: no document", p.Name)}
		}
		if err := p.Document.Validate(Permission); err != nil {
			return fmt.Errorf("policy %s: %w", p.Name, err)
		}
	}
	for _, name := range r.SystemPolicies {
		if err := ValidatePolicyName(name); err != nil {
			return fmt.Errorf("role %s: system %w", r.Name, err)
		}
	}
	return nil
}

// ValidatePolicyName checks a RAM policy name: 1 to 128 letters, digits and
// '-'.
func ValidatePolicyName(name string) error {
	if name == "" || len(name) > 128 {
		return &GrantError{Reason: fmt.Sprintf("policy name %q: want 1 to 128 characters", name)}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return &GrantError{Reason: fmt.Sprintf("policy name %q: letters, digits and '-' only", name)}
		}
	}
	return nil
}
