package fakecloud

import (
	"sort"
	"strconv"
	"strings"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// RAM roles: CreateRole, GetRole, UpdateRole, DeleteRole, ListRoles.

func (k *call) ramCreateRole() (any, *Error) {
	acct := k.who.acct
	name, e := k.ramName("RoleName", k.checkRoleName, "CreateRole", "role")
	if e != nil {
		return nil, e
	}
	raw, e := k.required("AssumeRolePolicyDocument")
	if e != nil {
		return nil, e
	}
	if e := k.checkDescription("Description"); e != nil {
		return nil, e
	}
	maxSession, e := k.maxSession("MaxSessionDuration")
	if e != nil {
		return nil, e
	}
	if maxSession == 0 {
		maxSession = 3600
	}
	doc, e := k.trustDoc(raw)
	if e != nil {
		return nil, e
	}
	if acct.roles[strings.ToLower(name)] != nil {
		return nil, k.fail("EntityAlreadyExists.Role", name)
	}
	r := &role{account: acct, id: k.c.ids.numericID(19), name: name, description: k.param("Description"),
		maxSession: maxSession, created: k.now, updated: k.now, trustRaw: raw, trust: newTimeline(doc),
		attached: newTimeline[[]attachment](nil), visibleFrom: k.now.Add(k.c.visibility)}
	acct.roles[strings.ToLower(name)] = r
	return &ram.CreateRoleResponseBody{RequestId: k.requestID(), Role: &ram.CreateRoleResponseBodyRole{
		Arn: tea.String(arn.RAMRole(acct.id, name).String()), AssumeRolePolicyDocument: tea.String(raw),
		CreateDate: ramDate(r.created), Description: tea.String(r.description), MaxSessionDuration: tea.Int64(r.maxSession),
		RoleId: tea.String(r.id), RoleName: tea.String(r.name)}}, nil
}

func (k *call) ramGetRole() (any, *Error) {
	r, e := k.role("GetRole")
	if e != nil {
		return nil, e
	}
	return &ram.GetRoleResponseBody{RequestId: k.requestID(), Role: &ram.GetRoleResponseBodyRole{
		Arn: tea.String(arn.RAMRole(r.account.id, r.name).String()), AssumeRolePolicyDocument: tea.String(r.trustRaw),
		CreateDate: ramDate(r.created), UpdateDate: ramDate(r.updated), Description: tea.String(r.description),
		MaxSessionDuration: tea.Int64(r.maxSession), RoleId: tea.String(r.id), RoleName: tea.String(r.name)}}, nil
}

func (k *call) ramUpdateRole() (any, *Error) {
	r, e := k.role("UpdateRole")
	if e != nil {
		return nil, e
	}
	if e := k.checkDescription("NewDescription"); e != nil {
		return nil, e
	}
	maxSession, e := k.maxSession("NewMaxSessionDuration")
	if e != nil {
		return nil, e
	}
	var doc *policy.Document
	raw := k.param("NewAssumeRolePolicyDocument")
	if raw != "" {
		if doc, e = k.trustDoc(raw); e != nil {
			return nil, e
		}
	}
	if raw != "" {
		r.trustRaw = raw
		r.trust.set(k.now, doc, k.asOf())
	}
	if _, ok := k.params["NewDescription"]; ok {
		r.description = k.param("NewDescription")
	}
	if maxSession != 0 {
		r.maxSession = maxSession
	}
	r.updated = k.now
	return &ram.UpdateRoleResponseBody{RequestId: k.requestID(), Role: &ram.UpdateRoleResponseBodyRole{
		Arn: tea.String(arn.RAMRole(r.account.id, r.name).String()), AssumeRolePolicyDocument: tea.String(r.trustRaw),
		CreateDate: ramDate(r.created), UpdateDate: ramDate(r.updated), Description: tea.String(r.description),
		MaxSessionDuration: tea.Int64(r.maxSession), RoleId: tea.String(r.id), RoleName: tea.String(r.name)}}, nil
}

func (k *call) ramDeleteRole() (any, *Error) {
	r, e := k.role("DeleteRole")
	if e != nil {
		return nil, e
	}
	if len(r.attached.latest()) > 0 {
		return nil, k.fail("DeleteConflict.Role.Policy", "")
	}
	r.deleted = true
	delete(r.account.roles, strings.ToLower(r.name))
	return &ram.DeleteRoleResponseBody{RequestId: k.requestID()}, nil
}

func (k *call) ramListRoles() (any, *Error) {
	acct := k.who.acct
	if !k.allowed("ram:ListRoles", ramResource(acct.id, "role", "*")) {
		return nil, k.deny()
	}
	max := 100
	if v := k.param("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, k.fail("InvalidParameter.MaxItems", "")
		}
		max = n
	}
	names := make([]string, 0, len(acct.roles))
	for n := range acct.roles {
		names = append(names, n)
	}
	sort.Strings(names)
	// The marker is the lower-case name to continue after.
	if m := k.param("Marker"); m != "" {
		i := sort.SearchStrings(names, m)
		for i < len(names) && names[i] <= m {
			i++
		}
		names = names[i:]
	}
	body := &ram.ListRolesResponseBody{RequestId: k.requestID(), IsTruncated: tea.Bool(len(names) > max),
		Roles: &ram.ListRolesResponseBodyRoles{Role: []*ram.ListRolesResponseBodyRolesRole{}}}
	if len(names) > max {
		names = names[:max]
		body.Marker = tea.String(names[max-1])
	}
	for _, n := range names {
		r := acct.roles[n]
		body.Roles.Role = append(body.Roles.Role, &ram.ListRolesResponseBodyRolesRole{
			Arn: tea.String(arn.RAMRole(acct.id, r.name).String()), CreateDate: ramDate(r.created),
			UpdateDate: ramDate(r.updated), Description: tea.String(r.description),
			MaxSessionDuration: tea.Int64(r.maxSession), RoleId: tea.String(r.id), RoleName: tea.String(r.name)})
	}
	return body, nil
}
