package share

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// planOrgKey reads one key and plans its policy: every recipient granted,
// and with prune the principals it no longer selects removed.
//
// brief (onboarding) lists in Changes only the changes to rs's grants.
func (c *Client) planOrgKey(ctx context.Context, key arn.ARN, rs []Recipient, prune, brief bool) (OrgKeyPlan, error) {
	kp := OrgKeyPlan{Recipients: rs}
	owner, err := c.account(ctx, key.AccountID, "")
	if err != nil {
		return kp, err
	}
	p := &Plan{Operation: OpShare}
	if err := c.readKey(ctx, owner, key, p); err != nil {
		return kp, err
	}
	kp.Key, kp.Problems = p.Key, p.Problems
	if p.KeyPolicy.Current == nil {
		return kp, nil
	}
	desired, err := grantAll(p.KeyPolicy.Current, key.AccountID, rs)
	if err != nil {
		return kp, fmt.Errorf("share: %w", err)
	}
	want := map[string]bool{}
	for _, r := range rs {
		want[r.PrincipalARN().Canonical().String()] = true
	}
	var stale []arn.ARN
	for _, s := range ownedPrincipals(p.KeyPolicy.Current) {
		a, err := arn.Parse(s)
		if err != nil || a.AccountID == key.AccountID || want[a.Canonical().String()] {
			continue
		}
		stale = append(stale, a)
		if prune {
			kp.Pruned = append(kp.Pruned, s)
		} else {
			kp.Stale = append(kp.Stale, s)
		}
	}
	if prune && len(stale) > 0 {
		if desired, err = policy.RemoveCrossAccountUsers(desired, key.AccountID, stale...); err != nil {
			return kp, fmt.Errorf("share: %w", err)
		}
	}
	kp.KeyPolicy = KeyPolicyPlan{Current: p.KeyPolicy.Current, Desired: desired}
	if brief {
		// Onboarding: only the newcomer's grants can change; diffing the
		// whole policy (every member's grants) costs more than the rest.
		ps := map[string]bool{}
		for _, r := range rs {
			ps[strings.ToLower(r.PrincipalARN().String())] = true
		}
		kp.KeyPolicy.Changes = policy.Diff(onlyPrincipals(p.KeyPolicy.Current, ps), onlyPrincipals(desired, ps))
	} else {
		kp.KeyPolicy.Changes = policy.Diff(p.KeyPolicy.Current, desired)
	}
	if kp.KeyPolicy.Changes == nil {
		kp.KeyPolicy.Changes = []policy.Change{}
	}
	if !kp.KeyPolicy.NeedsWrite() {
		return kp, nil // unchanged: nothing to lint or to measure (Inventory lints a key as it is)
	}
	// The same guard as a single-key plan: the new policy may give new
	// access only to this key's recipients.
	// Only statements the edit changed can add access, and checking whole
	// policies of hundreds of principals costs a tenth of a second a key.
	was, will := changedStatements(p.KeyPolicy.Current, desired)
	guard := &Plan{Operation: OpShare, Spec: Spec{Key: key.String(), Recipients: rs},
		KeyPolicy: KeyPolicyPlan{Current: was, Desired: will}}
	checkNewAccess(guard, key.AccountID)
	kp.KeyPolicy.NewAccess = guard.KeyPolicy.NewAccess
	kp.Problems = append(kp.Problems, guard.Problems...)
	var problems []Problem
	kp.Findings, problems = lintKeyPolicy(p.KeyPolicy.Current, desired, key.AccountID, "the new key policy of "+key.String())
	kp.Problems = append(kp.Problems, problems...)
	// Limits said early: the policy's size.
	cur, _ := p.KeyPolicy.Current.Marshal()
	next, _ := desired.Marshal()
	kp.Bytes = len(next)
	if len(next) > policy.MaxKeyPolicyBytes {
		added := len(newForeignPrincipals(p.KeyPolicy.Current, desired))
		fits := 0
		if added > 0 && len(next) > len(cur) {
			per := float64(len(next)-len(cur)) / float64(added)
			fits = max(0, int(float64(policy.MaxKeyPolicyBytes-len(cur))/per))
		}
		kp.Problems = append(kp.Problems, Problem{Code: ProblemKeyPolicyTooLarge, Account: key.AccountID, Message: fmt.Sprintf(
			"the key policy of %s would be %d bytes, over KMS's limit of %d; of the %d principals this plan adds, about %d fit "+
				"(grant fewer accounts per key, or several keys)", key, len(next), policy.MaxKeyPolicyBytes, added, fits)})
	}
	return kp, nil
}

// newForeignPrincipals are the RAM principals desired grants and current
// does not.
func newForeignPrincipals(current, desired *policy.Document) []string {
	have := map[string]bool{}
	for _, s := range ownedPrincipals(current) {
		have[s] = true
	}
	var out []string
	for _, s := range ownedPrincipals(desired) {
		if !have[s] {
			out = append(out, s)
		}
	}
	return out
}

// keyGrants reads, from the org policies this library wrote, which keys
// they allow with which actions.
func keyGrants(docs ...*policy.Document) map[string][]string {
	out := map[string][]string{}
	for _, d := range docs {
		if d == nil {
			continue
		}
		for _, s := range d.Statement {
			if s.Effect != policy.Allow {
				continue
			}
			for _, res := range s.Resource.Values {
				a, err := arn.Parse(res)
				if err != nil || a.Service != "kms" || a.ResourceType() != "key" || a.ResourceName() == "" {
					continue
				}
				out[a.String()] = slices.Clone(s.Action.Values)
			}
		}
	}
	return out
}

// changedStatements returns the statements of cur that next does not have
// unchanged, and those of next that cur does not: where an edit can have
// added access. A statement whose only change is its list of RAM
// principals (as SetCrossAccountUsers makes) is reduced to the principals
// that left it (in the first) and that joined it (in the second): the
// others' access through it is unchanged. Statements are compared as
// one-statement documents.
func changedStatements(cur, next *policy.Document) (*policy.Document, *policy.Document) {
	one := func(st policy.Statement) *policy.Document {
		return &policy.Document{Version: cur.Version, Statement: []policy.Statement{st}}
	}
	in := func(st policy.Statement, d *policy.Document) bool {
		for _, o := range d.Statement {
			if o.Sid == st.Sid && policy.Equivalent(one(o), one(st)) {
				return true
			}
		}
		return false
	}
	var was, will []policy.Statement
	for _, st := range cur.Statement {
		if !in(st, next) {
			was = append(was, st)
		}
	}
	for _, st := range next.Statement {
		if !in(st, cur) {
			will = append(will, st)
		}
	}
	before := &policy.Document{Version: cur.Version}
	after := &policy.Document{Version: next.Version}
	paired := map[int]bool{} // indexes in will reduced with their old version
	for _, o := range was {
		j := slices.IndexFunc(will, func(n policy.Statement) bool { return n.Sid == o.Sid && o.Sid != "" && samePrincipalFree(o, n) })
		if j < 0 || paired[j] {
			before.Statement = append(before.Statement, o)
			continue
		}
		paired[j] = true
		n := will[j]
		left, joined := minus(o.Principal.RAM.Values, n.Principal.RAM.Values), minus(n.Principal.RAM.Values, o.Principal.RAM.Values)
		if len(left) > 0 {
			before.Statement = append(before.Statement, withRAM(o, left))
		}
		if len(joined) > 0 {
			after.Statement = append(after.Statement, withRAM(n, joined))
		}
	}
	for j, n := range will {
		if !paired[j] {
			after.Statement = append(after.Statement, n)
		}
	}
	return before, after
}

// samePrincipalFree reports whether two statements with RAM principals
// only say the same thing apart from which principals they name.
func samePrincipalFree(a, b policy.Statement) bool {
	if a.Principal == nil || b.Principal == nil || a.Principal.Service.IsSet() || b.Principal.Service.IsSet() ||
		a.Principal.Federated.IsSet() || b.Principal.Federated.IsSet() {
		return false
	}
	const stand = "acs:ram::1000000000000001:root"
	da := &policy.Document{Version: "1", Statement: []policy.Statement{withRAM(a, []string{stand})}}
	db := &policy.Document{Version: "1", Statement: []policy.Statement{withRAM(b, []string{stand})}}
	return policy.Equivalent(da, db)
}

// withRAM is st naming the RAM principals ps (and nothing else).
func withRAM(st policy.Statement, ps []string) policy.Statement {
	return policy.Statement{Sid: st.Sid, Effect: st.Effect, Principal: &policy.Principal{RAM: policy.List(ps...)},
		Action: st.Action, NotAction: st.NotAction, Resource: st.Resource, NotResource: st.NotResource, Condition: st.Condition}
}

// minus returns the values of a not in b (RAM compares names
// case-insensitively).
func minus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, v := range b {
		in[strings.ToLower(v)] = true
	}
	var out []string
	for _, v := range a {
		if !in[strings.ToLower(v)] {
			out = append(out, v)
		}
	}
	return out
}

// onlyPrincipals returns the Allow statements of d reduced to the RAM
// principals in ps (lower-case ARNs), for a diff of their grants alone.
func onlyPrincipals(d *policy.Document, ps map[string]bool) *policy.Document {
	out := &policy.Document{Version: d.Version}
	for _, s := range d.Statement {
		if s.Principal == nil {
			continue
		}
		var keep []string
		for _, p := range s.Principal.RAM.Values {
			if ps[strings.ToLower(p)] {
				keep = append(keep, p)
			}
		}
		if len(keep) == 0 {
			continue
		}
		out.Statement = append(out.Statement, policy.Statement{Sid: s.Sid, Effect: s.Effect, Principal: &policy.Principal{RAM: policy.List(keep...)},
			Action: s.Action, NotAction: s.NotAction, Resource: s.Resource, NotResource: s.NotResource, Condition: s.Condition})
	}
	return out
}

// ownedPrincipals are the principals of the cross-account statements this
// library owns in d.
func ownedPrincipals(d *policy.Document) []string {
	set := map[string]bool{}
	for _, s := range d.Statement {
		if s.Principal != nil && s.Effect == policy.Allow && strings.HasPrefix(s.Sid, policy.SidCrossAccountUsers) {
			for _, p := range s.Principal.RAM.Values {
				set[p] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
