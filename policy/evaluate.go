package policy

import (
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// Caller is who makes a request.
type Caller struct {
	// Account is the UID of the caller's account (for a service caller, the
	// account the service acts for).
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
	for di, d := range docs {
		if d == nil {
			continue
		}
		for si := range d.Statement {
			s := &d.Statement[si]
			if (s.Effect != Allow && s.Effect != Deny) || !s.applies(&req) {
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
	case req.Caller.Account == req.ResourceAccount:
		a.Allowed = r == Allowed || i == Allowed
	default:
		a.Allowed = r == Allowed && i == Allowed
	}
	return a
}

func (s *Statement) applies(req *Request) bool {
	if s.Principal != nil && !s.Principal.admits(req) {
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
	return len(s.Condition) == 0 || s.Condition.holds(req.Context)
}

func anyMatch(patterns []string, v string, match func(p, v string) bool) bool {
	for _, p := range patterns {
		if match(p, v) {
			return true
		}
	}
	return false
}

func (p *Principal) admits(req *Request) bool {
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
		if ramAdmits(rp, c) {
			return true
		}
	}
	return false
}

// ramAdmits matches one Principal.RAM entry against a RAM identity.
func ramAdmits(pattern string, c *Caller) bool {
	if pattern == "*" {
		return c.Account != ""
	}
	p, err := arn.ParsePattern(pattern)
	if err != nil || p.Service != "ram" || !arn.Match(p.AccountID, c.Account) {
		return false
	}
	if p.Resource == "*" || p.Resource == "root" {
		return true
	}
	id := c.ARN
	if role, session, ok := id.AssumedRole(); ok {
		switch p.ResourceType() {
		case "role":
			return arn.MatchFold(p.ResourceName(), role.ResourceName())
		case "assumed-role":
			return arn.MatchFold(p.ResourceName(), role.ResourceName()+"/"+session)
		}
		return false
	}
	if id.Service != "ram" || !strings.EqualFold(id.ResourceType(), p.ResourceType()) {
		return false
	}
	switch p.ResourceType() {
	case "role", "user":
		return arn.MatchFold(p.ResourceName(), id.ResourceName())
	}
	return false
}

// serviceAdmits matches one Principal.Service entry against a service caller.
func serviceAdmits(pattern string, c *Caller, resourceAccount string) bool {
	account, service, hasAccount := strings.Cut(pattern, "@")
	if !hasAccount {
		service, account = pattern, ""
	}
	if !arn.MatchFold(service, c.Service) {
		return false
	}
	if !hasAccount {
		return c.Account == resourceAccount
	}
	return arn.Match(account, c.Account)
}
