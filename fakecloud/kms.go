package fakecloud

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// KMS 2016-01-20: keys, key policies, instances and the data plane. Keys
// are found by ID, alias or ARN; a bare ID or alias resolves only in the
// caller's own account and the request's region, so other accounts must
// name a key by its ARN (kms.md §4.1).

const maxKeyPolicyBytes = 32768

// symmetricSpec reports whether keys of spec encrypt and decrypt.
func symmetricSpec(spec string) bool {
	switch spec {
	case "Aliyun_AES_256", "Aliyun_AES_128", "Aliyun_AES_192", "Aliyun_SM4":
		return true
	}
	return false
}

func knownSpec(spec string) bool {
	switch spec {
	case "RSA_2048", "RSA_3072", "EC_P256", "EC_P256K", "EC_SM2":
		return true
	}
	return symmetricSpec(spec)
}

// createKeyLocked creates a key for set-up and for CreateKey.
func (c *Cloud) createKeyLocked(acct *account, region string, inst *instance, opts KeyOptions, origin string, now time.Time) (*key, *Error) {
	fail := func(code, detail string) *Error { return c.newError("kms", "CreateKey", code, detail) }
	if opts.Spec == "" {
		opts.Spec = "Aliyun_AES_256"
	}
	if opts.Usage == "" {
		opts.Usage = "ENCRYPT/DECRYPT"
		if !symmetricSpec(opts.Spec) {
			opts.Usage = "SIGN/VERIFY"
		}
	}
	if !knownSpec(opts.Spec) {
		return nil, fail("InvalidParameter", "KeySpec "+opts.Spec)
	}
	if opts.Usage != "ENCRYPT/DECRYPT" && opts.Usage != "SIGN/VERIFY" {
		return nil, fail("InvalidParameter", "KeyUsage "+opts.Usage)
	}
	if symmetricSpec(opts.Spec) && opts.Usage != "ENCRYPT/DECRYPT" {
		return nil, fail("InvalidParameter", "symmetric keys are ENCRYPT/DECRYPT")
	}
	if origin == "" {
		origin = "Aliyun_KMS"
		if inst != nil && inst.external {
			origin = "EXTERNAL"
		}
	}
	switch {
	case inst != nil && inst.external && origin != "EXTERNAL":
		return nil, fail("UnsupportedOperation", "keys of an external key management instance have Origin EXTERNAL")
	case inst != nil && inst.external && opts.Spec != "Aliyun_AES_256":
		return nil, fail("UnsupportedOperation", "external keys are Aliyun_AES_256 only")
	case (inst == nil || !inst.external) && origin != "Aliyun_KMS":
		return nil, fail("UnsupportedOperation", "Origin "+origin+" (key material import is not emulated)")
	}
	var doc *policy.Document
	raw := ""
	if inst != nil {
		if inst.status != "Connected" {
			return nil, fail("Forbidden.DKMSInstanceStateInvalid", "instance "+inst.id+" is "+inst.status)
		}
		if n := liveKeys(inst, now); n >= inst.keyQuota {
			return nil, fail("Rejected.LimitExceeded", fmt.Sprintf("instance %s holds %d keys", inst.id, n))
		}
		if raw = opts.Policy; raw == "" {
			// KMS gives a key created without a policy the default one
			// (kms.md §6); the owner's ID is valid, Cloud made it.
			doc, _ = policy.DefaultKeyPolicy(acct.id)
			raw = doc.String()
		} else {
			var e *Error
			if doc, e = c.checkKeyPolicy(acct, raw, now, fail); e != nil {
				return nil, e
			}
		}
		if e := c.checkQuota(inst, now, &key{account: acct}, doc, fail); e != nil {
			return nil, e
		}
	} else if opts.Policy != "" {
		return nil, fail("Forbidden.KeyPolicyUnSupported", "keys outside a KMS instance have no key policy")
	}
	var alias string
	if opts.Alias != "" {
		alias = opts.Alias
		if !strings.HasPrefix(alias, "alias/") {
			alias = "alias/" + alias
		}
		if acct.aliases[region+"/"+alias] != nil {
			return nil, fail("InvalidParameter", "alias "+alias+" exists")
		}
	}
	id := "key-" + regionTag(region) + c.ids.chars(lowerAlnum, 21)
	for c.keys[id] != nil {
		id = "key-" + regionTag(region) + c.ids.chars(lowerAlnum, 21)
	}
	k := &key{account: acct, id: id, region: region, arn: arn.KMSKey(region, acct.id, id).String(), inst: inst,
		description: opts.Description, spec: opts.Spec, usage: opts.Usage, origin: origin, protection: "SOFTWARE",
		created: now, state: keyEnabled, versionID: c.ids.uuid(), material: make([]byte, 32),
		policyRaw: raw, policy: newTimeline(doc), externalEnabled: true,
		deleteProtected: opts.DeletionProtection, rotation: opts.AutomaticRotation}
	rand.Read(k.material)
	c.keys[id] = k
	if inst != nil {
		c.changeInstance(inst, now, func() { inst.keys = append(inst.keys, k) })
	}
	if alias != "" {
		acct.aliases[region+"/"+alias] = k
	}
	return k, nil
}

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

// resolveKey finds the key a KeyId parameter names.
func (k *call) resolveKey(ref string) (*key, *Error) {
	c := k.c
	acct, region, id := k.who.acct.id, k.region, ref
	var alias string
	switch {
	case strings.HasPrefix(ref, "acs:"):
		a, err := arn.Parse(ref)
		if err != nil || a.Service != "kms" {
			return nil, k.fail("Forbidden.KeyNotFound", "KeyId "+ref)
		}
		acct, region = a.AccountID, a.Region
		switch a.ResourceType() {
		case "key":
			id = a.ResourceName()
		case "alias":
			alias = a.Resource
		default:
			return nil, k.fail("Forbidden.KeyNotFound", "KeyId "+ref)
		}
	case strings.HasPrefix(ref, "alias/"):
		alias = ref
	}
	if alias != "" {
		owner := c.accounts[acct]
		var key *key
		if owner != nil {
			key = owner.aliases[region+"/"+alias]
		}
		if key == nil || key.gone(k.now) {
			return nil, k.fail("Forbidden.AliasNotFound", alias)
		}
		k.target = key.account.id
		return key, nil
	}
	key := c.keys[id]
	if key == nil || key.account.id != acct || key.region != region || key.gone(k.now) {
		return nil, k.fail("Forbidden.KeyNotFound", id)
	}
	k.target = key.account.id
	return key, nil
}

// keyFor resolves the KeyId parameter and authorizes action on the key.
func (k *call) keyFor(action string) (*key, *Error) {
	ref, e := k.required("KeyId")
	if e != nil {
		return nil, e
	}
	key, e := k.resolveKey(ref)
	if e != nil {
		return nil, e
	}
	if cryptoActions[action] {
		// The network path is decided first: a refused path says nothing
		// about permissions.
		if e := k.reachable(key); e != nil {
			return nil, e
		}
	}
	if !k.allowedOnKey("kms:"+action, key) {
		return nil, k.fail("Forbidden.NoPermission", "")
	}
	return key, nil
}

// usable checks that a key can run a cryptographic operation now.
func (k *call) usable(key *key) *Error {
	switch key.state {
	case keyDisabled:
		return k.fail("Rejected.Disabled", "")
	case keyPendingDeletion:
		return k.fail("Rejected.PendingDeletion", "")
	}
	if !symmetricSpec(key.spec) || key.usage != "ENCRYPT/DECRYPT" {
		return k.fail("UnsupportedOperation", "key "+key.id+" is "+key.spec+" "+key.usage)
	}
	if key.inst != nil && key.inst.external {
		if !key.inst.proxyConnected {
			return k.fail("Rejected.Unavailable", "the XKI proxy of "+key.inst.id+" is not connected")
		}
		if !key.externalEnabled {
			return k.fail("Rejected.Unavailable", "the external key is not enabled")
		}
	}
	return nil
}

func date(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return tea.String(t.UTC().Format("2006-01-02T15:04:05Z"))
}

// metadata is DescribeKey's view of a key.
func (k *call) metadata(key *key) *kms.DescribeKeyResponseBodyKeyMetadata {
	md := &kms.DescribeKeyResponseBodyKeyMetadata{
		Arn:                tea.String(key.arn),
		AutomaticRotation:  tea.String("Disabled"),
		CreationDate:       date(key.created),
		Creator:            tea.String(key.account.id),
		DeletionProtection: tea.String("Disabled"),
		Description:        tea.String(key.description),
		KeyId:              tea.String(key.id),
		KeySpec:            tea.String(key.spec),
		KeyState:           tea.String(key.state),
		KeyUsage:           tea.String(key.usage),
		LastRotationDate:   date(key.created),
		MaterialExpireTime: tea.String(""),
		Origin:             tea.String(key.origin),
		PrimaryKeyVersion:  tea.String(key.versionID),
		ProtectionLevel:    tea.String(key.protection),
	}
	if key.inst != nil {
		md.DKMSInstanceId = tea.String(key.inst.id)
	}
	if key.deleteProtected {
		md.DeletionProtection = tea.String("Enabled")
	}
	if key.rotation {
		md.AutomaticRotation = tea.String("Enabled")
	}
	if key.state == keyPendingDeletion {
		md.DeleteDate = date(key.deleteDate)
	}
	return md
}

func (k *call) kmsCreateKey() (any, *Error) {
	c := k.c
	if !k.allowed("kms:CreateKey", k.kmsResource("key")) {
		return nil, k.fail("Forbidden.NoPermission", "")
	}
	k.target = k.who.acct.id
	var inst *instance
	if id := k.param("DKMSInstanceId"); id != "" {
		inst = c.instances[id]
		if inst == nil || inst.account != k.who.acct || inst.region != k.region {
			return nil, k.fail("Forbidden.DKMSInstanceNotFound", id)
		}
	}
	if k.param("EnableAutomaticRotation") == "true" && inst != nil && inst.external {
		return nil, k.fail("UnsupportedOperation", "external keys do not rotate")
	}
	if pl := k.param("ProtectionLevel"); pl != "" && pl != "SOFTWARE" && pl != "HSM" {
		return nil, k.fail("InvalidParameter", "ProtectionLevel "+pl)
	}
	opts := KeyOptions{Description: k.param("Description"), Policy: k.param("Policy"), Spec: k.param("KeySpec"), Usage: k.param("KeyUsage"),
		AutomaticRotation: k.param("EnableAutomaticRotation") == "true"}
	key, e := c.createKeyLocked(k.who.acct, k.region, inst, opts, k.param("Origin"), k.now)
	if e != nil {
		return nil, e
	}
	if pl := k.param("ProtectionLevel"); pl != "" {
		key.protection = pl
	}
	md := k.metadata(key)
	return &kms.CreateKeyResponseBody{RequestId: k.requestID(), KeyMetadata: &kms.CreateKeyResponseBodyKeyMetadata{
		Arn: md.Arn, AutomaticRotation: md.AutomaticRotation, CreationDate: md.CreationDate, Creator: md.Creator,
		DKMSInstanceId: md.DKMSInstanceId, Description: md.Description, KeyId: md.KeyId, KeySpec: md.KeySpec,
		KeyState: md.KeyState, KeyUsage: md.KeyUsage, LastRotationDate: md.LastRotationDate,
		MaterialExpireTime: md.MaterialExpireTime, Origin: md.Origin, PrimaryKeyVersion: md.PrimaryKeyVersion,
		ProtectionLevel: md.ProtectionLevel,
	}}, nil
}

func (k *call) kmsDescribeKey() (any, *Error) {
	key, e := k.keyFor("DescribeKey")
	if e != nil {
		return nil, e
	}
	return &kms.DescribeKeyResponseBody{RequestId: k.requestID(), KeyMetadata: k.metadata(key)}, nil
}

// listFilter is one element of ListKeys' Filters.
type listFilter struct {
	Key    string
	Values []string
}

func (k *call) kmsListKeys() (any, *Error) {
	if !k.allowed("kms:ListKeys", k.kmsResource("key")) {
		return nil, k.fail("Forbidden.NoPermission", "")
	}
	k.target = k.who.acct.id
	page, size, e := k.paging(10, 100)
	if e != nil {
		return nil, e
	}
	var filters []listFilter
	if f := k.param("Filters"); f != "" {
		if err := json.Unmarshal([]byte(f), &filters); err != nil {
			return nil, k.fail("InvalidParameter", "Filters is not a JSON list of {Key, Values}")
		}
		for _, fl := range filters {
			switch fl.Key {
			case "KeyState", "KeySpec", "KeyUsage", "ProtectionLevel":
			default:
				return nil, k.fail("InvalidParameter", "unsupported filter key "+fl.Key)
			}
		}
	}
	var keys []*key
	for _, key := range k.c.keys {
		if key.account == k.who.acct && key.region == k.region && !key.gone(k.now) && matchesFilters(key, filters) {
			keys = append(keys, key)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].created.Equal(keys[j].created) {
			return keys[i].created.Before(keys[j].created)
		}
		return keys[i].id < keys[j].id
	})
	body := &kms.ListKeysResponseBody{RequestId: k.requestID(), PageNumber: tea.Int32(int32(page)), PageSize: tea.Int32(int32(size)),
		TotalCount: tea.Int32(int32(len(keys))), Keys: &kms.ListKeysResponseBodyKeys{Key: []*kms.ListKeysResponseBodyKeysKey{}}}
	for _, key := range pageOf(keys, page, size) {
		body.Keys.Key = append(body.Keys.Key, &kms.ListKeysResponseBodyKeysKey{KeyArn: tea.String(key.arn), KeyId: tea.String(key.id)})
	}
	return body, nil
}

func matchesFilters(key *key, filters []listFilter) bool {
	for _, f := range filters {
		var v string
		switch f.Key {
		case "KeyState":
			v = key.state
		case "KeySpec":
			v = key.spec
		case "KeyUsage":
			v = key.usage
		case "ProtectionLevel":
			v = key.protection
		}
		if !containsString(f.Values, v) {
			return false
		}
	}
	return true
}

// paging reads PageNumber and PageSize.
func (k *call) paging(defSize, maxSize int) (page, size int, e *Error) {
	page, size = 1, defSize
	if v := k.param("PageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, k.fail("InvalidParameter", "PageNumber "+v)
		}
		page = n
	}
	if v := k.param("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSize {
			return 0, 0, k.fail("InvalidParameter", "PageSize "+v)
		}
		size = n
	}
	return page, size, nil
}

func pageOf[T any](items []T, page, size int) []T {
	start := (page - 1) * size
	if start >= len(items) {
		return nil
	}
	return items[start:min(start+size, len(items))]
}

func (k *call) kmsEnableKey() (any, *Error) {
	key, e := k.keyFor("EnableKey")
	if e != nil {
		return nil, e
	}
	if key.state == keyPendingDeletion {
		return nil, k.fail("Rejected.PendingDeletion", "")
	}
	key.state = keyEnabled
	return &kms.EnableKeyResponseBody{RequestId: k.requestID()}, nil
}

func (k *call) kmsDisableKey() (any, *Error) {
	key, e := k.keyFor("DisableKey")
	if e != nil {
		return nil, e
	}
	if key.state == keyPendingDeletion {
		return nil, k.fail("Rejected.PendingDeletion", "")
	}
	key.state = keyDisabled
	return &kms.DisableKeyResponseBody{RequestId: k.requestID()}, nil
}

func (k *call) kmsScheduleKeyDeletion() (any, *Error) {
	key, e := k.keyFor("ScheduleKeyDeletion")
	if e != nil {
		return nil, e
	}
	v, e := k.required("PendingWindowInDays")
	if e != nil {
		return nil, e
	}
	days, err := strconv.Atoi(v)
	if err != nil || days < 7 || days > 366 {
		return nil, k.fail("InvalidParameter", "PendingWindowInDays must be 7 to 366")
	}
	if key.state == keyPendingDeletion {
		return nil, k.fail("Rejected.PendingDeletion", "")
	}
	key.state = keyPendingDeletion
	key.deleteDate = k.now.Add(time.Duration(days) * 24 * time.Hour)
	return &kms.ScheduleKeyDeletionResponseBody{RequestId: k.requestID()}, nil
}

func (k *call) kmsCancelKeyDeletion() (any, *Error) {
	key, e := k.keyFor("CancelKeyDeletion")
	if e != nil {
		return nil, e
	}
	if key.state != keyPendingDeletion {
		return nil, k.fail("Rejected.UnexpectedState", "the key is "+key.state)
	}
	key.state, key.deleteDate = keyEnabled, time.Time{}
	return &kms.CancelKeyDeletionResponseBody{RequestId: k.requestID()}, nil
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

// instanceFor finds the caller's instance named by KmsInstanceId.
func (k *call) instanceFor(action string) (*instance, *Error) {
	id, e := k.required("KmsInstanceId")
	if e != nil {
		return nil, e
	}
	inst := k.c.instances[id]
	if inst == nil || inst.account != k.who.acct || inst.region != k.region {
		return nil, k.fail("Forbidden.DKMSInstanceNotFound", id)
	}
	k.target = inst.account.id
	if !k.allowed("kms:"+action, k.kmsResource("keystore/"+inst.id)) {
		return nil, k.fail("Forbidden.NoPermission", "")
	}
	return inst, nil
}

func (k *call) kmsGetKmsInstance() (any, *Error) {
	inst, e := k.instanceFor("GetKmsInstance")
	if e != nil {
		return nil, e
	}
	live := liveKeys(inst, k.now)
	vpcs := inst.boundVPCs()
	productType := "kms_ddi_public_cn"
	if inst.external {
		productType = "kms_xki_public_cn"
	}
	return &kms.GetKmsInstanceResponseBody{RequestId: k.requestID(), KmsInstance: &kms.GetKmsInstanceResponseBodyKmsInstance{
		InstanceId: tea.String(inst.id), InstanceName: tea.String(inst.name), Status: tea.String(inst.status),
		VpcNum: tea.Int64(int64(inst.quota)), KeyNum: tea.Int64(int64(live)), SecretNum: tea.String("0"),
		Spec: tea.Int64(1000), ProductType: tea.String(productType), ProductVersion: tea.String("3"),
		ChargeType: tea.String("PREPAY"), SaleStatus: tea.String("NORMAL"),
		CreateTime: date(inst.created), StartDate: date(inst.created), EndDate: date(inst.created.AddDate(1, 0, 0)),
		BindVpcs:   &kms.GetKmsInstanceResponseBodyKmsInstanceBindVpcs{BindVpc: vpcs},
		VpcId:      tea.String(inst.vpc),
		VswitchIds: []*string{}, ZoneIds: []*string{tea.String(inst.region + "-a")},
	}}, nil
}

func (k *call) kmsListKmsInstances() (any, *Error) {
	if !k.allowed("kms:ListKmsInstances", k.kmsResource("keystore")) {
		return nil, k.fail("Forbidden.NoPermission", "")
	}
	k.target = k.who.acct.id
	page, size, e := k.paging(10, 100)
	if e != nil {
		return nil, e
	}
	var insts []*instance
	for _, inst := range k.c.instances {
		if inst.account == k.who.acct && inst.region == k.region {
			insts = append(insts, inst)
		}
	}
	sort.Slice(insts, func(i, j int) bool {
		if !insts[i].created.Equal(insts[j].created) {
			return insts[i].created.Before(insts[j].created)
		}
		return insts[i].id < insts[j].id
	})
	body := &kms.ListKmsInstancesResponseBody{RequestId: k.requestID(), PageNumber: tea.Int64(int64(page)),
		PageSize: tea.Int64(int64(size)), TotalCount: tea.Int64(int64(len(insts))),
		KmsInstances: &kms.ListKmsInstancesResponseBodyKmsInstances{KmsInstance: []*kms.ListKmsInstancesResponseBodyKmsInstancesKmsInstance{}}}
	for _, inst := range pageOf(insts, page, size) {
		body.KmsInstances.KmsInstance = append(body.KmsInstances.KmsInstance, &kms.ListKmsInstancesResponseBodyKmsInstancesKmsInstance{
			KmsInstanceId:  tea.String(inst.id),
			KmsInstanceArn: tea.String(arn.ARN{Service: "kms", Region: inst.region, AccountID: inst.account.id, Resource: "keystore/" + inst.id}.String()),
		})
	}
	return body, nil
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

// ---- data plane ----

// dataKeySize reads GenerateDataKey's KeySpec and NumberOfBytes (kms.md §11.1).
func (k *call) dataKeySize() (int, *Error) {
	n := 32
	switch spec := k.param("KeySpec"); spec {
	case "", "AES_256":
	case "AES_128":
		n = 16
	default:
		return 0, k.fail("InvalidParameter", "KeySpec "+spec)
	}
	if v := k.param("NumberOfBytes"); v != "" {
		b, err := strconv.Atoi(v)
		if err != nil || b < 1 || b > 1024 {
			return 0, k.fail("InvalidParameter", "NumberOfBytes must be 1 to 1024")
		}
		n = b
	}
	return n, nil
}

func (k *call) context(name string) (string, *Error) {
	ctx, err := canonicalContext(k.param(name))
	if err != nil {
		return "", k.fail("InvalidParameter", err.Error())
	}
	return ctx, nil
}

// generateDataKey is GenerateDataKey with or without the plaintext.
func (k *call) generateDataKey(action string) (key *key, blob string, plaintext []byte, e *Error) {
	if key, e = k.keyFor(action); e != nil {
		return nil, "", nil, e
	}
	if e = k.usable(key); e != nil {
		return nil, "", nil, e
	}
	n, e := k.dataKeySize()
	if e != nil {
		return nil, "", nil, e
	}
	ctx, e := k.context("EncryptionContext")
	if e != nil {
		return nil, "", nil, e
	}
	plaintext = make([]byte, n)
	rand.Read(plaintext)
	blob, err := seal(key, plaintext, ctx)
	if err != nil {
		wipe(plaintext)
		return nil, "", nil, k.fail("InvalidParameter", "")
	}
	return key, blob, plaintext, nil
}

func (k *call) kmsGenerateDataKey() (any, *Error) {
	key, blob, pt, e := k.generateDataKey("GenerateDataKey")
	if e != nil {
		return nil, e
	}
	defer wipe(pt)
	return &kms.GenerateDataKeyResponseBody{RequestId: k.requestID(), KeyId: tea.String(key.id),
		KeyVersionId: tea.String(key.versionID), CiphertextBlob: tea.String(blob),
		Plaintext: tea.String(base64.StdEncoding.EncodeToString(pt))}, nil
}

func (k *call) kmsGenerateDataKeyWithoutPlaintext() (any, *Error) {
	key, blob, pt, e := k.generateDataKey("GenerateDataKeyWithoutPlaintext")
	if e != nil {
		return nil, e
	}
	wipe(pt)
	return &kms.GenerateDataKeyWithoutPlaintextResponseBody{RequestId: k.requestID(), KeyId: tea.String(key.id),
		KeyVersionId: tea.String(key.versionID), CiphertextBlob: tea.String(blob)}, nil
}

// maxEncryptPlaintext is Encrypt's documented limit, 6 KB (kms.md §11.3).
const maxEncryptPlaintext = 6 * 1024

func (k *call) kmsEncrypt() (any, *Error) {
	key, e := k.keyFor("Encrypt")
	if e != nil {
		return nil, e
	}
	if e = k.usable(key); e != nil {
		return nil, e
	}
	b64, e := k.required("Plaintext")
	if e != nil {
		return nil, e
	}
	pt, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, k.fail("InvalidParameter", "Plaintext must be base64")
	}
	defer wipe(pt)
	if len(pt) > maxEncryptPlaintext {
		return nil, k.fail("InvalidParameter", "Plaintext is larger than 6 KB")
	}
	ctx, e := k.context("EncryptionContext")
	if e != nil {
		return nil, e
	}
	blob, err := seal(key, pt, ctx)
	if err != nil {
		return nil, k.fail("InvalidParameter", "")
	}
	return &kms.EncryptResponseBody{RequestId: k.requestID(), KeyId: tea.String(key.id),
		KeyVersionId: tea.String(key.versionID), CiphertextBlob: tea.String(blob)}, nil
}

// openBlob finds the key of a ciphertext blob, authorizes action on it
// (the key comes from the blob, never from a parameter), checks it is
// usable and decrypts.
func (k *call) openBlob(action, blobParam, contextParam string) (*key, []byte, *Error) {
	b64, e := k.required(blobParam)
	if e != nil {
		return nil, nil, e
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, nil, k.fail("InvalidParameter", blobParam+" is not base64")
	}
	h, header, nonce, sealed, err := parseBlob(raw)
	if err != nil {
		return nil, nil, k.fail("InvalidParameter", blobParam+": "+err.Error())
	}
	key := k.c.keys[h.keyID]
	if key == nil || key.account.id != h.account || key.region != k.region || key.gone(k.now) {
		return nil, nil, k.fail("Forbidden.KeyNotFound", h.keyID)
	}
	k.target = key.account.id
	if e := k.reachable(key); e != nil {
		return nil, nil, e
	}
	if !k.allowedOnKey("kms:"+action, key) {
		return nil, nil, k.fail("Forbidden.NoPermission", "")
	}
	if e := k.usable(key); e != nil {
		return nil, nil, e
	}
	ctx, e := k.context(contextParam)
	if e != nil {
		return nil, nil, e
	}
	if h.version != key.versionID {
		return nil, nil, k.fail("InvalidParameter", "unknown key version")
	}
	pt, err := open(key, header, nonce, sealed, ctx)
	if err != nil {
		return nil, nil, k.fail("InvalidParameter", "the ciphertext or the encryption context does not match")
	}
	return key, pt, nil
}

func (k *call) kmsDecrypt() (any, *Error) {
	key, pt, e := k.openBlob("Decrypt", "CiphertextBlob", "EncryptionContext")
	if e != nil {
		return nil, e
	}
	defer wipe(pt)
	return &kms.DecryptResponseBody{RequestId: k.requestID(), KeyId: tea.String(key.id),
		KeyVersionId: tea.String(key.versionID), Plaintext: tea.String(base64.StdEncoding.EncodeToString(pt))}, nil
}

// kmsReEncrypt decrypts with the blob's key and encrypts under
// DestinationKeyId; the caller needs kms:ReEncrypt on both keys (the
// action name is assumed).
func (k *call) kmsReEncrypt() (any, *Error) {
	if alg := k.param("SourceEncryptionAlgorithm"); alg != "" || k.param("SourceKeyId") != "" {
		return nil, k.fail("UnsupportedOperation", "ReEncrypt of asymmetric ciphertext is not emulated")
	}
	_, pt, e := k.openBlob("ReEncrypt", "CiphertextBlob", "SourceEncryptionContext")
	if e != nil {
		return nil, e
	}
	defer wipe(pt)
	ref, e := k.required("DestinationKeyId")
	if e != nil {
		return nil, e
	}
	dst, e := k.resolveKey(ref)
	if e != nil {
		return nil, e
	}
	if e := k.reachable(dst); e != nil {
		return nil, e
	}
	if !k.allowedOnKey("kms:ReEncrypt", dst) {
		return nil, k.fail("Forbidden.NoPermission", "")
	}
	if e := k.usable(dst); e != nil {
		return nil, e
	}
	ctx, e := k.context("DestinationEncryptionContext")
	if e != nil {
		return nil, e
	}
	blob, err := seal(dst, pt, ctx)
	if err != nil {
		return nil, k.fail("InvalidParameter", "")
	}
	return &kms.ReEncryptResponseBody{RequestId: k.requestID(), KeyId: tea.String(dst.id),
		KeyVersionId: tea.String(dst.versionID), CiphertextBlob: tea.String(blob)}, nil
}
