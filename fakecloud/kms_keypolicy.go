package fakecloud

import (
	"fmt"
	"strings"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// KMS key policies: the checks SetKeyPolicy and CreateKey make on a
// document, the foreign accounts it names, and the two policy actions.

const maxKeyPolicyBytes = 32768

// checkKeyPolicy validates a key policy document the way SetKeyPolicy
// does: size, grammar, and principals of other accounts, whose account
// and named role or user must exist (workflows.md W2).
func (c *Cloud) checkKeyPolicy(owner *account, raw string, now time.Time, fail func(code, detail string) *Error) (*policy.Document, *Error) {
	if len(raw) > maxKeyPolicyBytes {
		return nil, fail("InvalidParameter", fmt.Sprintf("Policy is %d bytes; at most %d", len(raw), maxKeyPolicyBytes))
	}
	doc, err := policy.Parse([]byte(raw))
	if err == nil {
		err = doc.Validate(policy.KeyPolicy)
	}
	if err != nil {
		return nil, fail("InvalidParameter", "Policy: "+err.Error())
	}
	for _, s := range doc.Statement {
		if s.Principal == nil {
			continue
		}
		for _, p := range s.Principal.RAM.Values {
			if msg := c.checkPrincipal(owner, p, now); msg != "" {
				return nil, fail("InvalidParameter", "principal "+p+": "+msg)
			}
		}
	}
	return doc, nil
}

// checkPrincipal reports what is wrong with one key policy principal, or "".
// A role created less than VisibilityDelay before now is not seen yet, and
// is refused like a missing one (RAM is eventually consistent).
func (c *Cloud) checkPrincipal(owner *account, p string, now time.Time) string {
	a, err := arn.ParsePattern(p)
	if err != nil || a.Service != "ram" {
		return "not a RAM principal ARN"
	}
	if a.AccountID == owner.id {
		return ""
	}
	if _, err := arn.Parse(p); err != nil {
		return "principals of other accounts must be exact: " + err.Error()
	}
	acct := c.accounts[a.AccountID]
	if acct == nil {
		return "account " + a.AccountID + " does not exist"
	}
	switch a.ResourceType() {
	case "*", "root":
		return ""
	case "role":
		if r := acct.roles[strings.ToLower(a.ResourceName())]; r == nil || now.Before(r.visibleFrom) {
			return "role " + a.ResourceName() + " does not exist in account " + a.AccountID
		}
		return ""
	case "user":
		if acct.users[strings.ToLower(a.ResourceName())] == nil {
			return "user " + a.ResourceName() + " does not exist in account " + a.AccountID
		}
		return ""
	}
	return "want acs:ram::<uid>:*, :root, :role/<name> or :user/<name>"
}

// foreignAccounts adds to into the accounts that count against the access
// quota (policy.ForeignAccounts: named in Allow statements, a foreign :* or
// :root included; "granting permissions ... consumes the quota", kms.md §9.1).
func foreignAccounts(doc *policy.Document, owner string, into map[string]bool) {
	for _, a := range policy.ForeignAccounts(doc, owner) {
		into[a] = true
	}
}

// policyKey resolves and authorizes the key of GetKeyPolicy and
// SetKeyPolicy and checks that it can have a policy named PolicyName.
func (k *call) policyKey(action string) (*key, *Error) {
	key, e := k.keyFor(action)
	if e != nil {
		return nil, e
	}
	if name := k.param("PolicyName"); name != "" && name != "default" {
		return nil, k.fail("Forbidden.ResourceNotFound", "a key has one policy, named default")
	}
	if key.inst == nil {
		return nil, k.fail("Forbidden.KeyPolicyUnSupported", "")
	}
	return key, nil
}

func (k *call) kmsGetKeyPolicy() (any, *Error) {
	key, e := k.policyKey("GetKeyPolicy")
	if e != nil {
		return nil, e
	}
	return &kms.GetKeyPolicyResponseBody{RequestId: k.requestID(), Policy: tea.String(key.policyRaw)}, nil
}

// kmsSetKeyPolicy replaces the key policy: last writer wins, as the real
// API has no revision or condition (kms.md §4.1).
func (k *call) kmsSetKeyPolicy() (any, *Error) {
	key, e := k.policyKey("SetKeyPolicy")
	if e != nil {
		return nil, e
	}
	raw, e := k.required("Policy")
	if e != nil {
		return nil, e
	}
	inst := key.inst
	if inst.status != "Connected" {
		return nil, k.fail("Forbidden.DKMSInstanceStateInvalid", "instance "+inst.id+" is "+inst.status)
	}
	doc, e := k.c.checkKeyPolicy(key.account, raw, k.now, k.fail)
	if e != nil {
		return nil, e
	}
	if e := k.c.checkQuota(inst, k.now, key, doc, k.fail); e != nil {
		return nil, e
	}
	k.c.changeInstance(inst, k.now, func() {
		key.policyRaw = raw
		key.policy.set(k.now, doc, k.asOf())
	})
	return &kms.SetKeyPolicyResponseBody{RequestId: k.requestID()}, nil
}
