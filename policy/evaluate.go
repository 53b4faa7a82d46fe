package policy

import (
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// Caller is who makes a request.
type Caller struct {
	// Account is the UID of the caller's account (for a service caller, the
	// account the service acts for). It may be left empty for a RAM
	// identity: the account in ARN is used. If both are set and disagree,
	// the caller is no identity of either account and no Principal admits it.
	Account string
	// ARN is the caller's RAM identity: a user (acs:ram::<uid>:user/<name>),
	// a role session (acs:ram::<uid>:assumed-role/<role>/<session>, or the
	// role ARN itself), or the account (acs:ram::<uid>:root). Zero for a
	// service caller.
	ARN arn.ARN
	// Service is the host of a service caller, e.g. "ecs.aliyuncs.com",
	// acting for Account. Empty for RAM identities.
	Service string
}

// Request is what is being decided.
type Request struct {
	Caller          Caller
	Action          string              // "kms:GenerateDataKey", "sts:AssumeRole"
	Resource        string              // "acs:kms:cn-hangzhou:<uid>:key/<id>"
	ResourceAccount string              // the account that owns the resource
	Context         map[string][]string // condition keys (case-insensitive) and their values
}

// Decision is the outcome of evaluating a request.
type Decision int

// The three outcomes of RAM's evaluation logic (ram-sts.md §9).
const (
	ImplicitDeny Decision = iota // no applicable statement allows
	Allowed                      // an applicable Allow and no applicable Deny
	ExplicitDeny                 // an applicable Deny, which wins over every Allow
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicitly denied"
	}
	return "implicitly denied"
}

// Result is a decision and the statement that made it.
type Result struct {
	Decision  Decision
	Document  int    // index in the evaluated documents of the deciding one; -1 if none
	Statement int    // index of the deciding statement in that document; -1 if none
	Sid       string // the deciding statement's Sid
}

// Evaluate decides req against docs with RAM's rules: an applicable explicit
// Deny wins; otherwise an applicable Allow allows; otherwise the request is
// implicitly denied. The deciding statement is the first applicable Deny, or
// else the first applicable Allow.
//
// A statement applies when its Principal (if it has one) admits the caller,
// its Action/NotAction and Resource/NotResource match (a statement without
// Resource, as in trust policies, matches every resource) and its Condition
// holds. Statements with a Principal belong to resource-based policies (key
// and trust policies); statements without one to identity policies, which
// apply to the identity they are attached to. Principal matching:
//
//   - RAM "acs:ram::<uid>:*" and "acs:ram::<uid>:root" admit every identity
//     of <uid>; a role ARN admits the role's sessions (role names compared
//     case-insensitively); a user ARN admits the user;
//   - Service "svc.aliyuncs.com" admits the service acting for the
//     resource's own account, "<uid>@svc.aliyuncs.com" the service acting
//     for <uid>, "*@svc.aliyuncs.com" the service acting for any account.
//
// nil documents are skipped.
func Evaluate(req Request, docs ...*Document) Result {
	allow := Result{Decision: ImplicitDeny, Document: -1, Statement: -1}
	id := identityOf(&req.Caller)
	for di, d := range docs {
		if d == nil {
			continue
		}
		for si := range d.Statement {
			s := &d.Statement[si]
			if (s.Effect != Allow && s.Effect != Deny) || !s.applies(&req, &id) {
				continue
			}
			if s.Effect == Deny {
				return Result{Decision: ExplicitDeny, Document: di, Statement: si, Sid: s.Sid}
			}
			if allow.Decision == ImplicitDeny {
				allow = Result{Decision: Allowed, Document: di, Statement: si, Sid: s.Sid}
			}
		}
	}
	return allow
}

// Access is the outcome of the two-sided rule, with both sides' decisions.
type Access struct {
	Allowed  bool
	Resource Result // the resource-based policy: the key policy, or the role's trust policy
	Identity Result // the caller's identity policies, in the caller's account
}

// EvaluateAccess applies the two-sided rule of KMS key policies (kms.md §8):
// a caller in the resource's own account needs an Allow on either side, a
// caller in another account needs an Allow on both; an explicit Deny on
// either side denies. (AssumeRole always needs both sides: check
// Resource.Decision and Identity.Decision yourself.)
func EvaluateAccess(req Request, resourcePolicy *Document, identityPolicies ...*Document) Access {
	a := Access{Resource: Evaluate(req, resourcePolicy), Identity: Evaluate(req, identityPolicies...)}
	r, i := a.Resource.Decision, a.Identity.Decision
	switch {
	case r == ExplicitDeny || i == ExplicitDeny:
	case req.Caller.account() != "" && req.Caller.account() == req.ResourceAccount:
		a.Allowed = r == Allowed || i == Allowed
	default:
		a.Allowed = r == Allowed && i == Allowed
	}
	return a
}

func (s *Statement) applies(req *Request, id *identity) bool {
	if s.Principal != nil && !s.Principal.admits(req, id) {
		return false
	}
	switch {
	case s.Action.IsSet():
		if !anyMatch(s.Action.Values, req.Action, arn.MatchAction) {
			return false
		}
	case s.NotAction.IsSet():
		if anyMatch(s.NotAction.Values, req.Action, arn.MatchAction) {
			return false
		}
	default:
		return false
	}
	switch {
	case s.Resource.IsSet():
		if !anyMatch(s.Resource.Values, req.Resource, arn.MatchResource) {
			return false
		}
	case s.NotResource.IsSet():
		if anyMatch(s.NotResource.Values, req.Resource, arn.MatchResource) {
			return false
		}
	}
	if len(s.Condition) == 0 {
		return true
	}
	ok, known := s.Condition.holds(req.Context)
	if !known {
		// An operator nobody can evaluate: a Deny applies, an Allow does not.
		return s.Effect == Deny
	}
	return ok
}

func anyMatch(patterns []string, v string, match func(p, v string) bool) bool {
	for _, p := range patterns {
		if p == "*" || match(p, v) {
			return true
		}
	}
	return false
}

// identity is the caller's RAM identity taken apart once per evaluation, so
// it is not split again for every principal. (Each Principal.RAM entry is
// still split as it is matched, without validation or allocation.)
type identity struct {
	account     string
	role        string // role name, for a role or role session
	roleSession string // "<role>/<session>" for a role session
	user        string // user name, for a RAM user
}

// account is the caller's account: Account, or for a RAM identity the
// account in its ARN; "" when the two disagree.
func (c *Caller) account() string {
	a := c.ARN
	if c.Service != "" || (a.Service != "ram" && a.Service != "sts") || a.AccountID == "" {
		return c.Account
	}
	if c.Account != "" && c.Account != a.AccountID {
		return ""
	}
	return a.AccountID
}

func identityOf(c *Caller) identity {
	id := identity{account: c.account()}
	a := c.ARN
	if id.account == "" || (a.Service != "ram" && a.Service != "sts") {
		return id
	}
	typ, name, _ := strings.Cut(a.Resource, "/")
	switch typ {
	case "role", "assumed-role":
		role, _, hasSession := strings.Cut(name, "/")
		id.role = role
		if hasSession {
			id.roleSession = name
		}
	case "user":
		id.user = name
	}
	return id
}

func (p *Principal) admits(req *Request, id *identity) bool {
	c := &req.Caller
	if c.Service != "" {
		for _, sp := range p.Service.Values {
			if serviceAdmits(sp, c, req.ResourceAccount) {
				return true
			}
		}
		return false
	}
	for _, rp := range p.RAM.Values {
		if ramAdmits(rp, id) {
			return true
		}
	}
	return false
}

// ramAdmits matches one Principal.RAM entry against a RAM identity. It splits
// the entry without validating it: an entry that is not a RAM ARN admits
// nobody.
func ramAdmits(pattern string, id *identity) bool {
	if pattern == "*" {
		return id.account != ""
	}
	rest, ok := strings.CutPrefix(pattern, "acs:ram:")
	if !ok {
		return false
	}
	_, rest, ok = strings.Cut(rest, ":") // region: empty or a pattern, never significant
	if !ok {
		return false
	}
	account, resource, ok := strings.Cut(rest, ":")
	if !ok || (account != id.account && !(hasWildcard(account) && arn.Match(account, id.account))) {
		return false
	}
	if resource == "*" || resource == "root" {
		return id.account != ""
	}
	typ, name, _ := strings.Cut(resource, "/")
	switch typ {
	case "role":
		return id.role != "" && matchName(name, id.role)
	case "assumed-role":
		return id.roleSession != "" && matchName(name, id.roleSession)
	case "user":
		return id.user != "" && matchName(name, id.user)
	}
	return false
}

// matchName compares RAM names case-insensitively, with wildcards if any.
func matchName(pattern, name string) bool {
	if !hasWildcard(pattern) {
		return strings.EqualFold(pattern, name)
	}
	return arn.MatchFold(pattern, name)
}

func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '?' {
			return true
		}
	}
	return false
}

// serviceAdmits matches one Principal.Service entry against a service caller
// with arn.ServicePrincipal.ActsFor. It splits the entry without validating it.
func serviceAdmits(pattern string, c *Caller, resourceAccount string) bool {
	p := arn.ServicePrincipal{Service: pattern}
	if account, service, ok := strings.Cut(pattern, "@"); ok {
		p = arn.ServicePrincipal{AccountID: account, Service: service}
		if account == "" {
			// "@svc" (invalid) names the empty account, not the
			// resource's own: it admits only a caller acting for "".
			resourceAccount = ""
		}
	}
	return p.ActsFor(c.Service, c.Account, resourceAccount)
}
