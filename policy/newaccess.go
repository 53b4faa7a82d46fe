package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kmsshare/kmsshare/arn"
)

// NewAccess is one way a new document may let a principal do what the old
// one did not: a grant of an Allow statement of the new document that no
// Allow of the old one covers, or a Deny of the old document that no Deny of
// the new one still covers.
type NewAccess struct {
	// Document is "new" for an Allow of the new document, "old" for a Deny
	// of the old document that is gone or narrowed.
	Document  string `json:"document"`
	Statement int    `json:"statement"` // index of the statement in that document
	Sid       string `json:"sid,omitempty"`
	Path      string `json:"path"`      // JSON pointer to the statement
	Principal string `json:"principal"` // "RAM acs:ram::…", "Service …", or "" in identity policies
	Action    string `json:"action"`    // an action pattern, or "every action but …"
	Resource  string `json:"resource"`  // a resource pattern, "every resource but …", or "*"
	Reason    string `json:"reason"`
}

func (n NewAccess) String() string {
	who := n.Principal
	if who == "" {
		who = "the identity"
	}
	return fmt.Sprintf("%s document %s: %s may %s on %s: %s", n.Document, n.Path, who, n.Action, n.Resource, n.Reason)
}

// CheckNoNewAccess reports whether new lets any principal do anything old
// did not, in the spirit of IAM Access Analyzer's custom policy check of
// the same name. It returns nil when it can prove that every request new
// allows, old allows too; otherwise one NewAccess per grant it cannot prove
// old already made. Either document may be nil (no statements).
//
// The check splits each statement into grants, one per principal × action
// × resource (a NotAction or NotResource list stays whole), and proves each
// Allow grant of new is covered by a single Allow statement of old, and
// each Deny grant of old by a single Deny statement of new. Together that
// proves new allows a subset of what old allows, because Evaluate lets any
// applicable Deny win. Coverage is decided as follows:
//
//   - Patterns (principals, actions, resources, condition values of
//     StringLike): a pattern covers another when every string the second
//     matches the first matches too, decided symbolically: a "*" of the
//     covering pattern absorbs anything, its "?" one character or "?", and
//     a wildcard of the covered pattern is matched only by wildcards. This
//     is exact for the patterns policies use ("kms:*" covers "kms:Decrypt"
//     and "kms:Generate*"; "kms:Generate*" does not cover "kms:*").
//   - Principals: RAM "*" covers everything; "acs:ram::<uid>:*" and
//     ":root" cover every identity of <uid>; a role covers its sessions;
//     role and user names compare case-insensitively. Service principals
//     "*@svc" cover "<uid>@svc" and "svc"; Federated principals compare
//     exactly. A statement with a Principal never covers one without.
//   - Conditions: an Allow of old covers a grant when old's condition is
//     implied by new's: every operator and key old tests, new tests too,
//     with a subset of old's values (a superset for negated operators such
//     as StringNotEquals and NotIpAddress). Extra conditions in new only
//     narrow it. For Denies it is the other way round. A statement with an
//     operator nobody can evaluate is treated as Evaluate treats it: an
//     Allow that never applies, a Deny that always applies.
//
// Limits: the check is sound but not complete. It never misses new access
// that Evaluate would decide, but it may report a grant that several old
// statements cover only together (e.g. a new "kms:*" against old
// statements that list every action), a pattern covered only through
// another pattern's shape (e.g. "a?*" against "a*?"), a condition that is
// equivalent but spelled differently (IpAddress "10.0.0.0/8" against two
// /9 blocks), or a Deny removed where nothing is allowed anyway. It reads
// documents as written: it does not know which actions KMS ignores
// (IsKeyPolicyAction) nor whether a principal exists, and it does not see
// the other side of the two-sided rule (RAM policies of a key's users).
func CheckNoNewAccess(old, new *Document) []NewAccess {
	var out []NewAccess
	oldAllows, oldDenies := split(old)
	newAllows, newDenies := split(new)
	for _, st := range newAllows {
		if st.never {
			continue
		}
		for _, g := range st.grants() {
			if !coveredBy(g, oldAllows, false) {
				out = append(out, st.report("new", g, "no Allow of the old document grants it"))
			}
		}
	}
	for _, st := range oldDenies {
		for _, g := range st.grants() {
			if !coveredBy(g, newDenies, true) {
				out = append(out, st.report("old", g, "this Deny of the old document no longer covers it"))
			}
		}
	}
	return out
}

// checkStatement is a statement prepared for the check.
type checkStatement struct {
	index int
	s     *Statement
	// never marks an Allow with an operator nobody can evaluate: it
	// grants nothing. always marks such a Deny: it applies regardless of
	// its condition.
	never, always bool
}

func split(d *Document) (allows, denies []checkStatement) {
	if d == nil {
		return nil, nil
	}
	for i := range d.Statement {
		s := &d.Statement[i]
		unknown := false
		for op := range s.Condition {
			if conditionOperator(op) == nil {
				unknown = true
			}
		}
		switch s.Effect {
		case Allow:
			allows = append(allows, checkStatement{index: i, s: s, never: unknown})
		case Deny:
			denies = append(denies, checkStatement{index: i, s: s, always: unknown})
		}
	}
	return allows, denies
}

// grant is one principal × action × resource of a statement.
type grant struct {
	st             *checkStatement
	principalType  string // "" for a statement without Principal
	principal      string
	action         string   // one pattern, unless notAction is set
	notAction      []string // the whole NotAction list
	resource       string   // one pattern; "" with neither Resource nor NotResource
	notResource    []string
	hasNotAction   bool
	hasNotResource bool
}

func (c *checkStatement) grants() []grant {
	s := c.s
	type principal struct{ typ, value string }
	principals := []principal{{}}
	if s.Principal != nil {
		principals = principals[:0]
		for _, f := range []struct {
			typ string
			v   Strings
		}{{"RAM", s.Principal.RAM}, {"Service", s.Principal.Service}, {"Federated", s.Principal.Federated}} {
			for _, v := range f.v.Values {
				principals = append(principals, principal{f.typ, v})
			}
		}
	}
	base := grant{st: c}
	actions := s.Action.Values
	if s.NotAction.IsSet() {
		base.hasNotAction, base.notAction, actions = true, s.NotAction.Values, []string{""}
	}
	resources := s.Resource.Values
	switch {
	case s.NotResource.IsSet():
		base.hasNotResource, base.notResource, resources = true, s.NotResource.Values, []string{""}
	case !s.Resource.IsSet():
		resources = []string{""}
	}
	var out []grant
	for _, p := range principals {
		for _, a := range actions {
			for _, r := range resources {
				g := base
				g.principalType, g.principal, g.action, g.resource = p.typ, p.value, a, r
				out = append(out, g)
			}
		}
	}
	return out
}

func (c *checkStatement) report(doc string, g grant, reason string) NewAccess {
	n := NewAccess{Document: doc, Statement: c.index, Sid: c.s.Sid, Path: pointer("/Statement", c.index), Reason: reason}
	if g.principalType != "" {
		n.Principal = g.principalType + " " + g.principal
	}
	n.Action = g.action
	if g.hasNotAction {
		n.Action = "every action but " + strings.Join(g.notAction, ", ")
	}
	switch {
	case g.hasNotResource:
		n.Resource = "every resource but " + strings.Join(g.notResource, ", ")
	case g.resource == "":
		n.Resource = "*"
	default:
		n.Resource = g.resource
	}
	return n
}

// coveredBy reports whether one statement of by covers g. For Denies
// (deny true) the condition test is reversed: the covering Deny must apply
// whenever g's Deny did.
func coveredBy(g grant, by []checkStatement, deny bool) bool {
	for i := range by {
		c := &by[i]
		if c.never {
			continue
		}
		s := c.s
		if !principalCovers(s.Principal, g) || !actionCovers(s, g) || !resourceCovers(s, g) {
			continue
		}
		if deny {
			switch {
			case c.always, g.st.always && len(s.Condition) == 0:
				return true
			case !g.st.always && conditionImplies(g.st.s.Condition, s.Condition):
				return true
			}
			continue
		}
		if conditionImplies(g.st.s.Condition, s.Condition) {
			return true
		}
	}
	return false
}

func principalCovers(p *Principal, g grant) bool {
	if g.principalType == "" {
		return p == nil
	}
	if p == nil {
		return false
	}
	switch g.principalType {
	case "RAM":
		for _, o := range p.RAM.Values {
			if ramCovers(o, g.principal) {
				return true
			}
		}
	case "Service":
		for _, o := range p.Service.Values {
			if serviceCovers(o, g.principal) {
				return true
			}
		}
	case "Federated":
		for _, o := range p.Federated.Values {
			if strings.EqualFold(o, g.principal) {
				return true
			}
		}
	}
	return false
}

// ramParts splits a RAM principal into its account and resource; ok is
// false for an entry that is not a RAM ARN (it admits nobody).
func ramParts(p string) (account, resource string, ok bool) {
	rest, ok := strings.CutPrefix(p, "acs:ram:")
	if !ok {
		return "", "", false
	}
	if _, rest, ok = strings.Cut(rest, ":"); !ok {
		return "", "", false
	}
	return strings.Cut(rest, ":")
}

func ramCovers(o, n string) bool {
	if o == "*" {
		return true
	}
	na, nr, ok := ramParts(n)
	if !ok {
		return n != "*" // an entry that admits nobody is covered by anything
	}
	oa, or, ok := ramParts(o)
	if !ok || !patternCovers(oa, na, false) {
		return false
	}
	if or == "*" || or == "root" {
		return true
	}
	if nr == "*" || nr == "root" {
		return false
	}
	ot, oname, _ := strings.Cut(or, "/")
	nt, nname, _ := strings.Cut(nr, "/")
	switch {
	case ot == nt:
		return patternCovers(oname, nname, true)
	case ot == "role" && nt == "assumed-role":
		// A role admits its sessions: it covers "<role>/<session>" when
		// it covers "<role>" and the session part adds nothing.
		role, _, _ := strings.Cut(nname, "/")
		return !hasWildcard(role) && patternCovers(oname, role, true)
	}
	return false
}

func serviceCovers(o, n string) bool {
	if strings.EqualFold(o, n) {
		return true
	}
	oacct, osvc, oat := strings.Cut(o, "@")
	nacct, nsvc, nat := strings.Cut(n, "@")
	if !oat {
		return false // o admits the service for the resource's account only
	}
	if !nat {
		nsvc, nacct = n, ""
	}
	if !patternCovers(osvc, nsvc, true) {
		return false
	}
	if !nat {
		return oacct == "*" // the resource's account, whichever it is
	}
	return patternCovers(oacct, nacct, false)
}

func actionCovers(s *Statement, g grant) bool {
	switch {
	case s.Action.IsSet():
		if g.hasNotAction {
			return s.Action.Contains("*")
		}
		return anyCovers(s.Action.Values, g.action, true)
	case s.NotAction.IsSet():
		if g.hasNotAction {
			// all but M covers all but N when M ⊆ N.
			for _, m := range s.NotAction.Values {
				if !anyCovers(g.notAction, m, true) {
					return false
				}
			}
			return true
		}
		if hasWildcard(g.action) {
			return false
		}
		return !anyMatch(s.NotAction.Values, g.action, arn.MatchAction)
	}
	return false // a statement with neither applies to nothing
}

func resourceCovers(s *Statement, g grant) bool {
	switch {
	case s.Resource.IsSet():
		if s.Resource.Contains("*") {
			return true
		}
		if g.hasNotResource || g.resource == "" {
			return false
		}
		return anyCovers(s.Resource.Values, g.resource, false)
	case s.NotResource.IsSet():
		if g.hasNotResource {
			for _, m := range s.NotResource.Values {
				if !anyCovers(g.notResource, m, false) {
					return false
				}
			}
			return true
		}
		if g.resource == "" || hasWildcard(g.resource) {
			return false
		}
		return !anyMatch(s.NotResource.Values, g.resource, arn.MatchResource)
	}
	return true // no Resource: every resource
}

func anyCovers(patterns []string, p string, fold bool) bool {
	for _, q := range patterns {
		if patternCovers(q, p, fold) {
			return true
		}
	}
	return false
}

// conditionImplies reports whether every request that satisfies strong
// also satisfies weak: each test of weak is present in strong with values
// that make it at least as strict.
func conditionImplies(strong, weak Condition) bool {
	for wop, wkeys := range weak {
		o := conditionOperator(wop)
		if o == nil {
			return false
		}
		for wkey, wvals := range wkeys {
			svals, ok := findTest(strong, o, wkey)
			if !ok {
				return false
			}
			if o.negated {
				// holds when no value matches: more values, stricter.
				if !subset(wvals.Values, svals.Values, o) {
					return false
				}
			} else if !subset(svals.Values, wvals.Values, o) {
				return false
			}
		}
	}
	return true
}

// findTest returns the values strong tests key with operator o.
func findTest(c Condition, o *operator, key string) (Strings, bool) {
	for op, keys := range c {
		if conditionOperator(op) != o {
			continue
		}
		for k, v := range keys {
			if strings.EqualFold(k, key) {
				return v, true
			}
		}
	}
	return Strings{}, false
}

// subset reports whether every value of a is covered by a value of b: for
// StringLike by pattern coverage, otherwise by equality.
func subset(a, b []string, o *operator) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y || (o.test == testLike && patternCovers(y, x, false)) ||
				(o.test == testEqualsFold && strings.EqualFold(x, y)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// patternCovers reports whether every string p matches (as a RAM wildcard
// pattern) q matches too, deciding it symbolically: q's "*" absorbs any run
// of p (characters and wildcards), q's "?" one character or "?" of p, and
// q's other characters only themselves (case-insensitively with fold).
// Sound, and exact unless p's wildcards can be rearranged ("a*?" is
// covered by "a?*" but not proven so).
func patternCovers(q, p string, fold bool) bool {
	if q == "*" || q == p {
		return true
	}
	qs, ps := []rune(q), []rune(p)
	// reach[j]: q[:i] can absorb p[:j].
	reach := make([]bool, len(ps)+1)
	next := make([]bool, len(ps)+1)
	reach[0] = true
	for i := range qs {
		clear(next)
		switch qs[i] {
		case '*':
			on := false
			for j := range reach {
				on = on || reach[j]
				next[j] = on
			}
		case '?':
			for j := range ps {
				if reach[j] && ps[j] != '*' {
					next[j+1] = true
				}
			}
		default:
			for j := range ps {
				if reach[j] && ps[j] != '*' && ps[j] != '?' && sameRune(qs[i], ps[j], fold) {
					next[j+1] = true
				}
			}
		}
		reach, next = next, reach
	}
	return reach[len(ps)]
}

func sameRune(a, b rune, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	var ba, bb [utf8.UTFMax]byte
	return strings.EqualFold(string(ba[:utf8.EncodeRune(ba[:], a)]), string(bb[:utf8.EncodeRune(bb[:], b)]))
}
