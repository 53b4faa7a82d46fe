package fakecloud

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// RAM 2015-05-01: roles, custom and system policies with versions,
// attachments, users and access keys. Names of roles, policies and users
// are unique case-insensitively and keep their display case (ram-sts.md
// §5.2). Operations act on the caller's own account.

// RAM limits (ram-sts.md §6).
const (
	maxPolicyVersions     = 5
	maxPolicyChars        = 6144
	maxDescription        = 1024
	maxCustomPerPrincipal = 10
	maxSystemPerPrincipal = 20
	maxAccessKeysPerUser  = 2
)

const rotateOldest = "DeleteOldestNonDefaultVersionWhenLimitExceeded"

// validVersionID reports whether id has the form v<N>.
func validVersionID(id string) bool {
	if len(id) < 2 || id[0] != 'v' || id[1] == '0' {
		return false
	}
	for i := 1; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

func ramDate(t time.Time) *string { return tea.String(t.UTC().Format("2006-01-02T15:04:05Z")) }

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

// ---- roles ----

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

// ---- policies ----

func (k *call) ramCreatePolicy() (any, *Error) {
	acct := k.who.acct
	name, e := k.ramName("PolicyName", k.checkPolicyName, "CreatePolicy", "policy")
	if e != nil {
		return nil, e
	}
	raw, e := k.required("PolicyDocument")
	if e != nil {
		return nil, e
	}
	if e := k.checkDescription("Description"); e != nil {
		return nil, e
	}
	doc, e := k.permissionDoc(raw)
	if e != nil {
		return nil, e
	}
	if acct.policies[strings.ToLower(name)] != nil {
		return nil, k.fail("EntityAlreadyExists.Policy", name)
	}
	p := &ramPolicy{account: acct, name: name, typ: "Custom", description: k.param("Description"),
		created: k.now, updated: k.now, nextVersion: 2, defaultID: "v1",
		versions:  []*policyVersion{{id: "v1", raw: raw, doc: doc, created: k.now}},
		effective: newTimeline(doc), visibleFrom: k.now.Add(k.c.visibility)}
	acct.policies[strings.ToLower(name)] = p
	return &ram.CreatePolicyResponseBody{RequestId: k.requestID(), Policy: &ram.CreatePolicyResponseBodyPolicy{
		CreateDate: ramDate(p.created), DefaultVersion: tea.String("v1"), Description: tea.String(p.description),
		PolicyName: tea.String(p.name), PolicyType: tea.String("Custom")}}, nil
}

// attachmentCount counts where p is attached in its account (or, for a
// system policy, in the caller's account).
func (k *call) attachmentCount(p *ramPolicy) int {
	n := 0
	for _, r := range k.who.acct.roles {
		if attached(r.attached.latest(), p) {
			n++
		}
	}
	for _, u := range k.who.acct.users {
		if attached(u.attached.latest(), p) {
			n++
		}
	}
	return n
}

func attached(atts []attachment, p *ramPolicy) bool {
	for _, a := range atts {
		if a.policy == p {
			return true
		}
	}
	return false
}

func (k *call) ramGetPolicy() (any, *Error) {
	typ, e := k.policyType()
	if e != nil {
		return nil, e
	}
	p, e := k.policy("GetPolicy", typ)
	if e != nil {
		return nil, e
	}
	v := p.version(p.defaultID)
	return &ram.GetPolicyResponseBody{RequestId: k.requestID(),
		Policy: &ram.GetPolicyResponseBodyPolicy{AttachmentCount: tea.Int32(int32(k.attachmentCount(p))),
			CreateDate: ramDate(p.created), UpdateDate: ramDate(p.updated), DefaultVersion: tea.String(p.defaultID),
			Description: tea.String(p.description), PolicyDocument: tea.String("N/A"), PolicyName: tea.String(p.name),
			PolicyType: tea.String(p.typ)},
		DefaultPolicyVersion: &ram.GetPolicyResponseBodyDefaultPolicyVersion{CreateDate: ramDate(v.created),
			IsDefaultVersion: tea.Bool(true), PolicyDocument: tea.String(v.raw), VersionId: tea.String(v.id)},
	}, nil
}

// customPolicy finds a custom policy for the version operations.
func (k *call) customPolicy(action string) (*ramPolicy, *Error) {
	return k.policy(action, "Custom")
}

func (k *call) ramCreatePolicyVersion() (any, *Error) {
	p, e := k.customPolicy("CreatePolicyVersion")
	if e != nil {
		return nil, e
	}
	raw, e := k.required("PolicyDocument")
	if e != nil {
		return nil, e
	}
	doc, e := k.permissionDoc(raw)
	if e != nil {
		return nil, e
	}
	strategy := k.param("RotateStrategy")
	if strategy != "" && strategy != "None" && strategy != rotateOldest {
		return nil, k.fail("InvalidParameter.RotateStrategy", "")
	}
	setDefault := k.param("SetAsDefault") == "true"
	if len(p.versions) >= maxPolicyVersions {
		if strategy != rotateOldest {
			return nil, k.fail("LimitExceeded.Policy.Version", "")
		}
		for i, v := range p.versions {
			if v.id != p.defaultID {
				p.versions = append(p.versions[:i], p.versions[i+1:]...)
				break
			}
		}
	}
	v := &policyVersion{id: "v" + strconv.Itoa(p.nextVersion), raw: raw, doc: doc, created: k.now}
	p.nextVersion++
	p.versions = append(p.versions, v)
	p.updated = k.now
	if setDefault {
		p.defaultID = v.id
		p.effective.set(k.now, doc, k.asOf())
	}
	return &ram.CreatePolicyVersionResponseBody{RequestId: k.requestID(), PolicyVersion: &ram.CreatePolicyVersionResponseBodyPolicyVersion{
		CreateDate: ramDate(v.created), IsDefaultVersion: tea.Bool(setDefault), PolicyDocument: tea.String(raw),
		VersionId: tea.String(v.id)}}, nil
}

// versionID reads and checks VersionId.
func (k *call) versionID() (string, *Error) {
	id, e := k.required("VersionId")
	if e != nil {
		return "", e
	}
	if !validVersionID(id) {
		return "", k.fail("InvalidParameter.VersionId.Format", "")
	}
	return id, nil
}

func (k *call) ramGetPolicyVersion() (any, *Error) {
	typ, e := k.policyType()
	if e != nil {
		return nil, e
	}
	p, e := k.policy("GetPolicyVersion", typ)
	if e != nil {
		return nil, e
	}
	id, e := k.versionID()
	if e != nil {
		return nil, e
	}
	v := p.version(id)
	if v == nil {
		return nil, k.fail("EntityNotExist.Policy.Version", id)
	}
	return &ram.GetPolicyVersionResponseBody{RequestId: k.requestID(), PolicyVersion: &ram.GetPolicyVersionResponseBodyPolicyVersion{
		CreateDate: ramDate(v.created), IsDefaultVersion: tea.Bool(v.id == p.defaultID), PolicyDocument: tea.String(v.raw),
		VersionId: tea.String(v.id)}}, nil
}

func (k *call) ramListPolicyVersions() (any, *Error) {
	typ, e := k.policyType()
	if e != nil {
		return nil, e
	}
	p, e := k.policy("ListPolicyVersions", typ)
	if e != nil {
		return nil, e
	}
	body := &ram.ListPolicyVersionsResponseBody{RequestId: k.requestID(), PolicyVersions: &ram.ListPolicyVersionsResponseBodyPolicyVersions{
		PolicyVersion: []*ram.ListPolicyVersionsResponseBodyPolicyVersionsPolicyVersion{}}}
	for _, v := range p.versions {
		body.PolicyVersions.PolicyVersion = append(body.PolicyVersions.PolicyVersion, &ram.ListPolicyVersionsResponseBodyPolicyVersionsPolicyVersion{
			CreateDate: ramDate(v.created), IsDefaultVersion: tea.Bool(v.id == p.defaultID), PolicyDocument: tea.String(v.raw),
			VersionId: tea.String(v.id)})
	}
	return body, nil
}

func (k *call) ramDeletePolicyVersion() (any, *Error) {
	p, e := k.customPolicy("DeletePolicyVersion")
	if e != nil {
		return nil, e
	}
	id, e := k.versionID()
	if e != nil {
		return nil, e
	}
	if p.version(id) == nil {
		return nil, k.fail("EntityNotExist.Policy.Version", id)
	}
	if id == p.defaultID {
		return nil, k.fail("DeleteConflict.Policy.Version.Default", "")
	}
	for i, v := range p.versions {
		if v.id == id {
			p.versions = append(p.versions[:i], p.versions[i+1:]...)
			break
		}
	}
	p.updated = k.now
	return &ram.DeletePolicyVersionResponseBody{RequestId: k.requestID()}, nil
}

func (k *call) ramSetDefaultPolicyVersion() (any, *Error) {
	p, e := k.customPolicy("SetDefaultPolicyVersion")
	if e != nil {
		return nil, e
	}
	id, e := k.versionID()
	if e != nil {
		return nil, e
	}
	v := p.version(id)
	if v == nil {
		return nil, k.fail("EntityNotExist.Policy.Version", id)
	}
	if p.defaultID != id {
		p.defaultID = id
		p.updated = k.now
		p.effective.set(k.now, v.doc, k.asOf())
	}
	return &ram.SetDefaultPolicyVersionResponseBody{RequestId: k.requestID()}, nil
}

func (k *call) ramDeletePolicy() (any, *Error) {
	p, e := k.customPolicy("DeletePolicy")
	if e != nil {
		return nil, e
	}
	if len(p.versions) > 1 && k.param("CascadingDelete") != "true" {
		return nil, k.fail("DeleteConflict.Policy.Version", "")
	}
	for _, u := range p.account.users {
		if attached(u.attached.latest(), p) {
			return nil, k.fail("DeleteConflict.Policy.User", "")
		}
	}
	// A policy attached to a role: RAM documents no DeleteConflict.Policy.Role;
	// it answers DeleteConflict.Role.Policy, which Terraform retries after a
	// detach (corrections.md §5). A detach from a role is not seen by
	// DeletePolicy for VisibilityDelay either.
	for _, r := range p.account.roles {
		if attached(r.attached.latest(), p) {
			return nil, k.fail("DeleteConflict.Role.Policy", "the policy is attached to role "+r.name)
		}
	}
	if k.now.Before(p.roleDetached.Add(k.c.visibility)) {
		return nil, k.fail("DeleteConflict.Role.Policy", "a detach from a role is not visible yet")
	}
	delete(p.account.policies, strings.ToLower(p.name))
	return &ram.DeletePolicyResponseBody{RequestId: k.requestID()}, nil
}

// ---- attachments ----

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

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- users and access keys ----

func (k *call) ramCreateUser() (any, *Error) {
	acct := k.who.acct
	name, e := k.ramName("UserName", k.checkUserName, "CreateUser", "user")
	if e != nil {
		return nil, e
	}
	if acct.users[strings.ToLower(name)] != nil {
		return nil, k.fail("EntityAlreadyExists.User", name)
	}
	display := k.param("DisplayName")
	if display == "" {
		display = name
	}
	u := &user{account: acct, id: k.c.ids.numericID(16), name: name, display: display, created: k.now, updated: k.now,
		attached: newTimeline[[]attachment](nil)}
	acct.users[strings.ToLower(name)] = u
	return &ram.CreateUserResponseBody{RequestId: k.requestID(), User: &ram.CreateUserResponseBodyUser{
		Comments: tea.String(k.param("Comments")), CreateDate: ramDate(u.created), DisplayName: tea.String(u.display),
		UserId: tea.String(u.id), UserName: tea.String(u.name)}}, nil
}

func (k *call) ramGetUser() (any, *Error) {
	u, e := k.user("GetUser")
	if e != nil {
		return nil, e
	}
	return &ram.GetUserResponseBody{RequestId: k.requestID(), User: &ram.GetUserResponseBodyUser{
		CreateDate: ramDate(u.created), UpdateDate: ramDate(u.updated), DisplayName: tea.String(u.display),
		UserId: tea.String(u.id), UserName: tea.String(u.name)}}, nil
}

// ramCreateAccessKey issues a key for UserName (or, without it, for the
// calling user). The response is the only place the secret ever leaves
// the emulator.
func (k *call) ramCreateAccessKey() (any, *Error) {
	if k.param("UserName") == "" && k.who.user != nil {
		k.params["UserName"] = k.who.user.name
	}
	u, e := k.user("CreateAccessKey")
	if e != nil {
		return nil, e
	}
	if len(u.keys) >= maxAccessKeysPerUser {
		return nil, k.fail("LimitExceeded.User.AccessKey", "")
	}
	ak := k.c.newAccessKeyLocked(u.account, u)
	u.keys = append(u.keys, ak)
	return &ram.CreateAccessKeyResponseBody{RequestId: k.requestID(), AccessKey: &ram.CreateAccessKeyResponseBodyAccessKey{
		AccessKeyId: tea.String(ak.id), AccessKeySecret: tea.String(ak.secret), CreateDate: ramDate(ak.created),
		Status: tea.String("Active")}}, nil
}

func (k *call) ramAttachPolicyToUser() (any, *Error) {
	if e := k.attachPolicy("User", "AttachPolicyToUser"); e != nil {
		return nil, e
	}
	return &ram.AttachPolicyToUserResponseBody{RequestId: k.requestID()}, nil
}

func (k *call) ramDetachPolicyFromUser() (any, *Error) {
	if e := k.detachPolicy("User", "DetachPolicyFromUser"); e != nil {
		return nil, e
	}
	return &ram.DetachPolicyFromUserResponseBody{RequestId: k.requestID()}, nil
}

func (k *call) ramListPoliciesForUser() (any, *Error) {
	list, e := k.attachedPolicies("User", "ListPoliciesForUser")
	if e != nil {
		return nil, e
	}
	body := &ram.ListPoliciesForUserResponseBody{RequestId: k.requestID(), Policies: &ram.ListPoliciesForUserResponseBodyPolicies{
		Policy: []*ram.ListPoliciesForUserResponseBodyPoliciesPolicy{}}}
	for i := range list {
		p := ram.ListPoliciesForUserResponseBodyPoliciesPolicy(list[i])
		body.Policies.Policy = append(body.Policies.Policy, &p)
	}
	return body, nil
}
