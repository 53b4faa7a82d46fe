package fakecloud

import (
	"time"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

// RAM attachments: policies attached to roles and users, within the
// per-principal limits, and the listings of both sides.

// attach adds p to a principal's attachments; exists and limit are the
// principal type's error codes.
func (k *call) attach(tl *timeline[[]attachment], p *ramPolicy, exists, limit string) *Error {
	have := tl.latest()
	if attached(have, p) {
		return k.fail(exists, "")
	}
	custom, system := 0, 0
	for _, a := range have {
		if a.policy.typ == "System" {
			system++
		} else {
			custom++
		}
	}
	if (p.typ == "System" && system >= maxSystemPerPrincipal) || (p.typ == "Custom" && custom >= maxCustomPerPrincipal) {
		return k.fail(limit, "")
	}
	next := append(append([]attachment{}, have...), attachment{policy: p, at: k.now})
	tl.set(k.now, next, k.asOf())
	return nil
}

// detach removes p from a principal's attachments.
func (k *call) detach(tl *timeline[[]attachment], p *ramPolicy, missing string) *Error {
	have := tl.latest()
	next := make([]attachment, 0, len(have))
	for _, a := range have {
		if a.policy != p {
			next = append(next, a)
		}
	}
	if len(next) == len(have) {
		return k.fail(missing, "")
	}
	tl.set(k.now, next, k.asOf())
	return nil
}

// holder is a RAM identity policies attach to: a role or a user.
type holder struct {
	name        string
	attached    *timeline[[]attachment]
	visibleFrom time.Time // zero for a user
	kind        string    // "Role" or "User", as the error codes spell it
}

// holder finds the role (kind "Role") or user ("User") the request names,
// after authorizing action on it.
func (k *call) holder(kind, action string) (holder, *Error) {
	if kind == "Role" {
		r, e := k.role(action)
		if e != nil {
			return holder{}, e
		}
		return holder{name: r.name, attached: &r.attached, visibleFrom: r.visibleFrom, kind: kind}, nil
	}
	u, e := k.user(action)
	if e != nil {
		return holder{}, e
	}
	return holder{name: u.name, attached: &u.attached, kind: kind}, nil
}

// attachPolicy serves AttachPolicyTo{Role,User}. A role or policy created
// within the visibility delay is not found yet.
func (k *call) attachPolicy(kind, action string) *Error {
	typ, e := k.policyType()
	if e != nil {
		return e
	}
	h, e := k.holder(kind, action)
	if e != nil {
		return e
	}
	if k.now.Before(h.visibleFrom) {
		return k.fail("EntityNotExist."+kind, h.name+" (not yet visible)")
	}
	p, e := k.policy(action, typ)
	if e != nil {
		return e
	}
	if k.now.Before(p.visibleFrom) {
		return k.fail("EntityNotExist.Policy", p.name+" (not yet visible)")
	}
	return k.attach(h.attached, p, "EntityAlreadyExists."+kind+".Policy", "LimitExceeded."+kind+".Policy")
}

// detachPolicy serves DetachPolicyFrom{Role,User}.
func (k *call) detachPolicy(kind, action string) *Error {
	typ, e := k.policyType()
	if e != nil {
		return e
	}
	h, e := k.holder(kind, action)
	if e != nil {
		return e
	}
	p, e := k.policy(action, typ)
	if e != nil {
		return e
	}
	if e := k.detach(h.attached, p, "EntityNotExist."+kind+".Policy"); e != nil {
		return e
	}
	if kind == "Role" {
		p.roleDetached = k.now
	}
	return nil
}

// policyListing is one entry of ListPoliciesFor{Role,User}. The SDK's two
// entry types have the same fields, so one converts to the other.
type policyListing = ram.ListPoliciesForRoleResponseBodyPoliciesPolicy

// attachedPolicies serves ListPoliciesFor{Role,User}.
func (k *call) attachedPolicies(kind, action string) ([]policyListing, *Error) {
	h, e := k.holder(kind, action)
	if e != nil {
		return nil, e
	}
	var out []policyListing
	for _, a := range h.attached.latest() {
		out = append(out, policyListing{AttachDate: ramDate(a.at), DefaultVersion: tea.String(a.policy.defaultID),
			Description: tea.String(a.policy.description), PolicyName: tea.String(a.policy.name), PolicyType: tea.String(a.policy.typ)})
	}
	return out, nil
}

func (k *call) ramAttachPolicyToRole() (any, *Error) {
	if e := k.attachPolicy("Role", "AttachPolicyToRole"); e != nil {
		return nil, e
	}
	return &ram.AttachPolicyToRoleResponseBody{RequestId: k.requestID()}, nil
}

func (k *call) ramDetachPolicyFromRole() (any, *Error) {
	if e := k.detachPolicy("Role", "DetachPolicyFromRole"); e != nil {
		return nil, e
	}
	return &ram.DetachPolicyFromRoleResponseBody{RequestId: k.requestID()}, nil
}

func (k *call) ramListPoliciesForRole() (any, *Error) {
	list, e := k.attachedPolicies("Role", "ListPoliciesForRole")
	if e != nil {
		return nil, e
	}
	body := &ram.ListPoliciesForRoleResponseBody{RequestId: k.requestID(), Policies: &ram.ListPoliciesForRoleResponseBodyPolicies{
		Policy: []*ram.ListPoliciesForRoleResponseBodyPoliciesPolicy{}}}
	for i := range list {
		body.Policies.Policy = append(body.Policies.Policy, &list[i])
	}
	return body, nil
}

func (k *call) ramListEntitiesForPolicy() (any, *Error) {
	typ, e := k.policyType()
	if e != nil {
		return nil, e
	}
	p, e := k.policy("ListEntitiesForPolicy", typ)
	if e != nil {
		return nil, e
	}
	acct := k.who.acct
	body := &ram.ListEntitiesForPolicyResponseBody{RequestId: k.requestID(),
		Groups: &ram.ListEntitiesForPolicyResponseBodyGroups{Group: []*ram.ListEntitiesForPolicyResponseBodyGroupsGroup{}},
		Roles:  &ram.ListEntitiesForPolicyResponseBodyRoles{Role: []*ram.ListEntitiesForPolicyResponseBodyRolesRole{}},
		Users:  &ram.ListEntitiesForPolicyResponseBodyUsers{User: []*ram.ListEntitiesForPolicyResponseBodyUsersUser{}}}
	for _, name := range sortedKeys(acct.roles) {
		r := acct.roles[name]
		for _, a := range r.attached.latest() {
			if a.policy == p {
				body.Roles.Role = append(body.Roles.Role, &ram.ListEntitiesForPolicyResponseBodyRolesRole{
					Arn: tea.String(arn.RAMRole(acct.id, r.name).String()), AttachDate: ramDate(a.at),
					Description: tea.String(r.description), RoleId: tea.String(r.id), RoleName: tea.String(r.name)})
			}
		}
	}
	for _, name := range sortedKeys(acct.users) {
		u := acct.users[name]
		for _, a := range u.attached.latest() {
			if a.policy == p {
				body.Users.User = append(body.Users.User, &ram.ListEntitiesForPolicyResponseBodyUsersUser{
					AttachDate: ramDate(a.at), DisplayName: tea.String(u.display), UserId: tea.String(u.id), UserName: tea.String(u.name)})
			}
		}
	}
	return body, nil
}
