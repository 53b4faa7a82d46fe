package arn

import "strings"

// AnyAccount is the AccountID of a service principal that stands for the
// service acting for any account, as in "*@ecs.aliyuncs.com". Trust policies
// narrow it with Resource Directory conditions.
const AnyAccount = "*"

const serviceSuffix = ".aliyuncs.com"

// ServicePrincipal is the identity of an Alibaba Cloud service in a trust
// policy's Principal.Service list. It has three forms:
//
//	ecs.aliyuncs.com          the service acting for the role's own account
//	<uid>@ecs.aliyuncs.com    the service acting for account <uid>
//	*@ecs.aliyuncs.com        the service acting for any account
//
// Cross-account sharing needs the <uid>@ form: a plain ecs.aliyuncs.com in a
// share role's trust policy makes ECS fail with AssumeRoleError.
type ServicePrincipal struct {
	AccountID string // "" for the role's own account, a UID, or AnyAccount
	Service   string // the service's host name, e.g. "ecs.aliyuncs.com"
}

// ECS returns the ECS service principal acting for account (or for the
// role's own account when account is "").
func ECS(account string) ServicePrincipal {
	return ServicePrincipal{AccountID: account, Service: "ecs" + serviceSuffix}
}

// ParseServicePrincipal parses and validates a service principal.
func ParseServicePrincipal(s string) (ServicePrincipal, error) {
	p := ServicePrincipal{Service: s}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		p.AccountID, p.Service = s[:i], s[i+1:]
		if p.AccountID == "" {
			return ServicePrincipal{}, newError(s, "account", "", `empty account before "@"`)
		}
	}
	if err := p.check(s); err != nil {
		return ServicePrincipal{}, err
	}
	return p, nil
}

// IsServicePrincipal reports whether ParseServicePrincipal(s) would succeed.
func IsServicePrincipal(s string) bool {
	_, err := ParseServicePrincipal(s)
	return err == nil
}

// Validate checks a constructed service principal with the rules of
// ParseServicePrincipal.
func (p ServicePrincipal) Validate() error {
	if err := p.check(p.String()); err != nil {
		return err
	}
	return nil
}

func (p ServicePrincipal) check(input string) *Error {
	if p.AccountID != "" && p.AccountID != AnyAccount {
		if err := checkAccountID(p.AccountID); err != nil {
			err.Input = input
			return err
		}
	}
	if pe := checkPasted(input, "service", p.Service); pe != nil {
		return pe
	}
	name, ok := strings.CutSuffix(p.Service, serviceSuffix)
	if !ok || name == "" {
		return newError(input, "service", p.Service, `want a service host such as "ecs.aliyuncs.com"`)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" {
			return newError(input, "service", p.Service, "empty label in service host")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case isLower(c), isDigit(c), c == '-':
			case c >= 'A' && c <= 'Z':
				return newError(input, "service", p.Service, "service hosts are lower case")
			case c == '*' || c == '?':
				return wildcardError(input, "service", p.Service)
			default:
				return newError(input, "service", p.Service, "want lower-case letters, digits, '-' and '.'")
			}
		}
	}
	return nil
}

// String formats the principal as it appears in a trust policy.
func (p ServicePrincipal) String() string {
	if p.AccountID == "" {
		return p.Service
	}
	return p.AccountID + "@" + p.Service
}

// Name returns the service's short name: "ecs" for "ecs.aliyuncs.com".
func (p ServicePrincipal) Name() string {
	return strings.TrimSuffix(p.Service, serviceSuffix)
}

// ActsFor reports whether a trust-policy principal p admits the service
// caller acting for account caller when the role lives in roleAccount:
// "ecs.aliyuncs.com" admits ECS acting for roleAccount itself, "<uid>@..."
// admits ECS acting for <uid>, and "*@..." admits ECS acting for anyone.
//
// p is matched as a policy pattern, as RAM evaluates a trust policy: the
// service host with MatchFold (host names are case-insensitive) and the
// account with Match, so wildcards such as "*.aliyuncs.com" or "1234*" work.
// p need not be valid; policy.Evaluate uses ActsFor on entries as written.
func (p ServicePrincipal) ActsFor(service, caller, roleAccount string) bool {
	if !MatchFold(p.Service, service) {
		return false
	}
	if p.AccountID == "" {
		return caller == roleAccount
	}
	return Match(p.AccountID, caller)
}
