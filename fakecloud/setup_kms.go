package fakecloud

import (
	"fmt"
	"strings"
	"time"

	"github.com/kmsshare/kmsshare/arn"
)

// Set-up of KMS: instances (dedicated and external) and keys.

// InstanceOptions configure a KMS instance.
type InstanceOptions struct {
	Name string
	// Quota is the access management quota (GetKmsInstance VpcNum): bound
	// VPCs plus distinct foreign accounts in key policies. Default 5.
	Quota int
	// VPCs is the number of VPCs of the owner bound to the instance
	// (vpc-fake0001, …); each uses one unit of Quota.
	VPCs int
	// BindVPCs are more bound VPCs, of any account; each uses one unit of
	// Quota too.
	BindVPCs []VPC
	// VPC is the VPC the instance is created in; "" means one is made up.
	VPC string
	// VPCOnly makes the instance's keys answer cryptographic calls from
	// the Internet only for accounts whose Internet access the owner turned
	// on (SetInternetAccess), as on the real service, where it is off by
	// default. false keeps every account's Internet access on, as earlier
	// versions of the emulator had it.
	VPCOnly bool
	// KeyQuota is how many keys the instance may hold. Default 1000.
	KeyQuota int
	// Status is the instance state; default "Connected".
	Status string
}

// Instance is a KMS instance (kst-…).
type Instance struct {
	Account  *Account
	ID       string
	Region   string
	ARN      string // acs:kms:<region>:<uid>:keystore/<id>
	External bool
}

// NewKMSInstance creates a software key management instance in region.
func (a *Account) NewKMSInstance(region string, opts InstanceOptions) *Instance {
	return a.newInstance(region, opts, false)
}

// NewExternalKMSInstance creates an external key management instance
// (Hold Your Own Key): its keys have Origin EXTERNAL, are symmetric only,
// never rotate, and their cryptographic calls fail with
// Rejected.Unavailable unless the XKI proxy is connected (SetProxyConnected)
// and the external key is enabled (Key.SetExternalKeyEnabled). The proxy
// starts connected.
func (a *Account) NewExternalKMSInstance(region string, opts InstanceOptions) *Instance {
	return a.newInstance(region, opts, true)
}

func (a *Account) newInstance(region string, opts InstanceOptions, external bool) *Instance {
	if a == nil || a.c == nil {
		return nil
	}
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := a.state()
	if acct == nil {
		return nil
	}
	if opts.Quota <= 0 {
		opts.Quota = 5
	}
	if opts.KeyQuota <= 0 {
		opts.KeyQuota = 1000
	}
	if opts.Status == "" {
		opts.Status = "Connected"
	}
	id := "kst-" + regionTag(region) + c.ids.chars(lowerAlnum, 17)
	if opts.Name == "" {
		opts.Name = id
	}
	inst := &instance{account: acct, id: id, region: region, name: opts.Name, external: external,
		quota: opts.Quota, keyQuota: opts.KeyQuota, status: opts.Status, proxyConnected: true,
		created: c.clock.Now(), released: map[string]time.Time{},
		vpc: opts.VPC, vpcOnly: opts.VPCOnly, internet: map[string]bool{}}
	if inst.vpc == "" {
		inst.vpc = "vpc-" + strings.TrimPrefix(id, "kst-")
	}
	for i := range opts.VPCs {
		inst.bound = append(inst.bound, VPC{ID: fmt.Sprintf("vpc-fake%04d", i+1), VSwitchID: fmt.Sprintf("vsw-fake%04d", i+1),
			Region: region, Owner: acct.id})
	}
	for _, v := range opts.BindVPCs {
		if v.Region == "" {
			v.Region = region
		}
		if v.Owner == "" {
			v.Owner = acct.id
		}
		if v.VSwitchID == "" {
			v.VSwitchID = "vsw-" + strings.TrimPrefix(v.ID, "vpc-")
		}
		inst.bound = append(inst.bound, v)
	}
	c.instances[id] = inst
	return &Instance{Account: a, ID: id, Region: region, External: external,
		ARN: arn.ARN{Service: "kms", Region: region, AccountID: a.ID, Resource: "keystore/" + id}.String()}
}

func (i *Instance) state() *instance {
	if i == nil || i.Account == nil || i.Account.c == nil {
		return nil
	}
	return i.Account.c.instances[i.ID]
}

// locked runs f on the instance's state under the cloud's lock; it does
// nothing for a handle that does not belong to a cloud.
func (i *Instance) locked(f func(c *Cloud, inst *instance)) {
	if i == nil || i.Account == nil || i.Account.c == nil {
		return
	}
	c := i.Account.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if inst := i.state(); inst != nil {
		f(c, inst)
	}
}

// SetProxyConnected connects or disconnects the XKI proxy of an external
// instance.
func (i *Instance) SetProxyConnected(connected bool) {
	i.locked(func(_ *Cloud, inst *instance) { inst.proxyConnected = connected })
}

// SetStatus sets the instance state ("Connected", "Disconnected", …).
func (i *Instance) SetStatus(status string) {
	i.locked(func(_ *Cloud, inst *instance) { inst.status = status })
}

// QuotaUsed returns the access management quota in use now: bound VPCs,
// distinct foreign accounts in the key policies, and accounts released
// less than the release delay ago.
func (i *Instance) QuotaUsed() int {
	n := 0
	i.locked(func(c *Cloud, inst *instance) { n = c.quotaUsed(inst, c.clock.Now(), nil, nil) })
	return n
}

// KeyOptions configure a key.
type KeyOptions struct {
	Description string
	// Policy is the key policy; "" means the default policy (only the
	// owner account). Ignored for keys outside an instance.
	Policy string
	// Alias, if set, names the key ("alias/…" prefix optional).
	Alias string
	Spec  string // default Aliyun_AES_256
	Usage string // default ENCRYPT/DECRYPT
	// DeletionProtection and AutomaticRotation are reported by DescribeKey
	// (DeletionProtection, AutomaticRotation "Enabled"); they change nothing
	// else in the emulator.
	DeletionProtection bool
	AutomaticRotation  bool
}

// Key is a KMS key.
type Key struct {
	Account  *Account
	ID       string // key-…
	ARN      string // acs:kms:<region>:<uid>:key/<id>
	Region   string
	Instance *Instance // nil for a key outside an instance
}

// NewKey creates a key in the instance.
func (i *Instance) NewKey(opts KeyOptions) (*Key, error) {
	var k *key
	var e *Error
	found := false
	i.locked(func(c *Cloud, inst *instance) {
		found = true
		k, e = c.createKeyLocked(inst.account, inst.region, inst, opts, "", c.clock.Now())
	})
	switch {
	case !found:
		return nil, errForeign
	case e != nil:
		return nil, e
	}
	return &Key{Account: i.Account, ID: k.id, ARN: k.arn, Region: k.region, Instance: i}, nil
}

// NewDefaultKey creates a key outside any instance (a default key): it
// works for the owner account but supports no key policy.
func (a *Account) NewDefaultKey(region string, opts KeyOptions) (*Key, error) {
	if a == nil || a.c == nil {
		return nil, errForeign
	}
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := a.state()
	if acct == nil {
		return nil, errForeign
	}
	k, e := c.createKeyLocked(acct, region, nil, opts, "", c.clock.Now())
	if e != nil {
		return nil, e
	}
	return &Key{Account: a, ID: k.id, ARN: k.arn, Region: k.region}, nil
}

// Key returns the account's key with the given ID (however it was
// created), or nil.
func (a *Account) Key(id string) *Key {
	if a == nil || a.c == nil {
		return nil
	}
	c := a.c
	c.mu.RLock()
	defer c.mu.RUnlock()
	k := c.keys[id]
	if k == nil || k.account.id != a.ID {
		return nil
	}
	h := &Key{Account: a, ID: k.id, ARN: k.arn, Region: k.region}
	if k.inst != nil {
		h.Instance = &Instance{Account: a, ID: k.inst.id, Region: k.inst.region, External: k.inst.external,
			ARN: arn.ARN{Service: "kms", Region: k.inst.region, AccountID: a.ID, Resource: "keystore/" + k.inst.id}.String()}
	}
	return h
}

// locked runs f on the key's state under the cloud's lock; it does nothing
// for a handle that does not belong to a cloud.
func (k *Key) locked(f func(key *key)) {
	if k == nil || k.Account == nil || k.Account.c == nil {
		return
	}
	c := k.Account.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.keys[k.ID]; st != nil && st.account.id == k.Account.ID {
		f(st)
	}
}

// PolicyDocument returns the key policy as last written (GetKeyPolicy's
// view), or "" for a key outside an instance.
func (k *Key) PolicyDocument() string {
	doc := ""
	k.locked(func(key *key) { doc = key.policyRaw })
	return doc
}

// State returns the key state as DescribeKey shows it.
func (k *Key) State() string {
	state := ""
	k.locked(func(key *key) { state = key.state })
	return state
}

// SetExternalKeyEnabled enables or disables the key material in the
// external key manager (keys of an external instance only).
func (k *Key) SetExternalKeyEnabled(enabled bool) {
	k.locked(func(key *key) { key.externalEnabled = enabled })
}
