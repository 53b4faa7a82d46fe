package fakecloud

import (
	"slices"
	"strconv"
	"strings"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"
)

// RAM policies: CreatePolicy, GetPolicy (custom and system), DeletePolicy
// and the policy versions of custom policies.

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
	var holders []string // sorted: the message names the same role every run
	for _, r := range p.account.roles {
		if attached(r.attached.latest(), p) {
			holders = append(holders, r.name)
		}
	}
	if len(holders) > 0 {
		return nil, k.fail("DeleteConflict.Role.Policy", "the policy is attached to role "+slices.Min(holders))
	}
	if k.now.Before(p.roleDetached.Add(k.c.visibility)) {
		return nil, k.fail("DeleteConflict.Role.Policy", "a detach from a role is not visible yet")
	}
	delete(p.account.policies, strings.ToLower(p.name))
	return &ram.DeletePolicyResponseBody{RequestId: k.requestID()}, nil
}
