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

// quotaUsed counts the instance's access management quota in use at now:
// bound VPCs, plus distinct foreign accounts named by its keys' policies
// or released less than the release delay ago (kms.md §9). With change
// set, doc replaces change's policy (or is added, for a new key). It
// never changes the instance's tally, as GetKmsInstanceQuotaInfos calls it
// under the read lock: a tally that is out of date (a policy written
// without changeInstance) is replaced by a recount in a private one.
func (c *Cloud) quotaUsed(inst *instance, now time.Time, change *key, doc *policy.Document) int {
	t := &inst.foreign
	if !t.inSync(inst) {
		t = &foreignTally{}
		t.sync(inst)
	}
	var add []string
	if change != nil {
		add = foreignList(doc, inst.account.id)
	}
	return c.quotaCount(t, inst, now, change, add)
}

// quotaCount is quotaUsed from tally t, which is in sync with inst, with
// change's foreign accounts replaced by add.
func (c *Cloud) quotaCount(t *foreignTally, inst *instance, now time.Time, change *key, add []string) int {
	u := t.newUsage(inst, c.quotaCounted(now), change, add)
	n := u.size()
	for a, at := range inst.released {
		if now.Before(at.Add(c.quotaRelease)) && !u.has(a) {
			n++
		}
	}
	return n + len(inst.bound)
}

// checkQuota refuses doc as k's policy (k new or existing) if it takes the
// instance's access management quota past its limit; a change that does not
// add to an already exceeded quota is let through. Its callers hold the
// exclusive lock: it brings the tally up to date.
func (c *Cloud) checkQuota(inst *instance, now time.Time, k *key, doc *policy.Document, fail func(code, detail string) *Error) *Error {
	t := &inst.foreign
	t.sync(inst)
	before := c.quotaCount(t, inst, now, nil, nil)
	if after := c.quotaCount(t, inst, now, k, t.list(doc, inst.account.id)); after > inst.quota && after > before {
		return fail("Rejected.ShareQuotaExceedLimit", fmt.Sprintf("%d of %d in use", after, inst.quota))
	}
	return nil
}

// changeInstance makes change to the instance's keys or their policies and
// starts the release delay for the foreign accounts live keys named before
// the change and do not any more. Only accounts whose count the change
// touched, or that deleted keys name, can have been released, so only
// they are looked at.
func (c *Cloud) changeInstance(inst *instance, now time.Time, change func()) {
	t := &inst.foreign
	t.sync(inst)
	live := liveCounted(now)
	before := t.newUsage(inst, live, nil, nil)
	change()
	prior := t.sync(inst)
	after := t.newUsage(inst, live, nil, nil)
	wasUsed := func(a string) bool {
		n, ok := prior[a]
		if !ok {
			n = t.names[a]
		}
		return n+before.delta[a] > 0
	}
	for _, set := range []map[string]int{prior, before.delta, after.delta} {
		for a := range set {
			if wasUsed(a) && !after.has(a) {
				inst.released[a] = now
			}
		}
	}
	for a, at := range inst.released {
		if after.has(a) || !now.Before(at.Add(c.quotaRelease)) {
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
