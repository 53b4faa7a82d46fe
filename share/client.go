package share

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// Client shares keys across accounts. It acts with base credentials (usually
// a RAM user or role of the Resource Directory's management account) and
// hops into the key owner's and the recipients' accounts with STS, by default
// through their ResourceDirectoryAccountAccessRole. A Client is safe for
// concurrent use.
type Client struct {
	opts    Options
	factory alicloud.Factory
	base    *alicloud.Clients

	mu       sync.Mutex
	caller   *alicloud.Identity
	sessions map[string]*session         // by canonical role ARN
	keyLocks map[string]*sync.Mutex      // by key ARN: serialises this Client's writes; by role ARN: its AssumeRole
	system   map[string]*policy.Document // system policy documents, which never change
	targets  map[string]NetworkTarget    // by key ARN: its instance and CA, which never change
}

type session struct {
	clients *alicloud.Clients
	creds   alicloud.Credentials         // for clients on other network paths
	paths   map[string]*alicloud.Clients // by network target; guarded by Client.mu
	expires time.Time
}

// Options tune a Client. The zero value of every field means its default.
type Options struct {
	// Concurrency is how many recipients are worked on at once (default 8).
	Concurrency int
	// AccessRoleName is the role assumed in other accounts to manage and
	// verify them (default ResourceDirectoryAccountAccessRole, as in W1).
	AccessRoleName string
	// ExternalID is passed to AssumeRole if the access roles require one.
	ExternalID string
	// SessionName names the STS sessions (default "kmsshare").
	SessionName string
	// SessionDuration is the lifetime of STS credentials (default 1 hour);
	// cached credentials are refreshed 5 minutes before they expire.
	SessionDuration time.Duration
	// Retry is the policy for each API call. It starts as the default:
	// throttling, 5xx and transport failures retried up to 8 times with
	// full-jitter exponential backoff from 100 ms up to 5 s; change the
	// fields you need. Its Sleep waits between attempts; nil means Clock's.
	// A nil Backoff (as New starts it) means the default's, drawing its
	// jitter from Rand.
	Retry Retry
	// Rand draws every random wait of the Client: retry backoff, settle
	// delays, Verify's and the visibility polling. It returns a uniformly
	// random int64 in [0, n). Seed it for runs that wait the same on every
	// run, e.g. rand.New(rand.NewPCG(1, 2)).Int64N from math/rand/v2; the
	// Client calls it under a lock. nil means a source seeded from
	// crypto/rand.
	Rand func(n int64) int64
	// KeyPolicyAttempts bounds the read-modify-write rounds on a key policy
	// when other writers keep overwriting it (default 10).
	KeyPolicyAttempts int
	// SettleDelay is how long Apply waits, at least, before each of the two
	// confirming re-reads of a key policy it wrote, to catch a concurrent
	// writer that read before the write and saved after it (default
	// 200 ms; stretched to 4 times the longest read-modify-write round
	// trip observed, plus jitter). The KMS API has no revision check, so
	// these reads are the only defence against lost updates. A write whose
	// answer was lost but which took effect is confirmed the same way, and
	// after an overwrite Apply waits Retry.Backoff (growing) before merging
	// again.
	SettleDelay time.Duration
	// SkipQuotaCheck turns off Plan's check of the KMS instance's access
	// management quota. SetKeyPolicy still enforces the quota: a share that
	// does not fit fails with ErrQuotaExceeded and changes nothing.
	SkipQuotaCheck bool
	// VerifyTimeout bounds Verify's polling (default 30 minutes, the
	// longest propagation delay practitioners report).
	VerifyTimeout time.Duration
	// VerifyInterval is Verify's first wait between attempts; it doubles up
	// to one minute (default 2 seconds).
	VerifyInterval time.Duration
	// VisibilityWait bounds how long Apply and Verify wait for a role or
	// user that exists in RAM but that KMS (SetKeyPolicy's principal check)
	// or STS (AssumeRole) does not see yet: RAM is eventually consistent,
	// and a role created moments ago is refused as if it did not exist
	// (default 2 minutes). A principal RAM itself does not know fails at
	// once.
	VisibilityWait time.Duration
	// Clock tells time and waits; tests and emulated clouds replace it
	// (default: real time).
	Clock Clock
	// Logger, if set, receives a structured record of every step.
	Logger *slog.Logger
	// Progress, if set, is called for every step and every verification
	// attempt, from any goroutine.
	Progress func(Event)
	// NetworkConfig points the SDK configuration of Verify's cryptographic
	// calls as a recipient at its network path (Recipient.Network): nil
	// means real Alibaba Cloud's gateways: the shared gateway's VPC endpoint,
	// or the instance's dedicated gateway with its CA. Over an emulator,
	// set it to put the path's origin on the transport.
	NetworkConfig func(t NetworkTarget, cfg *openapi.Config)
}

// Retry is the retry policy for API calls.
type Retry = cloudapi.Retry

// Clock tells time and waits.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time                                   { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error { return cloudapi.Sleep(ctx, d) }

func (o *Options) fill() {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.AccessRoleName == "" {
		o.AccessRoleName = arn.ResourceDirectoryAccessRoleName
	}
	if o.SessionName == "" {
		o.SessionName = "kmsshare"
	}
	if o.SessionDuration == 0 {
		o.SessionDuration = time.Hour
	}
	if o.Rand == nil {
		o.Rand = cloudapi.NewRand(cloudapi.RandomSeed())
	} else {
		o.Rand = cloudapi.Locked(o.Rand)
	}
	def := cloudapi.DefaultRetry()
	if o.Retry.MaxAttempts == 0 {
		o.Retry.MaxAttempts = def.MaxAttempts
	}
	if o.Retry.Backoff == nil {
		o.Retry.Backoff = cloudapi.DefaultBackoff(o.Rand)
	}
	if o.Retry.Check == nil {
		o.Retry.Check = def.Check
	}
	if o.KeyPolicyAttempts <= 0 {
		o.KeyPolicyAttempts = 10
	}
	if o.SettleDelay == 0 {
		o.SettleDelay = 200 * time.Millisecond
	}
	if o.VerifyTimeout == 0 {
		o.VerifyTimeout = 30 * time.Minute
	}
	if o.VerifyInterval == 0 {
		o.VerifyInterval = 2 * time.Second
	}
	if o.VisibilityWait == 0 {
		o.VisibilityWait = defaultVisibilityWait
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Retry.Sleep == nil {
		o.Retry.Sleep = o.Clock.Sleep
	}
}

// New returns a Client whose base credentials and endpoints come from cfg.
// For real Alibaba Cloud leave cfg.Endpoint empty and set cfg.RegionId: each
// service then uses its own endpoint. The emulator's configuration serves
// all three services from one endpoint or in-process client.
func New(cfg *openapi.Config, optFns ...func(*Options)) (*Client, error) {
	if cfg == nil {
		return nil, fmt.Errorf("share: nil config")
	}
	o := options(optFns)
	return newClient(alicloud.FactoryFromConfig(cfg, o.Retry), o)
}

// NewFromClients returns a Client that uses the given SDK clients with their
// credentials, and clients built from their settings for other accounts.
func NewFromClients(k *kms.Client, r *ram.Client, s *sts.Client, optFns ...func(*Options)) (*Client, error) {
	if k == nil || r == nil || s == nil {
		return nil, fmt.Errorf("share: nil SDK client")
	}
	o := options(optFns)
	return newClient(alicloud.FactoryFromClients(k, r, s, o.Retry), o)
}

// NewFromDefaultCredentials returns a Client for real Alibaba Cloud whose
// base credentials come from credentials-go's default chain (environment
// variables, the credentials file, an ECS instance RAM role, ...).
func NewFromDefaultCredentials(region string, optFns ...func(*Options)) (*Client, error) {
	cfg, err := alicloud.DefaultChainConfig(region)
	if err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	return New(cfg, optFns...)
}

func options(optFns []func(*Options)) Options {
	o := Options{Retry: cloudapi.DefaultRetry()}
	o.Retry.Backoff = nil // the default, from o.Rand once the options are known
	for _, fn := range optFns {
		fn(&o)
	}
	o.fill()
	return o
}

func newClient(f alicloud.Factory, o Options) (*Client, error) {
	base, err := f.Base()
	if err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	return &Client{opts: o, factory: f, base: base, sessions: map[string]*session{},
		keyLocks: map[string]*sync.Mutex{}, system: map[string]*policy.Document{}, targets: map[string]NetworkTarget{}}, nil
}

// Region is the region the client's KMS configuration points at ("" if unset).
func (c *Client) Region() string { return c.factory.Region() }

// Identity is who a set of credentials belongs to, as STS GetCallerIdentity
// reports it: AccountID, ARN and IdentityType (Account, RAMUser or
// AssumedRoleUser).

// callerIdentity reports who the base credentials belong to.
func (c *Client) callerIdentity(ctx context.Context) (alicloud.Identity, error) {
	c.mu.Lock()
	if c.caller != nil {
		id := *c.caller
		c.mu.Unlock()
		return id, nil
	}
	c.mu.Unlock()
	id, err := c.base.STS.GetCallerIdentity(ctx)
	if err != nil {
		return alicloud.Identity{}, fmt.Errorf("share: who am I (GetCallerIdentity): %w", err)
	}
	c.mu.Lock()
	c.caller = &id
	c.mu.Unlock()
	return id, nil
}

// account returns clients acting in account: the base clients when the
// caller belongs to it, else a cached STS session of the account's access
// role (roleName "" means Options.AccessRoleName).
func (c *Client) account(ctx context.Context, account, roleName string) (*alicloud.Clients, error) {
	me, err := c.callerIdentity(ctx)
	if err != nil {
		return nil, err
	}
	if me.AccountID == account {
		return c.base, nil
	}
	if roleName == "" {
		roleName = c.opts.AccessRoleName
	}
	s, err := c.assume(ctx, c.base, arn.RAMRole(account, roleName))
	if err != nil {
		return nil, err
	}
	return s.clients, nil
}

// assume returns a cached or new session of role, assumed with from.
func (c *Client) assume(ctx context.Context, from *alicloud.Clients, role arn.ARN) (*session, error) {
	key := role.Canonical().String()
	// One AssumeRole per role at a time: goroutines that need the same
	// session wait for the first one's instead of each making their own.
	l := c.keyLock(key)
	l.Lock()
	defer l.Unlock()
	c.mu.Lock()
	s := c.sessions[key]
	c.mu.Unlock()
	if s != nil && c.opts.Clock.Now().Add(5*time.Minute).Before(s.expires) {
		return s, nil
	}
	out, err := from.STS.AssumeRole(ctx, alicloud.AssumeRoleInput{
		RoleARN: role.String(), SessionName: c.opts.SessionName, ExternalID: c.opts.ExternalID, Duration: c.opts.SessionDuration})
	if err != nil {
		return nil, fmt.Errorf("share: assume %s: %w", role, err)
	}
	clients, err := c.factory.With(out.Credentials)
	if err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	s = &session{clients: clients, creds: out.Credentials, expires: out.Credentials.Expiration}
	if s.expires.IsZero() {
		s.expires = c.opts.Clock.Now().Add(c.opts.SessionDuration)
	}
	c.mu.Lock()
	c.sessions[key] = s
	c.mu.Unlock()
	return s, nil
}

// forget drops a cached session, e.g. after its credentials were refused.
func (c *Client) forget(role arn.ARN) {
	c.mu.Lock()
	delete(c.sessions, role.Canonical().String())
	c.mu.Unlock()
}

func (c *Client) keyLock(key string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.keyLocks[key]
	if l == nil {
		l = &sync.Mutex{}
		c.keyLocks[key] = l
	}
	return l
}

// systemPolicy returns a system policy's document, fetched once per Client:
// system policies are the same in every account.
func (c *Client) systemPolicy(ctx context.Context, r *alicloud.RAM, name string) (*policy.Document, error) {
	c.mu.Lock()
	d := c.system[strings.ToLower(name)]
	c.mu.Unlock()
	if d != nil {
		return d, nil
	}
	p, err := r.GetPolicy(ctx, name, "System")
	if err != nil {
		return nil, err
	}
	d, err = policy.Parse([]byte(p.Document))
	if err != nil {
		return nil, fmt.Errorf("share: system policy %s: %w", name, err)
	}
	c.mu.Lock()
	c.system[strings.ToLower(name)] = d
	c.mu.Unlock()
	return d, nil
}
