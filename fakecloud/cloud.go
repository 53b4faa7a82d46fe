package fakecloud

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// DefaultQuotaReleaseDelay is how long KMS keeps counting an account
// against an instance's access management quota after its last grant is
// revoked ("about five minutes", kms.md §9.1).
const DefaultQuotaReleaseDelay = 5 * time.Minute

// Options configure a Cloud. The zero value is a cloud on the real clock
// with no delays, seed 0 and real-time latency faults.
type Options struct {
	// Clock is emulator time; nil means the real clock. Use a ManualClock in
	// tests and a ScaledClock in examples.
	Clock Clock
	// GatewayClock is what the API gateway compares request timestamps
	// (x-acs-date) with: a request more than MaxRequestSkew off is refused
	// with InvalidTimeStamp.Expired. The SDK stamps requests with the
	// host's real clock whatever Clock says, so nil means the real clock;
	// set a clock ahead of or behind real time to rehearse a host whose
	// clock is wrong.
	GatewayClock Clock
	// Seed seeds the source of IDs and fault draws.
	Seed uint64
	// PropagationDelay is how long changes to key policies, RAM policy
	// default versions, trust policies and attachments take to affect
	// authorization. Reads (GetKeyPolicy, GetPolicy, ListPoliciesForRole)
	// show changes at once. Default 0.
	PropagationDelay time.Duration
	// QuotaReleaseDelay is how long a revoked foreign account keeps
	// counting against its instance's access management quota. 0 means
	// DefaultQuotaReleaseDelay; a negative value releases at once.
	QuotaReleaseDelay time.Duration
	// VisibilityDelay makes freshly created roles and policies invisible
	// for this long, as RAM's eventual consistency does: a role to
	// AttachPolicyToRole (EntityNotExist.Role), SetKeyPolicy's principal
	// check (InvalidParameter) and AssumeRole (EntityNotExist.Role); a
	// policy to AttachPolicyTo{Role,User} (EntityNotExist.Policy); and a
	// detach from a role to DeletePolicy (DeleteConflict.Role.Policy).
	// Default 0.
	VisibilityDelay time.Duration
	// Sleep is how an injected latency waits: it must wait for d of real
	// time or until ctx is done. nil means a timer. It is called without
	// any emulator lock held.
	Sleep func(ctx context.Context, d time.Duration) error
	// LogLimit is how many request log entries are kept (the most recent).
	// 0 means DefaultLogLimit; a negative value keeps everything.
	LogLimit int
}

// Cloud is an emulated multi-account Alibaba Cloud: KMS, RAM and STS,
// served over the real wire protocol to the real SDK clients. All methods
// are safe for concurrent use.
type Cloud struct {
	clock        Clock
	gateway      Clock // request timestamps are checked against it
	nonces       nonces
	sleep        func(ctx context.Context, d time.Duration) error
	quotaRelease time.Duration
	visibility   time.Duration
	propagation  atomic.Int64 // time.Duration

	errors map[string]errorDef // immutable after New
	ops    map[string]op       // "kms:DescribeKey" → handler; immutable after New
	admin  *policy.Document    // what an account's root may do: everything

	ids    *idSource
	faults *Faults
	log    Log
	reqSeq atomic.Uint64

	mu         sync.RWMutex // guards everything below
	accounts   map[string]*account
	accessKeys map[string]*accessKey // permanent keys: roots and users
	sessions   map[string]*session   // STS keys
	keys       map[string]*key
	instances  map[string]*instance
	system     map[string]*ramPolicy // system policies by lower-case name
}

// New returns an empty cloud with the system policies installed.
func New(opts Options) *Cloud {
	c := &Cloud{
		clock:        opts.Clock,
		sleep:        opts.Sleep,
		quotaRelease: opts.QuotaReleaseDelay,
		visibility:   opts.VisibilityDelay,
		errors:       errorTable(),
		ids:          newIDSource(opts.Seed),
		faults:       newFaults(opts.Seed),
		accounts:     map[string]*account{},
		accessKeys:   map[string]*accessKey{},
		sessions:     map[string]*session{},
		keys:         map[string]*key{},
		instances:    map[string]*instance{},
		system:       map[string]*ramPolicy{},
	}
	if c.clock == nil {
		c.clock = realClock{}
	}
	c.gateway = opts.GatewayClock
	if c.gateway == nil {
		c.gateway = realClock{}
	}
	if c.sleep == nil {
		c.sleep = cloudapi.Sleep
	}
	switch {
	case c.quotaRelease == 0:
		c.quotaRelease = DefaultQuotaReleaseDelay
	case c.quotaRelease < 0:
		c.quotaRelease = 0
	}
	c.propagation.Store(int64(opts.PropagationDelay))
	c.log.limit = opts.LogLimit
	if c.log.limit == 0 {
		c.log.limit = DefaultLogLimit
	}
	c.ops = c.operations()
	c.admin = &policy.Document{Version: policy.Version, Statement: []policy.Statement{{
		Effect: policy.Allow, Action: policy.Scalar("*"), Resource: policy.Scalar("*"),
	}}}
	c.installSystemPolicies()
	return c
}

// Now returns emulator time.
func (c *Cloud) Now() time.Time { return c.clock.Now() }

// Faults returns the cloud's fault injector.
func (c *Cloud) Faults() *Faults { return c.faults }

// Log returns the cloud's request log.
func (c *Cloud) Log() *Log { return &c.log }

// PropagationDelay returns the current propagation delay.
func (c *Cloud) PropagationDelay() time.Duration { return time.Duration(c.propagation.Load()) }

// SetPropagationDelay changes the propagation delay. History older than
// the previous delay may already be forgotten, so raising it takes full
// effect only for changes made afterwards.
func (c *Cloud) SetPropagationDelay(d time.Duration) {
	if d < 0 {
		d = 0
	}
	c.propagation.Store(int64(d))
}

// ---- state ----
//
// Everything below is guarded by Cloud.mu. Handles given to callers
// (Account, User, Key, …) hold only immutable copies of IDs and names.

type account struct {
	id, name string
	root     *accessKey
	users    map[string]*user      // by lower-case name
	roles    map[string]*role      // by lower-case name
	policies map[string]*ramPolicy // custom policies by lower-case name
	aliases  map[string]*key       // "<region>/alias/<name>"
	// Resource Directory: the directory this account manages, and the
	// directory and folder it is a member of.
	manages *resourceDirectory
	folder  *folder // its directory is folder.rd
}

// rd is the resource directory the account is a member of, or nil.
func (a *account) rd() *resourceDirectory {
	if a.folder == nil {
		return nil
	}
	return a.folder.rd
}

// rdPath is the member's ResourceDirectoryPath: the folder path, then the UID.
func (a *account) rdPath() string {
	if a.folder == nil {
		return ""
	}
	return a.folder.path + "/" + a.id
}

type accessKey struct {
	id, secret string
	account    *account
	user       *user // nil for the account's root key
	created    time.Time
}

type user struct {
	account           *account
	id, name, display string
	created, updated  time.Time
	attached          timeline[[]attachment]
	keys              []*accessKey
}

type role struct {
	account          *account
	id, name         string // name in display case
	description      string
	maxSession       int64
	created, updated time.Time
	trustRaw         string
	trust            timeline[*policy.Document]
	attached         timeline[[]attachment]
	deleted          bool
	visibleFrom      time.Time // attaches see the role from then (Options.VisibilityDelay)
}

// attachment is a policy attached to a user or role.
type attachment struct {
	policy *ramPolicy
	at     time.Time
}

type ramPolicy struct {
	account          *account // nil for system policies
	name, typ        string   // typ: "Custom" or "System"
	description      string
	created, updated time.Time
	versions         []*policyVersion // oldest first
	nextVersion      int
	defaultID        string
	effective        timeline[*policy.Document] // the default version's document
	visibleFrom      time.Time
	roleDetached     time.Time // last detach from a role; DeletePolicy sees it after VisibilityDelay
}

type policyVersion struct {
	id      string // "v1", "v2", …
	raw     string
	doc     *policy.Document
	created time.Time
}

func (p *ramPolicy) version(id string) *policyVersion {
	for _, v := range p.versions {
		if v.id == id {
			return v
		}
	}
	return nil
}

type resourceDirectory struct {
	id      string
	mgmt    *account
	root    *folder
	folders map[string]*folder // by ID, the root included
}

type folder struct {
	rd   *resourceDirectory
	id   string
	name string
	path string // <rd-id>/<root-id>/…/<folder-id>
}

type instance struct {
	account        *account
	id, region     string
	name           string
	external       bool            // an external key management (XKI / HYOK) instance
	quota          int             // access management quota (GetKmsInstance VpcNum)
	vpc            string          // the VPC the instance was created in
	bound          []VPC           // bound VPCs, each costing one unit of quota
	vpcOnly        bool            // crypto calls from the Internet need the account's switch
	internet       map[string]bool // accounts whose Internet access is on
	keyQuota       int
	status         string
	proxyConnected bool // XKI proxy state of an external instance
	created        time.Time
	keys           []*key
	released       map[string]time.Time // foreign account → when its last grant went
	foreign        foreignTally         // cached foreign accounts of each key's policy (kms_quota.go)
}

type key struct {
	account         *account
	id, region, arn string
	inst            *instance // nil for keys outside an instance (no key policy)
	description     string
	spec, usage     string
	origin          string
	protection      string
	created         time.Time
	state           string
	deleteDate      time.Time
	versionID       string
	material        []byte
	policyRaw       string
	policy          timeline[*policy.Document]
	externalEnabled bool
	deleteProtected bool // DescribeKey DeletionProtection
	rotation        bool // DescribeKey AutomaticRotation
}

// gone reports whether a key scheduled for deletion has reached its
// deletion date.
func (k *key) gone(now time.Time) bool {
	return k.state == keyPendingDeletion && !now.Before(k.deleteDate)
}

const (
	keyEnabled         = "Enabled"
	keyDisabled        = "Disabled"
	keyPendingDeletion = "PendingDeletion"
)

type session struct {
	id, secret, token string
	account           *account
	role              *role
	name              string
	expires           time.Time
	policy            *policy.Document // session policy; nil if none
}
