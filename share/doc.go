// Package share shares a KMS key with other accounts, on both sides: the key
// owner's key policy and each recipient's own RAM role and policy. It turns
// the console runbooks of workflows W1 (a Landing Zone's Security account
// sharing keys with member accounts) and W2 (another account using a key for
// encrypted ECS disks) into a plan, an apply, a verification and an undo.
//
// # Model
//
// A Spec names a key by its ARN and its recipients: an account and the
// identity in it that will use the key (by default the account's
// ResourceDirectoryAccountAccessRole; or an application role, the ECS disk
// role, or a RAM user) with the key actions it gets (by default least
// privilege, DefaultActions; wider sets only when named, never
// administrator actions). Specs are plain
// JSON, so pipelines keep them in files.
//
// A Client acts with base credentials (typically a pipeline user of the
// Resource Directory's management account) and enters the key owner's and
// each recipient's account through STS, by default by assuming the
// account's ResourceDirectoryAccountAccessRole. Construct it from an
// *openapi.Config (New), from SDK clients (NewFromClients), or from
// credentials-go's default chain (NewFromDefaultCredentials).
//
// # Plan, Apply, Verify, Revoke
//
// Plan validates the spec (bad input is a *SpecError before any API call),
// reads the key and every recipient, and returns the exact changes: the key
// policy diff, and per recipient the role, policy, version and attachment
// steps, with lint findings and preflight problems (key missing, not
// Enabled, not in a KMS instance, wrong usage, instance quota too small,
// recipient role missing). The quota counts distinct accounts across all
// keys of the instance: when it looks too small, Plan counts the accounts
// the instance's other keys already share with, and only warns if it
// cannot (Options.SkipQuotaCheck turns the check off; SetKeyPolicy
// enforces the quota anyway). A plan prints for people and marshals to
// JSON, for review; it is sealed: Apply takes only a plan this package made
// and nobody changed since (an edited plan, a copy edited after Plan, or one
// decoded from JSON is refused before any API call with a *SpecError on
// the field "plan"; plan again). The same holds for PlanManifest and
// ApplyManifest, PlanRole and ApplyRole.
//
// Apply works recipient side first, because a key policy may only name
// principals that exist; the steps are idempotent, run a few recipients at
// a time and retry throttling and RAM's brief invisibility of new entities.
// Then it makes one read-modify-write of the key policy for the whole
// batch, changing only the statements this library owns (policy
// package, Sid prefix "kmsshare/") and leaving every other statement exactly
// as it was. Applying a spec that is already in effect writes nothing.
//
// KMS's SetKeyPolicy replaces the whole document and has no revision check,
// so concurrent writers lose each other's updates. Apply re-reads the policy
// twice after writing, a settle delay apart; if another writer overwrote
// it, the grants are merged into what that writer saved and written again,
// with jittered backoff, up to a bound. This narrows the window for a lost
// update to a writer that takes longer than the settle delay between its
// read and its write; Inventory and Verify show any grant that still goes
// missing.
//
// A partial failure returns an *ApplyError whose Result says, step by step,
// what was done and what was not. Running Apply (or Plan and Apply) again is
// safe.
//
// Verify checks the share from each recipient's own identity: it assumes
// the recipient's role and calls DescribeKey by ARN, GenerateDataKey and
// Decrypt, as far as the granted actions allow, polling with backoff until
// the share works or a deadline (30 minutes by default) passes, since
// changes take a while to propagate. When the cloud refuses, it reads both
// policies to say why: Outcome is denied by the key policy, denied by the
// recipient's RAM policy, key disabled, key not in an instance, quota
// exceeded, recipient role missing, or, when both policies allow it, not
// yet propagated. Granted actions no harmless call exercises are checked
// against both policies only; a recipient nothing can be called as (the
// ECS disk role, a RAM user, or only such actions granted) is "verified
// statically", which does not prove the change has propagated. A role
// created moments ago that STS does not see yet is waited for (within
// Options.VisibilityWait), not taken for a missing one. Progress is
// reported as Events and to a log/slog logger.
//
// # Network paths
//
// Keys in a KMS instance answer cryptographic calls from a VPC by default;
// over the Internet only for accounts whose Internet access the instance's
// owner turned on in the console (no API can). A recipient says how its
// workloads reach the key (Recipient.Network: the shared gateway over the
// Internet or from a VPC, or the instance's dedicated gateway from a bound
// VPC). Plan reads the instance and reports what the path needs: the
// Internet switch as a manual step, VPC bindings (applied as a confirmed
// read-modify-write, since UpdateKmsInstanceBindVpc replaces the whole
// list), and the quota that accounts and VPCs share. Verify makes its
// cryptographic calls over the path (Options.NetworkConfig; over an
// emulator it puts the path on the transport) and reports a refused path
// at once as OutcomeNetworkRefused, with the fix in words, never as "not
// yet propagated".
//
// Revoke removes the recipients from the key policy (and optionally the
// policies, and the application roles, this library created in their
// accounts; never a role it did not create, the RD access role or the ECS
// disk role) with the same plan and apply discipline. Grants to a
// recipient in statements this library does not own stay: the revoke plan
// lists them, and VerifyRevoked, which polls until the refusal has
// propagated, reports them as still granted.
// Inventory lists who can use a key today, grouped by account, with each
// other account's RAM side where the caller can look, and drift against a
// spec.
//
// # Organisations
//
// A Manifest (manifest.go) grants many keys to accounts picked by Resource
// Directory selectors: folders (with or without sub-folders), the whole
// directory, explicit accounts, with exclusions. PlanManifest reads the
// directory through ResourceManager (the management account's
// credentials), shows each account with its folder, and plans one
// key-policy write per changed key, the RAM side once per recipient
// principal for all its keys (kmsshare-org-* policies, split within RAM's
// 6,144 bytes) and the access management quota per KMS instance across its
// keys; a key policy over 32,768 bytes or a quota overrun is a problem
// before any write. ApplyManifest with ManifestOptions.Prune also removes
// grants this library made to accounts no longer selected; Onboard gives
// one new account its keys without reading anyone else;
// VerifyManifest, InventoryManifest and RevokeManifest work per key.
//
// # Errors
//
// Bad input is a *SpecError (ErrInvalidSpec), before any API call; so is
// a plan this package did not make, or one edited since. A plan that
// cannot be applied returns a *PreflightError from Plan.Err and Apply
// (ErrPreflight); it matches the ProblemCode of each problem, so
// errors.Is(err, ProblemQuota) asks about one. An Apply that did not do
// everything is an *ApplyError (ErrIncomplete) whose Result says what was
// and was not done; when a new principal stayed invisible to KMS for all of
// Options.VisibilityWait it also matches ErrNotYetVisible. A verification that failed is a *VerifyError from
// VerifyReport.Err: it matches the Outcome of each failing recipient
// (outcomes, like problem codes, are errors too: errors.Is(err,
// OutcomeDeniedByKeyPolicy)), and ErrDenied when some failure is one
// waiting will not change; OutcomeNotYetPropagated means wait longer.
//
// A failed API call is an *APIError (errors.As) with the service's code,
// HTTP status and request ID; its class is matched with errors.Is:
// ErrThrottled (KMS's 429 Rejected.Throttling and RAM's and STS's
// Throttling.User, retried), ErrUnavailable, ErrAccessDenied, ErrNotFound,
// ErrQuotaExceeded, ErrKeyState, ErrKeyPolicyUnsupported,
// ErrInvalidParameter, ErrAuthentication, ErrNetwork and ErrClockSkew (the
// host's clock is more than 15 minutes off: fix it).
//
// # Testing your code
//
// Package fakecloud emulates KMS, RAM and STS of many accounts behind the
// real SDK clients, so code that calls share can be tested without a
// cloud. Describe the world in JSON (or with fakecloud's Go API) and take
// a configuration for any principal:
//
//	clock := fakecloud.NewManualClock(time.Time{})
//	world, err := fakecloud.LoadWorldFile("testdata/world.json", fakecloud.WorldOptions{Clock: clock})
//	cfg, err := world.Config("management/pipeline", "cn-hangzhou")
//	client, err := share.New(cfg, func(o *share.Options) { o.Clock = clock })
//	spec := &share.Spec{Key: world.Key("security", "shared").ARN,
//		Recipients: []share.Recipient{{Account: world.Account("app-1").ID}}}
//
// With the manual clock, Verify's polling advances emulated time instead
// of waiting for propagation.
//
// # Facts and assumptions
//
// Where Alibaba's documentation is silent the package follows the
// project's reference notes and says so: the access management quota is
// read from GetKmsInstanceQuotaInfos' "vpc" resource type (inferred); the
// RD access role's AdministratorAccess is assumed to satisfy a recipient's
// RAM side (it is checked, not assumed, by evaluating the role's policies);
// the 30-minute default deadline comes from practitioners' reports, not
// from Alibaba.
package share
