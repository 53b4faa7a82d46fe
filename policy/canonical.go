package policy

import (
	"bytes"
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
		c.Condition = Condition{}
		for op, keys := range s.Condition {
			name := op
			if o := conditionOperator(op); o != nil {
				name = o.name
			}
			if c.Condition[name] == nil {
				c.Condition[name] = map[string]Strings{}
			}
			for k, v := range keys {
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
// first spelling is kept.
func canonicalList(s Strings, key func(string) string) Strings {
	if !s.IsSet() {
		return Strings{}
	}
	seen := make(map[string]bool, len(s.Values))
	out := make([]string, 0, len(s.Values))
	for _, v := range s.Values {
		if k := key(v); !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		if c := strings.Compare(key(a), key(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
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
func foldCondition(c Condition) Condition {
	folded := Condition{}
	for op, keys := range c {
		lop := strings.ToLower(op)
		if folded[lop] == nil {
			folded[lop] = map[string]Strings{}
		}
		for k, v := range keys {
			lk := strings.ToLower(k)
			merged := append(append([]string{}, folded[lop][lk].Values...), v.Values...)
			folded[lop][lk] = canonicalList(List(merged...), keep)
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
