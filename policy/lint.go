package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// Severity ranks a lint finding.
type Severity string

// Severities, most serious first.
const (
	SeverityError      Severity = "error"      // the cloud refuses it, or it grants what it must not
	SeverityWarning    Severity = "warning"    // almost certainly not what was meant
	SeveritySuggestion Severity = "suggestion" // works, but could be tighter
)

// Finding is one lint result, in the shape of IAM Access Analyzer's findings.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"` // stable identifier, e.g. "cross-account-admin"
	Path     string   `json:"path"` // JSON pointer to the element, "" for the whole document
	Message  string   `json:"message"`
}

func (f Finding) String() string {
	path := f.Path
	if path == "" {
		path = "/"
	}
	return fmt.Sprintf("%s %s at %s: %s", f.Severity, f.Code, path, f.Message)
}

// LintOptions carries what the linter cannot see in the document itself.
type LintOptions struct {
	// Owner is the UID of the account that owns the key (key policies) or the
	// role (trust policies). It enables the other-account and lock-out checks.
	Owner string
	// DedicatedGateway says callers reach the key through its KMS instance's
	// dedicated gateway (<kst-id>.cryptoservice.kms.aliyuncs.com), where
	// acs:SourceVpc and acs:VpcSourceIp are never set: an Allow that
	// requires them then never matches (warning vpc-condition). Without it
	// the same finding is a suggestion.
	DedicatedGateway bool
}

// Lint checks d as a document of kind k and returns its findings, most
// serious first. Everything Validate rejects is reported with severity error,
// together with:
//
//   - wildcard-principal: a principal that admits anyone;
//   - cross-account-admin: another account given administrator actions or kms:*;
//   - masked-id, placeholder: IDs copied from documentation ("119285303511****",
//     "<UID>") that were never filled in;
//   - invalid-arn: a principal or resource that is not a valid ARN;
//   - unsupported-action: a key policy action KMS accepts but silently ignores;
//   - owner-lockout: a key policy without the owner account's full access;
//   - duplicate-sid: two statements with the same Sid;
//   - deny-shadows-allow: Deny statements that cancel every Allow;
//   - condition-key: a Condition key in a key policy that KMS does not
//     document (KeyPolicyConditionKeys); Condition itself is documented;
//   - vpc-condition: an Allow in a key policy that requires acs:SourceVpc or
//     acs:VpcSourceIp, which are set on the shared gateway only and never
//     match calls through the dedicated gateway (LintOptions.DedicatedGateway);
//   - broad-permission: a permission policy allowing every KMS action on every resource.
func Lint(d *Document, k Kind, opts LintOptions) []Finding {
	var fs []Finding
	add := func(sev Severity, code, path, format string, args ...any) {
		fs = append(fs, Finding{Severity: sev, Code: code, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	for _, p := range d.problems(k) {
		add(SeverityError, p.code, p.Path, "%s", p.Message)
	}
	sids := map[string]int{}
	for i := range d.Statement {
		s := &d.Statement[i]
		path := pointer("/Statement", i)
		if s.Sid != "" {
			if first, dup := sids[s.Sid]; dup {
				add(SeverityError, "duplicate-sid", pointer(path, "Sid"), "Sid %q is also used by statement %d", s.Sid, first)
			} else {
				sids[s.Sid] = i
			}
		}
		lintPasted(s, path, add)
		lintPrincipals(s, k, opts, path, add)
		if k == KeyPolicy {
			for j, a := range s.Action.Values {
				if hasPrefixFold(a, "kms:") && !IsKeyPolicyAction(a) {
					add(SeverityWarning, "unsupported-action", pointer(pointer(path, "Action"), j),
						"%s is not on KMS's list of key policy actions; KMS accepts it but it has no effect", a)
				}
			}
			lintKeyPolicyCondition(s, opts, path, add)
		}
		if k == Permission && s.Effect == Allow && len(s.Condition) == 0 &&
			(s.Action.Contains("*") || containsFold(s.Action.Values, "kms:*")) && s.Resource.Contains("*") {
			add(SeveritySuggestion, "broad-permission", path,
				"allows every KMS action on every resource; scope it to the key ARNs and actions needed (KeyPermission)")
		}
	}
	if k == KeyPolicy && opts.Owner != "" && !grantsOwnerFullAccess(d, opts.Owner) {
		add(SeverityError, "owner-lockout", "/Statement",
			"no statement gives the owner account (%s) kms:* on the key; restore the default statement %q unless you mean to lock the account out",
			arn.AccountAll(opts.Owner), DefaultKeyPolicySid)
	}
	if denyShadowsEveryAllow(d) {
		add(SeverityWarning, "deny-shadows-allow", "/Statement", "the Deny statements cancel every Allow statement; the document allows nothing")
	}
	rank := map[Severity]int{SeverityError: 0, SeverityWarning: 1, SeveritySuggestion: 2}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if rank[a.Severity] != rank[b.Severity] {
			return rank[a.Severity] - rank[b.Severity]
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	return fs
}

type addFunc func(sev Severity, code, path, format string, args ...any)

// lintPasted looks for documentation artefacts in every string of the
// statement.
func lintPasted(s *Statement, path string, add addFunc) {
	check := func(p, v string) {
		switch arn.Pasted(v) {
		case arn.ErrPlaceholder:
			add(SeverityError, "placeholder", p, "%q contains an unfilled placeholder", v)
		case arn.ErrMasked:
			add(SeverityError, "masked-id", p, `%q contains a masked ID; documentation masks IDs with "****"`, v)
		}
	}
	each := func(name string, v Strings) {
		for i, x := range v.Values {
			check(pointer(pointer(path, name), i), x)
		}
	}
	each("Action", s.Action)
	each("NotAction", s.NotAction)
	each("Resource", s.Resource)
	each("NotResource", s.NotResource)
	if s.Principal != nil {
		pp := pointer(path, "Principal")
		for _, f := range []struct {
			name string
			v    Strings
		}{{"RAM", s.Principal.RAM}, {"Service", s.Principal.Service}, {"Federated", s.Principal.Federated}} {
			for i, x := range f.v.Values {
				check(pointer(pointer(pp, f.name), i), x)
			}
		}
	}
	for op, keys := range s.Condition {
		for key, v := range keys {
			for i, x := range v.Values {
				check(pointer(pointer(pointer(pointer(path, "Condition"), op), key), i), x)
			}
		}
	}
}

func lintPrincipals(s *Statement, k Kind, opts LintOptions, path string, add addFunc) {
	if s.Principal == nil {
		if k == Permission {
			for i, r := range s.Resource.Values {
				if r == "*" || pasted(r) {
					continue
				}
				if _, err := arn.ParsePattern(r); err != nil {
					add(SeverityError, "invalid-arn", pointer(pointer(path, "Resource"), i), "%v", err)
				}
			}
		}
		return
	}
	pp := pointer(path, "Principal")
	for i, v := range s.Principal.RAM.Values {
		p := pointer(pointer(pp, "RAM"), i)
		if v == "*" {
			add(SeverityError, "wildcard-principal", p, `"*" admits every identity of every account`)
			continue
		}
		if pasted(v) {
			continue
		}
		a, err := arn.ParsePattern(v)
		if err != nil {
			add(SeverityError, "invalid-arn", p, "%v", err)
			continue
		}
		if strings.ContainsAny(a.AccountID, "*?") {
			add(SeverityError, "wildcard-principal", p, "%s admits identities of any account", v)
			continue
		}
		if k == KeyPolicy && opts.Owner != "" && a.AccountID != opts.Owner && s.Effect == Allow {
			for j, act := range s.Action.Values {
				if act == "*" || (hasPrefixFold(act, "kms:") && !IsCrossAccountAction(act)) {
					add(SeverityError, "cross-account-admin", pointer(pointer(path, "Action"), j),
						"grants %s to %s of another account; other accounts may only use a key (%s)",
						act, v, strings.Join(CrossAccountUserActions(), ", "))
				}
			}
			if s.NotAction.IsSet() {
				add(SeverityError, "cross-account-admin", pointer(path, "NotAction"),
					"NotAction grants every other action, including administration, to %s of another account", v)
			}
		}
	}
	for i, v := range s.Principal.Service.Values {
		p := pointer(pointer(pp, "Service"), i)
		if pasted(v) {
			continue
		}
		account, service, hasAccount := strings.Cut(v, "@")
		if !hasAccount {
			service = v
		}
		if strings.ContainsAny(service, "*?") {
			add(SeverityError, "wildcard-principal", p, "%s admits any service", v)
			continue
		}
		if hasAccount && account == arn.AnyAccount {
			// The condition keys are unverified (ram-sts.md §11.3); they are
			// the ones Alibaba's share-role templates use.
			if !hasConditionKey(s.Condition, "sts:ServiceOwnerRDId", "sts:ServiceOwnerRDPath") {
				add(SeverityError, "wildcard-principal", p,
					"%s without a Resource Directory condition (sts:ServiceOwnerRDId or sts:ServiceOwnerRDPath) admits the service acting for any account", v)
			}
			continue
		}
		if _, err := arn.ParseServicePrincipal(v); err != nil {
			add(SeverityError, "invalid-arn", p, "%v", err)
		}
	}
}

// hasConditionKey reports whether any operator of c tests one of keys
// (compared case-insensitively).
func hasConditionKey(c Condition, keys ...string) bool {
	for _, tests := range c {
		for k := range tests {
			for _, want := range keys {
				if strings.EqualFold(k, want) {
					return true
				}
			}
		}
	}
	return false
}

// pasted reports a value that lintPasted already reports as a placeholder or
// masked ID; the ARN checks skip it rather than report it twice. Both use
// arn.Pasted, the rule Parse itself applies, so nothing pasted goes unreported.
func pasted(v string) bool { return arn.Pasted(v) != nil }

// grantsOwnerFullAccess reports whether an unconditional Allow gives the
// whole owner account kms:* on the key, as the default statement does.
func grantsOwnerFullAccess(d *Document, owner string) bool {
	all, root := arn.AccountAll(owner).String(), arn.AccountRoot(owner).String()
	for _, s := range d.Statement {
		if s.Effect != Allow || len(s.Condition) > 0 || s.Principal == nil {
			continue
		}
		if (s.Principal.RAM.Contains(all) || s.Principal.RAM.Contains(root)) &&
			(containsFold(s.Action.Values, "kms:*") || s.Action.Contains("*")) && s.Resource.Contains("*") {
			return true
		}
	}
	return false
}

// denyShadowsEveryAllow reports whether the document has Allow statements and
// each is covered by an unconditional Deny.
func denyShadowsEveryAllow(d *Document) bool {
	var allows, denies []*Statement
	for i := range d.Statement {
		s := &d.Statement[i]
		switch {
		case s.Effect == Allow:
			allows = append(allows, s)
		case s.Effect == Deny && len(s.Condition) == 0:
			denies = append(denies, s)
		}
	}
	if len(allows) == 0 || len(denies) == 0 {
		return false
	}
	for _, a := range allows {
		if !slices.ContainsFunc(denies, func(dn *Statement) bool { return covers(dn, a) }) {
			return false
		}
	}
	return true
}

// covers reports whether deny applies to everything allow grants. Values of
// allow are matched as literals against deny's patterns, which is exact for
// the common case of deny wildcards covering allow names.
func covers(deny, allow *Statement) bool {
	if deny.Principal != nil {
		if allow.Principal == nil {
			return false
		}
		for _, f := range []struct{ d, a Strings }{
			{deny.Principal.RAM, allow.Principal.RAM},
			{deny.Principal.Service, allow.Principal.Service},
			{deny.Principal.Federated, allow.Principal.Federated},
		} {
			if !allCovered(f.d.Values, f.a.Values, arn.MatchFold) {
				return false
			}
		}
	}
	if allow.NotAction.IsSet() || deny.NotAction.IsSet() {
		if !(deny.Action.Contains("*")) {
			return false
		}
	} else if !allCovered(deny.Action.Values, allow.Action.Values, arn.MatchAction) {
		return false
	}
	if deny.NotResource.IsSet() || allow.NotResource.IsSet() {
		return !deny.Resource.IsSet() && !deny.NotResource.IsSet() || deny.Resource.Contains("*")
	}
	if !deny.Resource.IsSet() {
		return true
	}
	if !allow.Resource.IsSet() {
		return deny.Resource.Contains("*")
	}
	return allCovered(deny.Resource.Values, allow.Resource.Values, arn.MatchResource)
}

func allCovered(patterns, values []string, match func(p, v string) bool) bool {
	for _, v := range values {
		if !anyMatch(patterns, v, match) {
			return false
		}
	}
	return true
}

// lintKeyPolicyCondition checks the Condition of a key policy statement:
// its keys must be documented for KMS, and an Allow that needs a VPC key
// cannot match on the dedicated gateway.
func lintKeyPolicyCondition(s *Statement, opts LintOptions, path string, add addFunc) {
	for op, keys := range s.Condition {
		o := conditionOperator(op)
		for key := range keys {
			p := pointer(pointer(pointer(path, "Condition"), op), key)
			if !IsKeyPolicyConditionKey(key) {
				add(SeverityWarning, "condition-key", p,
					"%s is not a condition key KMS documents for key policies (%s); a positive test on it never matches",
					key, strings.Join(KeyPolicyConditionKeys(), ", "))
				continue
			}
			if s.Effect == Allow && o != nil && !o.negated && isVPCKey(key) {
				sev, where := SeveritySuggestion, "if callers use the instance's dedicated gateway"
				if opts.DedicatedGateway {
					sev, where = SeverityWarning, "and callers use the instance's dedicated gateway"
				}
				add(sev, "vpc-condition", p,
					"%s is set on the shared gateway only (kms-vpc.<region>.aliyuncs.com); this statement never matches %s", key, where)
			}
		}
	}
}
