package policy

import (
	"strings"
	"unicode/utf8"
)

// Limits that the cloud enforces on policy documents.
const (
	// MaxPermissionChars is the size limit of a RAM permission policy, in characters.
	MaxPermissionChars = 6144
	// MaxKeyPolicyBytes is the size limit of a KMS key policy, in bytes.
	MaxKeyPolicyBytes = 32768
	// MaxSidLen is the length limit of a key policy statement's Sid.
	MaxSidLen = 128
)

// DefaultKeyPolicySid is the Sid of the statement in KMS's default key
// policy. It is documented by Alibaba and contains spaces, which the
// documented Sid character set does not; Validate accepts it as the one
// exception.
const DefaultKeyPolicySid = "kms default key policy"

// Validate checks the rules of kind k that the cloud itself enforces, so a
// document that passes is not refused when it is saved. It returns nil or an
// *Error (matching ErrInvalid) listing every problem. Lint reports these
// problems too, together with findings that are not fatal.
func (d *Document) Validate(k Kind) error {
	return d.problems(k).err(k)
}

func (d *Document) problems(k Kind) problems {
	var ps problems
	if d.Version != Version {
		ps.addCode("version", "/Version", `Version must be "1"`)
	}
	if len(d.Statement) == 0 {
		ps.addCode("no-statement", "/Statement", "a document needs at least one statement")
	}
	for i := range d.Statement {
		d.Statement[i].check(k, pointer("/Statement", i), &ps)
	}
	switch k {
	case Permission:
		b, _ := d.Marshal()
		if n := utf8.RuneCount(b); n > MaxPermissionChars {
			ps.addCode("size-limit", "", "%d characters; a permission policy may have at most %d", n, MaxPermissionChars)
		}
	case KeyPolicy:
		b, _ := d.Marshal()
		if len(b) > MaxKeyPolicyBytes {
			ps.addCode("size-limit", "", "%d bytes; a key policy may have at most %d", len(b), MaxKeyPolicyBytes)
		}
	}
	sortProblems(ps)
	return ps
}

func (s *Statement) check(k Kind, path string, ps *problems) {
	if s.Effect != Allow && s.Effect != Deny {
		ps.addCode("effect", pointer(path, "Effect"), `Effect must be "Allow" or "Deny"`)
	}
	if s.Action.IsSet() == s.NotAction.IsSet() {
		ps.addCode("action-required", path, "a statement needs exactly one of Action and NotAction")
	}
	for _, f := range []struct {
		name string
		v    Strings
	}{{"Action", s.Action}, {"NotAction", s.NotAction}, {"Resource", s.Resource}, {"NotResource", s.NotResource}} {
		if f.v.IsSet() && len(f.v.Values) == 0 {
			code := "empty-action"
			if f.name == "Resource" || f.name == "NotResource" {
				code = "empty-resource"
			}
			ps.addCode(code, pointer(path, f.name), "empty %s list matches nothing", f.name)
		}
		for i, v := range f.v.Values {
			if v == "" {
				code := "empty-action"
				if f.name == "Resource" || f.name == "NotResource" {
					code = "empty-resource"
				}
				ps.addCode(code, pointer(pointer(path, f.name), i), "an empty string in %s matches nothing", f.name)
			}
		}
	}
	// Operator names and condition keys are case-insensitive, so two that
	// differ only in case are two tests of one thing that must both hold.
	// Whether RAM refuses such a document is not documented (unverified);
	// it is refused here because it almost always means a typo.
	ops := make(map[string]string, len(s.Condition)) // operator, by folded name
	for op, keys := range s.Condition {
		if conditionOperator(op) == nil {
			ps.addCode("condition-operator", pointer(pointer(path, "Condition"), op), "unknown condition operator %q", op)
		}
		if other, dup := ops[strings.ToLower(op)]; dup {
			a, b := min(op, other), max(op, other)
			ps.addCode("condition-duplicate", pointer(pointer(path, "Condition"), b),
				"operators %q and %q are the same operator (names are case-insensitive); merge them", a, b)
		}
		ops[strings.ToLower(op)] = op
		names := make(map[string]string, len(keys))
		for key, v := range keys {
			if len(v.Values) == 0 {
				ps.addCode("empty-condition", pointer(pointer(pointer(path, "Condition"), op), key), "no values")
			}
			if other, dup := names[strings.ToLower(key)]; dup {
				a, b := min(key, other), max(key, other)
				ps.addCode("condition-duplicate", pointer(pointer(pointer(path, "Condition"), op), b),
					"condition keys %q and %q are the same key (keys are case-insensitive); both must hold, which is rarely meant: merge them", a, b)
			}
			names[strings.ToLower(key)] = key
		}
	}
	switch k {
	case Permission:
		if s.Principal != nil {
			ps.addCode("principal-not-allowed", pointer(path, "Principal"), "a permission policy has no Principal (it applies to the identity it is attached to)")
		}
		if s.Resource.IsSet() == s.NotResource.IsSet() {
			ps.addCode("resource-required", path, "a statement needs exactly one of Resource and NotResource")
		}
	case Trust:
		if s.Principal == nil || !s.Principal.hasAny() {
			ps.addCode("principal-required", pointer(path, "Principal"), "a trust policy statement needs a Principal")
		}
		for i, a := range s.Action.Values {
			if !strings.EqualFold(a, "sts:AssumeRole") {
				ps.addCode("trust-action", pointer(pointer(path, "Action"), i), "a trust policy allows only sts:AssumeRole, not %q", a)
			}
		}
		if s.NotAction.IsSet() {
			ps.addCode("trust-action", pointer(path, "NotAction"), "a trust policy allows only sts:AssumeRole; NotAction is not allowed")
		}
	case KeyPolicy:
		if s.Principal == nil || len(s.Principal.RAM.Values) == 0 {
			ps.addCode("principal-required", pointer(path, "Principal"), `a key policy statement needs Principal {"RAM": [...]}`)
		} else if s.Principal.Service.IsSet() || s.Principal.Federated.IsSet() {
			ps.addCode("principal-type", pointer(path, "Principal"), "key policy principals are RAM identities only")
		}
		if !s.Resource.IsSet() || s.NotResource.IsSet() {
			ps.addCode("resource-not-star", path, `a key policy statement needs "Resource": ["*"]`)
		}
		for i, r := range s.Resource.Values {
			if r != "*" {
				ps.addCode("resource-not-star", pointer(pointer(path, "Resource"), i), `Resource in a key policy can only be "*" (this key), not %q`, r)
			}
		}
		for _, list := range []struct {
			name string
			v    Strings
		}{{"Action", s.Action}, {"NotAction", s.NotAction}} {
			for i, a := range list.v.Values {
				if !hasPrefixFold(a, "kms:") {
					ps.addCode("action-not-kms", pointer(pointer(path, list.name), i), "key policy actions start with kms:, not %q", a)
				}
			}
		}
		if s.Sid != "" && s.Sid != DefaultKeyPolicySid && !validSid(s.Sid) {
			ps.addCode("sid", pointer(path, "Sid"), "a key policy Sid has at most 128 characters of letters, digits and _/+=.@-")
		}
	}
}

func (p *Principal) hasAny() bool {
	return len(p.RAM.Values)+len(p.Service.Values)+len(p.Federated.Values) > 0
}

func validSid(s string) bool {
	if len(s) > MaxSidLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_/+=.@-", c) >= 0) {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
