package policy

import (
	"slices"
	"strings"
)

// Grant is one permission a document expresses: a principal (absent in
// identity policies) allowed or denied an action on a resource, under a
// condition. Documents are compared grant by grant.
type Grant struct {
	Effect        Effect `json:"effect"`
	PrincipalType string `json:"principalType,omitempty"` // "RAM", "Service" or "Federated"
	Principal     string `json:"principal,omitempty"`
	Action        string `json:"action"`
	NotAction     bool   `json:"notAction,omitempty"` // the statement grants everything but Action
	Resource      string `json:"resource,omitempty"`  // "" when the statement has no Resource (trust policies)
	NotResource   bool   `json:"notResource,omitempty"`
	Condition     string `json:"condition,omitempty"` // the statement's Condition as compact JSON
	Sid           string `json:"sid,omitempty"`       // the statement it comes from; not compared

	condKey string // Condition with operator names and keys folded, for comparison
}

// String renders the grant for a plan, e.g.
// "Allow RAM acs:ram::2222222222222222:role/app kms:Decrypt on *".
func (g Grant) String() string {
	var b strings.Builder
	b.WriteString(string(g.Effect))
	if g.Principal != "" {
		b.WriteString(" " + g.PrincipalType + " " + g.Principal)
	}
	if g.NotAction {
		b.WriteString(" every action but")
	}
	b.WriteString(" " + g.Action)
	if g.Resource != "" {
		if g.NotResource {
			b.WriteString(" on everything but " + g.Resource)
		} else {
			b.WriteString(" on " + g.Resource)
		}
	}
	if g.Condition != "" {
		b.WriteString(" if " + g.Condition)
	}
	return b.String()
}

// key is the grant's identity for comparison: case-insensitive where RAM is.
func (g Grant) key() string {
	principal := g.Principal
	if g.PrincipalType == "RAM" {
		principal = canonicalResource(principal)
	}
	return strings.Join([]string{
		string(g.Effect), g.PrincipalType, principal, strings.ToLower(g.Action),
		boolKey(g.NotAction), canonicalResource(g.Resource), boolKey(g.NotResource), g.condKey,
	}, "\x00")
}

func boolKey(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Grants expands a document into its grants: one per principal × action ×
// resource of every statement, without duplicates, in a stable order.
func Grants(d *Document) []Grant {
	kgs := grants(d)
	if kgs == nil {
		return nil
	}
	out := make([]Grant, len(kgs))
	for i, kg := range kgs {
		out[i] = kg.Grant
	}
	return out
}

// keyedGrant is a grant with its key, computed once.
type keyedGrant struct {
	Grant
	key string
}

// grants is Grants with each grant's key.
func grants(d *Document) []keyedGrant {
	if d == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []keyedGrant
	for _, s := range d.Statement {
		cond, condKey := "", ""
		if len(s.Condition) > 0 {
			cond = string(s.canonical().Condition.appendJSON(nil))
			condKey = string(foldCondition(s.Condition).appendJSON(nil))
		}
		type principal struct{ typ, value string }
		principals := []principal{{}}
		if s.Principal != nil {
			principals = principals[:0]
			for _, pt := range []struct {
				typ string
				v   Strings
			}{{"RAM", s.Principal.RAM}, {"Service", s.Principal.Service}, {"Federated", s.Principal.Federated}} {
				for _, v := range pt.v.Values {
					principals = append(principals, principal{pt.typ, v})
				}
			}
		}
		actions, notAction := s.Action.Values, false
		if s.NotAction.IsSet() {
			actions, notAction = s.NotAction.Values, true
		}
		resources, notResource := s.Resource.Values, false
		if s.NotResource.IsSet() {
			resources, notResource = s.NotResource.Values, true
		}
		if len(resources) == 0 {
			resources = []string{""}
		}
		for _, p := range principals {
			for _, a := range actions {
				for _, r := range resources {
					g := Grant{Effect: s.Effect, PrincipalType: p.typ, Principal: p.value, Action: a,
						NotAction: notAction, Resource: r, NotResource: notResource, Condition: cond, Sid: s.Sid,
						condKey: condKey}
					if k := g.key(); !seen[k] {
						seen[k] = true
						out = append(out, keyedGrant{g, k})
					}
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b keyedGrant) int { return strings.Compare(a.key, b.key) })
	return out
}

// ChangeOp says whether a change adds or removes a grant.
type ChangeOp string

// The two kinds of change.
const (
	Added   ChangeOp = "add"
	Removed ChangeOp = "remove"
)

// Change is one grant added or removed between two documents.
type Change struct {
	Op    ChangeOp `json:"op"`
	Grant Grant    `json:"grant"`
}

func (c Change) String() string {
	if c.Op == Added {
		return "+ " + c.Grant.String()
	}
	return "- " + c.Grant.String()
}

// Diff lists the grants in new that old lacks (Added) and those in old that
// new lacks (Removed), removals first, each group in a stable order. It is
// empty when the documents are Equivalent (and can be empty for documents
// that differ only in Sids). Either document may be nil (no grants).
func Diff(old, new *Document) []Change {
	before, after := grants(old), grants(new)
	inBefore, inAfter := make(map[string]bool, len(before)), make(map[string]bool, len(after))
	for _, g := range before {
		inBefore[g.key] = true
	}
	for _, g := range after {
		inAfter[g.key] = true
	}
	var out []Change
	for _, g := range before {
		if !inAfter[g.key] {
			out = append(out, Change{Op: Removed, Grant: g.Grant})
		}
	}
	for _, g := range after {
		if !inBefore[g.key] {
			out = append(out, Change{Op: Added, Grant: g.Grant})
		}
	}
	return out
}
