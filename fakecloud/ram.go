package fakecloud

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// RAM 2015-05-01: roles, custom and system policies with versions,
// attachments, users and access keys. Names of roles, policies and users
// are unique case-insensitively and keep their display case (ram-sts.md
// §5.2). Operations act on the caller's own account.
//
// This file holds the limits, the checks of names and documents, and the
// lookups the operations share; the operations are in ram_roles.go,
// ram_policies.go, ram_attach.go and ram_users.go.

// RAM limits (ram-sts.md §6).
const (
	maxPolicyVersions     = 5
	maxPolicyChars        = 6144
	maxDescription        = 1024
	maxCustomPerPrincipal = 10
	maxSystemPerPrincipal = 20
	maxAccessKeysPerUser  = 2
)

func ramDate(t time.Time) *string { return tea.String(t.UTC().Format(dateFormat)) }

// ---- validation ----

func (k *call) checkRoleName(name string) *Error {
	if name == "" || len(name) > 64 {
		return k.fail("InvalidParameter.RoleName.Length", "")
	}
	if arn.ValidateRoleName(name) != nil {
		return k.fail("InvalidParameter.RoleName.InvalidChars", "")
	}
	return nil
}

func (k *call) checkUserName(name string) *Error {
	if name == "" || len(name) > 64 {
		return k.fail("InvalidParameter.UserName.Length", "")
	}
	if arn.ValidateUserName(name) != nil {
		return k.fail("InvalidParameter.UserName.InvalidChars", "")
	}
	return nil
}

func (k *call) checkPolicyName(name string) *Error {
	if name == "" || len(name) > 128 {
		return k.fail("InvalidParameter.PolicyName.Length", "")
	}
	if policy.ValidatePolicyName(name) != nil {
		return k.fail("InvalidParameter.PolicyName.InvalidChars", "")
	}
	return nil
}

func (k *call) checkDescription(name string) *Error {
	if utf8.RuneCountInString(k.param(name)) > maxDescription {
		return k.fail("InvalidParameter.Description.Length", "")
	}
	return nil
}

// trustDoc parses and validates a trust policy.
func (k *call) trustDoc(raw string) (*policy.Document, *Error) {
	doc, err := parseDoc(raw, policy.Trust)
	if err != nil {
		return nil, k.fail("MalformedPolicyDocument", err.Error())
	}
	return doc, nil
}

// permissionDoc parses and validates a permission policy.
func (k *call) permissionDoc(raw string) (*policy.Document, *Error) {
	if utf8.RuneCountInString(raw) > maxPolicyChars {
		return nil, k.fail("InvalidParameter.PolicyDocument.Length", "")
	}
	doc, err := parseDoc(raw, policy.Permission)
	if err != nil {
		return nil, k.fail("MalformedPolicyDocument", err.Error())
	}
	return doc, nil
}

func (k *call) maxSession(name string) (int64, *Error) {
	v := k.param(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 3600 || n > 43200 {
		return 0, k.fail("InvalidParameter.MaxSessionDuration", "")
	}
	return n, nil
}

// deny is RAM's refusal.
func (k *call) deny() *Error { return k.fail("NoPermission", "") }

// ---- lookups (each authorizes action on the resource first) ----

// ramName reads the required name parameter param, checks its form and
// authorizes ram:action on the resource of type typ it names in the
// caller's account.
func (k *call) ramName(param string, check func(string) *Error, action, typ string) (string, *Error) {
	name, e := k.required(param)
	if e != nil {
		return "", e
	}
	if e := check(name); e != nil {
		return "", e
	}
	if !k.allowed("ram:"+action, ramResource(k.who.acct.id, typ, name)) {
		return "", k.deny()
	}
	return name, nil
}

// role finds the caller's role RoleName after authorizing action on it.
func (k *call) role(action string) (*role, *Error) {
	name, e := k.ramName("RoleName", k.checkRoleName, action, "role")
	if e != nil {
		return nil, e
	}
	r := k.who.acct.roles[strings.ToLower(name)]
	if r == nil {
		return nil, k.fail("EntityNotExist.Role", name)
	}
	return r, nil
}

// policyType reads PolicyType.
func (k *call) policyType() (string, *Error) {
	typ, e := k.required("PolicyType")
	if e != nil {
		return "", e
	}
	if typ != "System" && typ != "Custom" {
		return "", k.fail("InvalidParameter.PolicyType", "")
	}
	return typ, nil
}

// policy finds PolicyName of type typ ("Custom" or "System") after
// authorizing action on it.
func (k *call) policy(action, typ string) (*ramPolicy, *Error) {
	name, e := k.ramName("PolicyName", k.checkPolicyName, action, "policy")
	if e != nil {
		return nil, e
	}
	var p *ramPolicy
	if typ == "System" {
		p = k.c.system[strings.ToLower(name)]
	} else {
		p = k.who.acct.policies[strings.ToLower(name)]
	}
	if p == nil {
		return nil, k.fail("EntityNotExist.Policy", name)
	}
	return p, nil
}

func (k *call) user(action string) (*user, *Error) {
	name, e := k.ramName("UserName", k.checkUserName, action, "user")
	if e != nil {
		return nil, e
	}
	u := k.who.acct.users[strings.ToLower(name)]
	if u == nil {
		return nil, k.fail("EntityNotExist.User", name)
	}
	return u, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
