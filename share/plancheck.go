package share

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/policy"
)

// checkPlan refuses a plan that Plan or PlanRevoke could not have made for
// its own spec. A plan is data that may have been stored as JSON and edited,
// and Apply acts on it in other accounts: the spec must validate, and every
// recipient, principal and step must follow from it. The answer is a
// *SpecError, before any API call.
func (c *Client) checkPlan(p *Plan) error {
	if p == nil {
		return &SpecError{Problems: []SpecProblem{{Field: "plan", Reason: "no plan"}}}
	}
	if err := p.Spec.Validate(c.Region()); err != nil {
		return err
	}
	var ps []SpecProblem
	add := func(field, value, reason string) {
		ps = append(ps, SpecProblem{Field: field, Value: value, Reason: reason})
	}
	key := p.Spec.KeyARN()
	if p.Key.ARN != key.String() {
		add("plan.key.arn", p.Key.ARN, "is not the spec's key "+key.String())
	}
	if p.Operation != OpShare && p.Operation != OpRevoke {
		add("plan.operation", string(p.Operation), `unknown operation; want "share" or "revoke"`)
	}
	if len(p.Recipients) != len(p.Spec.Recipients) {
		add("plan.recipients", "", fmt.Sprintf("%d recipient plans for the spec's %d recipients", len(p.Recipients), len(p.Spec.Recipients)))
	} else {
		for i, rp := range p.Recipients {
			f := fmt.Sprintf("plan.recipients[%d]", i)
			want := p.Spec.Recipients[i]
			if !sameRecipient(rp.Recipient, want) {
				add(f+".recipient", rp.Recipient.String(), fmt.Sprintf("differs from spec.recipients[%d] (%s)", i, want))
				continue
			}
			if rp.Principal != want.PrincipalARN().String() {
				add(f+".principal", rp.Principal, "is not the recipient's principal "+want.PrincipalARN().String())
			}
			for j, st := range rp.Steps {
				if reason := stepProblem(p.Operation, key, want, st); reason != "" {
					add(fmt.Sprintf("%s.steps[%d]", f, j), st.String(), reason)
				}
			}
		}
	}
	ps = append(ps, checkNetworkPlan(p)...)
	if len(ps) > 0 {
		return &SpecError{Problems: ps}
	}
	return nil
}

// sameRecipient reports whether two recipients ask for the same thing.
func sameRecipient(a, b Recipient) bool {
	trust := a.Trust == nil && b.Trust == nil ||
		a.Trust != nil && b.Trust != nil && policy.Equivalent(a.Trust, b.Trust)
	network := a.Network == nil && b.Network == nil || a.Network != nil && b.Network != nil && *a.Network == *b.Network
	return a.Account == b.Account && a.kind() == b.kind() && a.Name == b.Name && a.AccessRole == b.AccessRole &&
		(a.Actions == nil) == (b.Actions == nil) && slices.Equal(a.Actions, b.Actions) && trust && network
}

// stepProblem says why st is not a step that a plan of op makes for r, or "".
func stepProblem(op Operation, key arn.ARN, r Recipient, st Step) string {
	if st.Account != r.Account {
		return "is for account " + st.Account + ", not the recipient's " + r.Account
	}
	name, isUser := r.roleOrUserName(), r.kind() == PrincipalUser
	ours := RecipientPolicyName(key, r.PrincipalARN())
	subject := func() string {
		if !strings.EqualFold(st.Role, name) || st.User != isUser {
			return "names " + st.Role + ", not the recipient's principal " + name
		}
		return ""
	}
	policyName := func() string {
		if !strings.EqualFold(st.Policy, ours) {
			return "names policy " + st.Policy + ", not the recipient's kmsshare policy " + ours
		}
		if st.PolicyType != "" && st.PolicyType != "Custom" {
			return "names a " + st.PolicyType + " policy; kmsshare only manages its custom policy " + ours
		}
		return ""
	}
	first := func(reasons ...func() string) string {
		for _, f := range reasons {
			if s := f(); s != "" {
				return s
			}
		}
		return ""
	}
	switch {
	case op == OpShare && (st.Action == StepCreateRole || st.Action == StepUpdateTrust):
		return first(subject, func() string { return trustProblem(key, r, st) })
	case op == OpShare && (st.Action == StepCreatePolicy || st.Action == StepCreatePolicyVersion):
		return first(policyName, func() string {
			acts, err := r.actions()
			if err != nil {
				return reasonOf(err)
			}
			want, err := policy.KeyPermission(acts, key)
			if err != nil || st.Document == nil || !policy.Equivalent(st.Document, want) {
				return "the policy document is not the recipient's permission on the key"
			}
			return ""
		})
	case op == OpShare && st.Action == StepAttachPolicy,
		op == OpRevoke && st.Action == StepDetachPolicy:
		return first(subject, policyName)
	case op == OpRevoke && st.Action == StepDeletePolicy:
		return policyName()
	case op == OpRevoke && st.Action == StepDeleteRole:
		if r.kind() != PrincipalRole {
			return "only an application role kmsshare created is ever deleted, never a " + string(r.kind())
		}
		return subject()
	}
	return fmt.Sprintf("a %s plan never has a %s step", op, st.Action)
}

// trustProblem checks a create-role or update-trust step's trust policy
// (and a new application role's description, which marks it as ours).
func trustProblem(key arn.ARN, r Recipient, st Step) string {
	var want []*policy.Document
	switch r.kind() {
	case PrincipalRole:
		switch {
		case r.Trust != nil:
			want = append(want, r.Trust)
		case st.Action == StepCreateRole:
			d, _ := policy.TrustRAM(arn.AccountRoot(r.Account))
			want = append(want, d)
		}
		if st.Action == StepCreateRole && st.Description != createdRoleDescription(key) {
			return "a role kmsshare creates is described as " + fmt.Sprintf("%q", createdRoleDescription(key))
		}
	case PrincipalECSDiskRole:
		if spec, err := ecsroles.DiskEncrypt(key); err == nil {
			want = append(want, spec.Trust)
		}
		d, _ := policy.TrustService(arn.ECS(""))
		want = append(want, d)
	default:
		return "kmsshare never creates or changes a " + string(r.kind())
	}
	for _, w := range want {
		if st.Document != nil && w != nil && policy.Equivalent(st.Document, w) {
			return ""
		}
	}
	return "the trust policy is not the one the spec asks for"
}
