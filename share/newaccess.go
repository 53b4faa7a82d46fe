package share

import (
	"strings"

	"github.com/kmsshare/kmsshare/policy"
)

// ProblemUnintendedAccess: the new key policy would let a principal do
// something the spec does not ask for (policy.CheckNoNewAccess): for a
// share, a principal that is not one of the spec's recipients; for a
// revoke, anyone at all.
const ProblemUnintendedAccess = "key-policy-new-access"

// checkNewAccess records, in the plan, every grant the desired key policy
// may add (policy.CheckNoNewAccess) and refuses those the plan does not
// mean: a share may add access only for its recipients, a revoke none.
func checkNewAccess(p *Plan, owner string) {
	p.KeyPolicy.NewAccess = policy.CheckNoNewAccess(p.KeyPolicy.Current, p.KeyPolicy.Desired)
	meant := map[string]bool{}
	if p.Operation == OpShare {
		for _, r := range p.Spec.Recipients {
			// RAM compares role and user names case-insensitively.
			meant[strings.ToLower("RAM "+r.PrincipalARN().String())] = true
		}
	}
	for _, n := range p.KeyPolicy.NewAccess {
		if !meant[strings.ToLower(n.Principal)] {
			p.Problems = append(p.Problems, Problem{Code: ProblemUnintendedAccess, Account: owner,
				Message: "the new key policy would grant what the " + string(p.Operation) + " does not ask for: " + n.String()})
		}
	}
}
