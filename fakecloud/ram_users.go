package fakecloud

import (
	"strings"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"
)

// RAM users and their access keys.

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
