package fakecloud

import (
	"fmt"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/policy"
)

// KMS instance quota: the access management quota (bound VPCs and the
// foreign accounts named by key policies, kms.md §9), the key count, and
// GetKmsInstanceQuotaInfos, which reports them.

// liveKeys counts the instance's keys that have not reached their deletion
// date.
func liveKeys(inst *instance, now time.Time) int {
	n := 0
	for _, k := range inst.keys {
		if !k.gone(now) {
			n++
		}
	}
	return n
}

// foreignInUse is the set of foreign accounts in the instance's live keys'
// policies.
func (c *Cloud) foreignInUse(inst *instance, now time.Time) map[string]bool {
	set := map[string]bool{}
	for _, k := range inst.keys {
		if !k.gone(now) {
			foreignAccounts(k.policy.latest(), inst.account.id, set)
		}
	}
	return set
}

// quotaUsed counts the instance's access management quota in use at now:
// bound VPCs, plus distinct foreign accounts named by its keys' policies
// or released less than the release delay ago (kms.md §9). With change
// set, doc replaces change's policy (or is added, for a new key).
func (c *Cloud) quotaUsed(inst *instance, now time.Time, change *key, doc *policy.Document) int {
	owner := inst.account.id
	set := map[string]bool{}
	seen := false
	for _, k := range inst.keys {
		d := k.policy.latest()
		if k == change {
			d, seen = doc, true
		}
		if k.gone(now) {
			if now.Before(k.deleteDate.Add(c.quotaRelease)) {
				foreignAccounts(d, owner, set)
			}
			continue
		}
		foreignAccounts(d, owner, set)
	}
	if change != nil && !seen {
		foreignAccounts(doc, owner, set)
	}
	for a, t := range inst.released {
		if now.Before(t.Add(c.quotaRelease)) {
			set[a] = true
		}
	}
	return len(set) + len(inst.bound)
}

// checkQuota refuses doc as k's policy (k new or existing) if it takes the
// instance's access management quota past its limit; a change that does not
// add to an already exceeded quota is let through.
func (c *Cloud) checkQuota(inst *instance, now time.Time, k *key, doc *policy.Document, fail func(code, detail string) *Error) *Error {
	before := c.quotaUsed(inst, now, nil, nil)
	if after := c.quotaUsed(inst, now, k, doc); after > inst.quota && after > before {
		return fail("Rejected.ShareQuotaExceedLimit", fmt.Sprintf("%d of %d in use", after, inst.quota))
	}
	return nil
}

// changeInstance makes change to the instance's keys or their policies and
// notes the foreign accounts it released.
func (c *Cloud) changeInstance(inst *instance, now time.Time, change func()) {
	before := c.foreignInUse(inst, now)
	change()
	c.noteReleases(inst, now, before)
}

// noteReleases starts the release delay for accounts that were in use
// before a change and are not any more.
func (c *Cloud) noteReleases(inst *instance, now time.Time, before map[string]bool) {
	after := c.foreignInUse(inst, now)
	for a := range before {
		if !after[a] {
			inst.released[a] = now
		}
	}
	for a, t := range inst.released {
		if after[a] || !now.Before(t.Add(c.quotaRelease)) {
			delete(inst.released, a)
		}
	}
}

// kmsGetKmsInstanceQuotaInfos reports quotas. ResourceType "vpc" is the
// access management quota, with cross-account shares counted in
// UsedQuantity (inferred, kms.md §9.3).
func (k *call) kmsGetKmsInstanceQuotaInfos() (any, *Error) {
	// KmsInstanceId is optional (corrections.md §3): without it, the
	// quotas of all the caller's instances in the region are added up
	// (what the real service answers then is unverified).
	var insts []*instance
	id := ""
	if k.param("KmsInstanceId") != "" {
		inst, e := k.instanceFor("GetKmsInstanceQuotaInfos")
		if e != nil {
			return nil, e
		}
		insts, id = []*instance{inst}, inst.id
	} else {
		if !k.allowed("kms:GetKmsInstanceQuotaInfos", k.kmsResource("keystore")) {
			return nil, k.fail("Forbidden.NoPermission", "")
		}
		k.target = k.who.acct.id
		for _, inst := range k.c.instances {
			if inst.account == k.who.acct && inst.region == k.region {
				insts = append(insts, inst)
			}
		}
	}
	all := map[string][2]int64{"key": {}, "secret": {}, "vpc": {}, "qps": {}}
	add := func(t string, quota, used int) {
		q := all[t]
		all[t] = [2]int64{q[0] + int64(quota), q[1] + int64(used)}
	}
	for _, inst := range insts {
		add("key", inst.keyQuota, liveKeys(inst, k.now))
		add("secret", inst.keyQuota, 0)
		add("vpc", inst.quota, k.c.quotaUsed(inst, k.now, nil, nil))
		add("qps", 1000, 0)
	}
	types := []string{"key", "secret", "vpc", "qps"}
	if rt := k.param("ResourceType"); rt != "" {
		if _, ok := all[rt]; !ok {
			return nil, k.fail("InvalidParameter", "ResourceType "+rt)
		}
		types = []string{rt}
	}
	body := &kms.GetKmsInstanceQuotaInfosResponseBody{RequestId: k.requestID()}
	if id != "" {
		body.KmsInstanceId = tea.String(id)
	}
	for _, t := range types {
		q := all[t]
		body.KmsInstanceQuotaInfos = append(body.KmsInstanceQuotaInfos, &kms.GetKmsInstanceQuotaInfosResponseBodyKmsInstanceQuotaInfos{
			ResourceType: tea.String(t), ResourceQuota: tea.Int64(q[0]), UsedQuantity: tea.Int64(q[1])})
	}
	return body, nil
}
