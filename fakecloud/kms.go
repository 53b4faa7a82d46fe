package fakecloud

import (
	"crypto/rand"
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

// KMS 2016-01-20. This file holds keys: creation, lookup and the key
// lifecycle actions. Key policies are in kms_keypolicy.go, the instance
// quota in kms_quota.go, instances in kms_instance.go and the data plane
// in kms_crypto.go.
//
// Keys are found by ID, alias or ARN; a bare ID or alias resolves only in
// the caller's own account and the request's region, so other accounts
// must name a key by its ARN (kms.md §4.1).

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
	return tea.String(t.UTC().Format(dateFormat))
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
