package fakecloud

import (
	"embed"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// The Go set-up API describes how the cloud already is before a test or
// example starts: accounts, a Resource Directory, users, roles, policies,
// KMS instances and keys. Set-up takes effect at once (no propagation
// delay, no eventual consistency) and is not logged. Everything else goes
// through the wire protocol with the real SDK clients.

//go:embed systempolicies/*.json
var systemPolicyFiles embed.FS

func (c *Cloud) installSystemPolicies() {
	entries, _ := systemPolicyFiles.ReadDir("systempolicies")
	for _, e := range entries {
		data, err := systemPolicyFiles.ReadFile("systempolicies/" + e.Name())
		if err != nil {
			continue
		}
		doc, err := parseDoc(string(data), policy.Permission)
		if err != nil {
			continue // TestSystemPolicies keeps the files valid
		}
		name := strings.TrimSuffix(e.Name(), path.Ext(e.Name()))
		p := &ramPolicy{name: name, typ: "System", description: "System policy " + name, nextVersion: 2, defaultID: "v1",
			versions:  []*policyVersion{{id: "v1", raw: strings.TrimSpace(string(data)), doc: doc}},
			effective: newTimeline(doc)}
		c.system[strings.ToLower(name)] = p
	}
}

// Account is an Alibaba Cloud account of the emulated cloud.
type Account struct {
	ID   string // 16-digit UID
	Name string
	c    *Cloud
}

// NewAccount creates an account with a root access key.
func (c *Cloud) NewAccount(name string) *Account {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.newAccountLocked(name)
}

func (c *Cloud) newAccountLocked(name string) *Account {
	id := c.ids.accountID()
	for c.accounts[id] != nil {
		id = c.ids.accountID()
	}
	a := &account{id: id, name: name,
		users: map[string]*user{}, roles: map[string]*role{}, policies: map[string]*ramPolicy{}, aliases: map[string]*key{}}
	a.root = c.newAccessKeyLocked(a, nil)
	c.accounts[id] = a
	return &Account{ID: id, Name: name, c: c}
}

func (c *Cloud) newAccessKeyLocked(a *account, u *user) *accessKey {
	ak := &accessKey{id: "LTAI" + c.ids.chars(mixedAlnum, 20), secret: secret(mixedAlnum, 30), account: a, user: u, created: c.clock.Now()}
	for c.accessKeys[ak.id] != nil {
		ak.id = "LTAI" + c.ids.chars(mixedAlnum, 20)
	}
	c.accessKeys[ak.id] = ak
	return ak
}

// Account returns the account with the given UID, or nil.
func (c *Cloud) Account(id string) *Account {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a := c.accounts[id]
	if a == nil {
		return nil
	}
	return &Account{ID: a.id, Name: a.name, c: c}
}

// errForeign is returned when a handle does not belong to the cloud it is
// used with (or was built by hand).
var errForeign = errors.New("fakecloud: the handle does not belong to this cloud")

// state returns the account behind the handle, or nil for a handle that
// does not belong to this cloud.
func (a *Account) state() *account {
	if a == nil || a.c == nil {
		return nil
	}
	return a.c.accounts[a.ID]
}

// RootCredentials returns the account's root access key. Root may do
// anything in its own account but may not call AssumeRole.
func (a *Account) RootCredentials() Credentials {
	a.c.mu.RLock()
	defer a.c.mu.RUnlock()
	acct := a.state()
	if acct == nil {
		return Credentials{}
	}
	return Credentials{AccessKeyID: acct.root.id, secret: acct.root.secret}
}

// RootARN returns acs:ram::<uid>:root.
func (a *Account) RootARN() string { return arn.AccountRoot(a.ID).String() }

// User is a RAM user.
type User struct {
	Account *Account
	Name    string
	ID      string // UserId
	ARN     string // acs:ram::<uid>:user/<name>
	creds   Credentials
}

// Credentials returns the user's access key.
func (u *User) Credentials() Credentials { return u.creds }

// NewUser creates a RAM user with one access key and attaches the named
// policies (the account's custom policies first, then system policies).
func (a *Account) NewUser(name string, policies ...string) (*User, error) {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := a.state()
	if acct == nil {
		return nil, errForeign
	}
	if err := arn.ValidateUserName(name); err != nil {
		return nil, fmt.Errorf("fakecloud: %w", err)
	}
	if acct.users[strings.ToLower(name)] != nil {
		return nil, fmt.Errorf("fakecloud: user %q already exists in %s", name, a.ID)
	}
	atts, err := c.resolvePolicies(acct, policies)
	if err != nil {
		return nil, err
	}
	now := c.clock.Now()
	u := &user{account: acct, id: c.ids.numericID(16), name: name, display: name, created: now, updated: now,
		attached: newTimeline(atts)}
	acct.users[strings.ToLower(name)] = u
	ak := c.newAccessKeyLocked(acct, u)
	u.keys = append(u.keys, ak)
	return &User{Account: a, Name: name, ID: u.id, ARN: arn.RAMUser(a.ID, name).String(),
		creds: Credentials{AccessKeyID: ak.id, secret: ak.secret}}, nil
}

// resolvePolicies finds policies by name for set-up attachments.
func (c *Cloud) resolvePolicies(acct *account, names []string) ([]attachment, error) {
	var atts []attachment
	for _, n := range names {
		p := acct.policies[strings.ToLower(n)]
		if p == nil {
			p = c.system[strings.ToLower(n)]
		}
		if p == nil {
			return nil, fmt.Errorf("fakecloud: no policy %q in %s or among system policies", n, acct.id)
		}
		for _, x := range atts {
			if x.policy == p {
				return nil, fmt.Errorf("fakecloud: policy %q named twice", n)
			}
		}
		atts = append(atts, attachment{policy: p, at: c.clock.Now()})
	}
	return atts, nil
}

// Policy is a custom RAM policy.
type Policy struct {
	Account *Account
	Name    string
}

// NewPolicy creates a custom permission policy with document as v1.
func (a *Account) NewPolicy(name, document string) (*Policy, error) {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := a.state()
	if acct == nil {
		return nil, errForeign
	}
	if acct.policies[strings.ToLower(name)] != nil {
		return nil, fmt.Errorf("fakecloud: policy %q already exists in %s", name, a.ID)
	}
	doc, err := parseDoc(document, policy.Permission)
	if err != nil {
		return nil, fmt.Errorf("fakecloud: policy %q: %w", name, err)
	}
	now := c.clock.Now()
	acct.policies[strings.ToLower(name)] = &ramPolicy{account: acct, name: name, typ: "Custom", created: now, updated: now,
		versions: []*policyVersion{{id: "v1", raw: document, doc: doc, created: now}}, nextVersion: 2, defaultID: "v1",
		effective: newTimeline(doc)}
	return &Policy{Account: a, Name: name}, nil
}

func parseDoc(document string, kind policy.Kind) (*policy.Document, error) {
	doc, err := policy.Parse([]byte(document))
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(kind); err != nil {
		return nil, err
	}
	return doc, nil
}

// Role is a RAM role.
type Role struct {
	Account *Account
	Name    string // display case
	ID      string // RoleId
	ARN     string // acs:ram::<uid>:role/<name in lower case>
}

// NewRole creates a RAM role with the given trust policy and attaches the
// named policies.
func (a *Account) NewRole(name, trustPolicy string, policies ...string) (*Role, error) {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := a.state()
	if acct == nil {
		return nil, errForeign
	}
	r, err := c.newRoleLocked(acct, name, trustPolicy, policies...)
	if err != nil {
		return nil, err
	}
	return &Role{Account: a, Name: r.name, ID: r.id, ARN: arn.RAMRole(a.ID, r.name).String()}, nil
}

func (c *Cloud) newRoleLocked(acct *account, name, trustPolicy string, policies ...string) (*role, error) {
	if err := arn.ValidateRoleName(name); err != nil {
		return nil, fmt.Errorf("fakecloud: %w", err)
	}
	if acct.roles[strings.ToLower(name)] != nil {
		return nil, fmt.Errorf("fakecloud: role %q already exists in %s", name, acct.id)
	}
	doc, err := parseDoc(trustPolicy, policy.Trust)
	if err != nil {
		return nil, fmt.Errorf("fakecloud: role %q: %w", name, err)
	}
	atts, err := c.resolvePolicies(acct, policies)
	if err != nil {
		return nil, err
	}
	now := c.clock.Now()
	r := &role{account: acct, id: c.ids.numericID(19), name: name, maxSession: 3600, created: now, updated: now,
		trustRaw: trustPolicy, trust: newTimeline(doc), attached: newTimeline(atts)}
	acct.roles[strings.ToLower(name)] = r
	return r, nil
}

// Attach attaches more policies to the user, effective at once.
func (u *User) Attach(policies ...string) error {
	return u.Account.attachNow("user", u.Name, policies, func(a *account) *timeline[[]attachment] {
		if usr := a.users[strings.ToLower(u.Name)]; usr != nil {
			return &usr.attached
		}
		return nil
	})
}

// Attach attaches more policies to the role, effective at once.
func (r *Role) Attach(policies ...string) error {
	return r.Account.attachNow("role", r.Name, policies, func(a *account) *timeline[[]attachment] {
		if rl := a.roles[strings.ToLower(r.Name)]; rl != nil {
			return &rl.attached
		}
		return nil
	})
}

// attachNow attaches policies to the user or role (kind) name, which
// find looks up in the account's state.
func (a *Account) attachNow(kind, name string, policies []string, find func(*account) *timeline[[]attachment]) error {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := a.state()
	if acct == nil {
		return errForeign
	}
	tl := find(acct)
	if tl == nil {
		return fmt.Errorf("fakecloud: %s %q no longer exists", kind, name)
	}
	atts, err := c.attachMore(acct, tl.latest(), policies)
	if err != nil {
		return err
	}
	tl.reset(atts)
	return nil
}

func (c *Cloud) attachMore(acct *account, have []attachment, names []string) ([]attachment, error) {
	more, err := c.resolvePolicies(acct, names)
	if err != nil {
		return nil, err
	}
	out := append([]attachment{}, have...)
	for _, m := range more {
		for _, h := range have {
			if h.policy == m.policy {
				return nil, fmt.Errorf("fakecloud: policy %q is already attached", m.policy.name)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// ---- Resource Directory ----

// ResourceDirectory is a Resource Directory and its folder tree.
type ResourceDirectory struct {
	ID         string // rd-…
	Management *Account
	root       *Folder
}

// Folder is a folder of a Resource Directory.
type Folder struct {
	RD   *ResourceDirectory
	ID   string // r-… for the root folder, fd-… below
	Name string
	Path string // <rd-id>/<root-id>/…/<folder-id>
}

// Root returns the root folder.
func (rd *ResourceDirectory) Root() *Folder { return rd.root }

// NewResourceDirectory makes mgmt the management account of a new
// Resource Directory. The management account itself sits in the root
// folder.
func (c *Cloud) NewResourceDirectory(mgmt *Account) (*ResourceDirectory, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := mgmt.state()
	if acct == nil {
		return nil, errForeign
	}
	if acct.manages != nil || acct.rd() != nil {
		return nil, errors.New("fakecloud: account " + mgmt.ID + " already belongs to a resource directory")
	}
	rd := &resourceDirectory{id: "rd-" + c.ids.chars(mixedAlnum, 6), mgmt: acct}
	rd.root = &folder{rd: rd, id: "r-" + c.ids.chars(mixedAlnum, 6), name: "Root"}
	rd.root.path = rd.id + "/" + rd.root.id
	rd.folders = map[string]*folder{rd.root.id: rd.root}
	acct.manages, acct.folder = rd, rd.root
	h := &ResourceDirectory{ID: rd.id, Management: mgmt}
	h.root = &Folder{RD: h, ID: rd.root.id, Name: rd.root.name, Path: rd.root.path}
	return h, nil
}

func (f *Folder) state() *folder {
	if f == nil || f.RD == nil {
		return nil
	}
	mgmt := f.RD.Management.state()
	if mgmt == nil || mgmt.manages == nil {
		return nil
	}
	return mgmt.manages.folders[f.ID]
}

// NewFolder creates a folder below f. It returns nil if f does not belong
// to a cloud.
func (f *Folder) NewFolder(name string) *Folder {
	if f == nil || f.RD == nil || f.RD.Management == nil || f.RD.Management.c == nil {
		return nil
	}
	c := f.RD.Management.c
	c.mu.Lock()
	defer c.mu.Unlock()
	parent := f.state()
	if parent == nil {
		return nil
	}
	fd := &folder{rd: parent.rd, id: "fd-" + c.ids.chars(mixedAlnum, 10), name: name}
	fd.path = parent.path + "/" + fd.id
	parent.rd.folders[fd.id] = fd
	return &Folder{RD: f.RD, ID: fd.id, Name: name, Path: fd.path}
}

// NewMember creates an account in folder f. Resource Directory creates
// the member's ResourceDirectoryAccountAccessRole, trusted by the
// management account and holding AdministratorAccess (ram-sts.md §10.1;
// the exact trust and permission text is inferred). It returns nil if f
// does not belong to a cloud.
func (f *Folder) NewMember(name string) *Account {
	if f == nil || f.RD == nil || f.RD.Management == nil || f.RD.Management.c == nil {
		return nil
	}
	c := f.RD.Management.c
	c.mu.Lock()
	defer c.mu.Unlock()
	fd := f.state()
	if fd == nil {
		return nil
	}
	a := c.newAccountLocked(name)
	c.joinLocked(c.accounts[a.ID], fd)
	return a
}

// AddMember moves an existing account (not a management account) into
// folder f, creating its access role if it has none.
func (f *Folder) AddMember(a *Account) error {
	if f == nil || f.RD == nil || f.RD.Management == nil || f.RD.Management.c == nil || a == nil || a.c != f.RD.Management.c {
		return errForeign
	}
	c := f.RD.Management.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct, fd := a.state(), f.state()
	if acct == nil || fd == nil {
		return errForeign
	}
	if acct.manages != nil {
		return errors.New("fakecloud: a management account cannot join another resource directory")
	}
	if rd := acct.rd(); rd != nil && rd != fd.rd {
		return errors.New("fakecloud: account " + a.ID + " is a member of another resource directory")
	}
	c.joinLocked(acct, fd)
	return nil
}

func (c *Cloud) joinLocked(acct *account, fd *folder) {
	acct.folder = fd
	if acct.roles[strings.ToLower(arn.ResourceDirectoryAccessRoleName)] != nil {
		return
	}
	trust, err := policy.TrustRAM(arn.AccountRoot(fd.rd.mgmt.id))
	if err != nil {
		return // the management account's ID is valid: Cloud made it
	}
	if r, err := c.newRoleLocked(acct, arn.ResourceDirectoryAccessRoleName, trust.String(), "AdministratorAccess"); err == nil {
		r.description = "Resource Directory access role"
	}
}

// ---- KMS ----

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
