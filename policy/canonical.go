package policy

import (
	"bytes"
	"maps"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// Canonical returns a deterministic copy of d for storage and diffs: every
// element written as a list, lists sorted and without duplicates (actions
// deduplicated case-insensitively, RAM role ARNs in lower case), condition
// operators in their documented spelling, and statements sorted with exact
// duplicates removed. Canonical(a) and Canonical(b) marshal to the same bytes
// when a and b differ only in those respects.
func (d *Document) Canonical() *Document {
	c := &Document{Version: d.Version}
	seen := map[string]bool{}
	for _, s := range d.Statement {
		cs := s.canonical()
		key := string(cs.appendCanonical(nil))
		if seen[key] {
			continue
		}
		seen[key] = true
		c.Statement = append(c.Statement, cs)
	}
	slices.SortStableFunc(c.Statement, func(a, b Statement) int {
		if c := strings.Compare(a.Sid, b.Sid); c != 0 {
			return c
		}
		return bytes.Compare(a.appendCanonical(nil), b.appendCanonical(nil))
	})
	return c
}

func (s Statement) canonical() Statement {
	c := Statement{Sid: s.Sid, Effect: s.Effect}
	c.Action = canonicalList(s.Action, strings.ToLower)
	c.NotAction = canonicalList(s.NotAction, strings.ToLower)
	c.Resource = canonicalList(mapValues(s.Resource, canonicalResource), keep)
	c.NotResource = canonicalList(mapValues(s.NotResource, canonicalResource), keep)
	if s.Principal != nil {
		c.Principal = &Principal{
			RAM:       canonicalList(mapValues(s.Principal.RAM, canonicalResource), keep),
			Service:   canonicalList(s.Principal.Service, keep),
			Federated: canonicalList(s.Principal.Federated, keep),
		}
	}
	if len(s.Condition) > 0 {
		// When two spellings of one operator are present (Validate refuses
		// that), the result must not depend on map order: the first in
		// claimOrder takes the canonical name, the other keeps its own and
		// stays a separate test, as Evaluate treats it.
		c.Condition = Condition{}
		for _, op := range claimOrder(s.Condition, operatorName) {
			name := op
			if o := operatorName(op); c.Condition[o] == nil {
				name = o
			}
			c.Condition[name] = map[string]Strings{}
			for k, v := range s.Condition[op] {
				c.Condition[name][k] = canonicalList(v, keep)
			}
		}
	}
	return c
}

func keep(s string) string { return s }

func mapValues(s Strings, f func(string) string) Strings {
	if !s.IsSet() {
		return s
	}
	out := make([]string, len(s.Values))
	for i, v := range s.Values {
		out[i] = f(v)
	}
	return Strings{Values: out, Scalar: s.Scalar}
}

// canonicalResource lower-cases the role name of a RAM role ARN (RAM prints
// them so); anything else is kept as written.
func canonicalResource(s string) string {
	if a, err := arn.ParsePattern(s); err == nil && a.Service == "ram" && a.ResourceType() == "role" {
		return a.Canonical().String()
	}
	return s
}

// canonicalList returns the values as a sorted list without duplicates, where
// two values are duplicates when key maps them to the same string; the
// least spelling is kept.
func canonicalList(s Strings, key func(string) string) Strings {
	if !s.IsSet() {
		return Strings{}
	}
	out := slices.Clone(s.Values)
	slices.SortFunc(out, func(a, b string) int {
		if c := strings.Compare(key(a), key(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	// Sorted first, so the spelling kept of duplicates is always the same
	// (the least), whatever the order they were written in.
	out = slices.CompactFunc(out, func(a, b string) bool { return key(a) == key(b) })
	return List(out...)
}

// Equivalent reports whether a and b say the same thing: a string equals a
// one-element list, lists are sets, action names and RAM role names compare
// case-insensitively, condition operator names and keys compare
// case-insensitively, and statement order and duplicate statements or values
// do not matter. Sids and every other string are significant.
func Equivalent(a, b *Document) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.normal(), b.normal())
}

// normal is the comparison form behind Equivalent: Canonical, with the
// remaining case-insensitive parts folded.
func (d *Document) normal() []byte {
	n := &Document{Version: d.Version}
	for _, s := range d.Statement {
		c := s.canonical()
		c.Action = foldList(c.Action)
		c.NotAction = foldList(c.NotAction)
		if len(c.Condition) > 0 {
			c.Condition = foldCondition(c.Condition)
		}
		n.Statement = append(n.Statement, c)
	}
	b, _ := n.Canonical().Marshal()
	return b
}

// foldCondition lower-cases operator names and condition keys (both
// case-insensitive) and sorts and deduplicates the values.
//
// Names that collide when folded (Validate refuses them) are separate tests
// that must all hold, so they are not merged: in sorted order, the first
// takes the folded name and the others keep their spelling. Such documents
// may compare unequal to an equivalent spelling, never equal to a document
// that decides differently.
func foldCondition(c Condition) Condition {
	folded := Condition{}
	for _, op := range claimOrder(c, strings.ToLower) {
		lop := strings.ToLower(op)
		if folded[lop] != nil {
			lop = op
		}
		folded[lop] = map[string]Strings{}
		for _, k := range claimOrder(c[op], strings.ToLower) {
			lk := strings.ToLower(k)
			if _, taken := folded[lop][lk]; taken {
				lk = k
			}
			folded[lop][lk] = canonicalList(c[op][k], keep)
		}
	}
	return folded
}

func foldList(s Strings) Strings {
	if !s.IsSet() {
		return s
	}
	out := make([]string, len(s.Values))
	for i, v := range s.Values {
		out[i] = strings.ToLower(v)
	}
	return canonicalList(List(out...), keep)
}

// operatorName is the canonical spelling of a condition operator, or name
// itself if it is not one.
func operatorName(name string) string {
	if o := conditionOperator(name); o != nil {
		return o.name
	}
	return name
}

// claimOrder returns m's keys in the order in which they claim their
// normalised names: names already in normal form first, then the rest, each
// group sorted. A name that finds its normal form taken keeps its own
// spelling, which then cannot collide: it is not in normal form, and the
// name in normal form, if any, came first.
func claimOrder[V any](m map[string]V, norm func(string) string) []string {
	names := slices.Collect(maps.Keys(m))
	slices.SortFunc(names, func(a, b string) int {
		an, bn := a == norm(a), b == norm(b)
		if an != bn {
			if an {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}
