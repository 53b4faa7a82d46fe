package share

import (
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
)

// checkOrgPlan refuses, with a *SpecError before any call, a manifest plan
// that PlanManifest, Onboard or RevokeManifest could not have made, e.g.
// one edited after it was stored as JSON: every key must be a key ARN of
// the client's region whose recipients validate as a spec; pruned
// principals must be RAM roles or users of other accounts; and a
// principal's steps may only create its own role (an application or ECS
// disk role), fix its trust, and create, change, attach, detach or delete
// its own kmsshare-org policies, in its own account. Nothing else (deleting
// a role, touching another policy) can be slipped into a plan.
func (c *Client) checkOrgPlan(p *OrgPlan) error {
	var ps []SpecProblem
	add := func(field, value, reason string) {
		ps = append(ps, SpecProblem{Field: field, Value: value, Reason: reason})
	}
	for i, kp := range p.Keys {
		f := fmt.Sprintf("plan.keys[%d]", i)
		key, kerr := parseKeyARN(kp.Key.ARN, c.Region())
		if kerr != nil {
			add(f+".key.arn", kp.Key.ARN, kerr.reason)
			continue
		}
		if len(kp.Recipients) > 0 {
			if err := (&Spec{Key: key.String(), Recipients: kp.Recipients}).Validate(c.Region()); err != nil {
				if se, ok := err.(*SpecError); ok {
					for _, sp := range se.Problems {
						add(f+"."+sp.Field, sp.Value, sp.Reason)
					}
				}
			}
		}
		for j, s := range kp.Pruned {
			if r, ok := recipientOf(s); !ok || r.Account == key.AccountID || arn.ValidateAccountID(r.Account) != nil {
				add(fmt.Sprintf("%s.pruned[%d]", f, j), s, "not a RAM role or user of another account")
			}
		}
	}
	for i, pr := range p.Principals {
		f := fmt.Sprintf("plan.principals[%d]", i)
		r := pr.Recipient
		if err := arn.ValidateAccountID(r.Account); err != nil || r.Account != pr.Account ||
			!strings.EqualFold(r.PrincipalARN().String(), pr.Principal) {
			add(f, pr.Principal, "the principal does not match its recipient")
			continue
		}
		principal := r.PrincipalARN()
		name := r.roleOrUserName()
		for j, st := range pr.Steps {
			if reason := orgStepProblem(r, principal, name, st); reason != "" {
				add(fmt.Sprintf("%s.steps[%d]", f, j), st.String(), reason)
			}
		}
	}
	if len(ps) > 0 {
		return &SpecError{Problems: ps}
	}
	return nil
}

// orgStepProblem says why a step cannot belong to a manifest plan for r,
// or "".
func orgStepProblem(r Recipient, principal arn.ARN, name string, st Step) string {
	if st.Account != r.Account {
		return "acts in account " + st.Account + ", not the recipient's " + r.Account
	}
	switch st.Action {
	case StepCreateRole, StepUpdateTrust:
		switch {
		case r.kind() == PrincipalUser || r.kind() == PrincipalRDAccessRole:
			return "this library never creates or changes a " + string(r.kind())
		case !strings.EqualFold(st.Role, name):
			return "names role " + st.Role + ", not the recipient's " + name
		case r.kind() == PrincipalECSDiskRole && st.Action == StepCreateRole && !strings.EqualFold(st.Role, ecsroles.DiskEncryptRoleName):
			return "not the ECS disk role"
		}
	case StepCreatePolicy, StepCreatePolicyVersion, StepAttachPolicy, StepDetachPolicy, StepDeletePolicy:
		if _, ours := orgPolicyIndex(principal, st.Policy); !ours || (st.PolicyType != "" && st.PolicyType != "Custom") {
			return "policy " + st.Policy + " is not one of the recipient's kmsshare-org policies"
		}
		if (st.Action == StepAttachPolicy || st.Action == StepDetachPolicy) && !strings.EqualFold(st.Role, name) {
			return "names " + st.Role + ", not the recipient's " + name
		}
		if (st.Action == StepAttachPolicy || st.Action == StepDetachPolicy) && st.User != (r.kind() == PrincipalUser) {
			return "attaches to the wrong kind of principal"
		}
	default:
		return "a manifest plan never has this step"
	}
	return ""
}
