// Package fakecloud is an emulated multi-account Alibaba Cloud (KMS, RAM and
// STS) that the real SDK clients (kms-20160120/v3, ram-20150501/v2,
// sts-20150401/v2) talk to over the real wire protocol. It exists because
// Alibaba Cloud cannot be reached from where kmsshare is built and tested,
// and no other emulator covers it; it is also the zero-set-up default of
// the examples, and it is public so that you can test your own code with
// it. Facts come from ../shared/reference (wire-protocol.md,
// kms.md, ram-sts.md, workflows.md); what they leave open is marked
// assumed below.
//
// # Testing your code
//
// Load a world file (see World files below) and take an SDK configuration
// for any principal; it goes wherever an *openapi.Config goes
// (kms.NewClient, share.New, a KMS client for envelope.NewKMS):
//
//	clock := fakecloud.NewManualClock(time.Time{})
//	world, err := fakecloud.LoadWorldFile("testdata/world.json", fakecloud.WorldOptions{Clock: clock})
//	cfg, err := world.Config("management/pipeline", "cn-hangzhou") // "<account>" or "<account>/<user>"
//	keyARN := world.Key("security", "shared").ARN
//
// Advance the manual clock past propagation delays instead of sleeping;
// assert on what your code did with Cloud.Log. For programs in other
// languages, examples/fakecloud serves a world over HTTP on 127.0.0.1.
//
// # Set-up
//
// A cloud is described in Go, then driven through the SDK:
//
//	clk := fakecloud.NewManualClock(time.Time{})
//	cloud := fakecloud.New(fakecloud.Options{Clock: clk, Seed: 1})
//	mgmt := cloud.NewAccount("management")
//	rd, _ := cloud.NewResourceDirectory(mgmt)
//	apps := rd.Root().NewFolder("apps")
//	app1 := apps.NewMember("app-1") // with its ResourceDirectoryAccountAccessRole
//	sec := rd.Root().NewMember("security")
//	key, _ := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 10}).NewKey(fakecloud.KeyOptions{})
//	pipeline, _ := mgmt.NewUser("pipeline", "AdministratorAccess")
//	client, _ := kms.NewClient(cloud.Config(pipeline.Credentials(), "cn-hangzhou"))
//
// NewAccountWithID and Instance.NewKeyWithID create accounts and keys with
// caller-chosen IDs, for worlds rebuilt from a spec's ARNs. Both clocks have
// a Sleep method, so code that polls (share.Options.Clock) waits on
// emulator time too.
//
// Set-up takes effect at once and is not logged. Calls that can only fail
// on a mistake in the set-up itself (a duplicate name, an invalid
// document, an unknown policy) return an error.
//
// # Transports
//
// Cloud.Config returns an *openapi.Config whose HttpClient serves requests
// in process: the SDK builds and signs each request exactly as for the
// network, and the emulator verifies it without a socket. Cloud.Serve
// starts real HTTP servers on 127.0.0.1 (one per region), and Server.Config
// points the SDK at them. A request's region is its transport's region.
//
// # Wire protocol
//
// RPC style: GET or POST / with the parameters in the query string or a
// form body (the Go SDK sends POST and the query), dispatched
// on x-acs-action and x-acs-version (KMS 2016-01-20, RAM 2015-05-01, STS
// 2015-04-01, and the Resource Directory reads of ResourceManager
// 2020-03-31, resourcemanager.go). The ACS3-HMAC-SHA256 signature is recomputed from the
// request with the signed header list taken from Authorization; host,
// x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce,
// x-acs-content-sha256 and, when present, x-acs-security-token must be
// among the signed headers, as the SDK always has them. The legacy HMAC-SHA1
// signature (SignatureAlgorithm "v2") is accepted too, including a form
// body. Responses are the SDK's own response-body models encoded as JSON
// with RequestId; errors are {RequestId, HostId, Code, Message, Recommend}
// with the documented status and an x-acs-request-id header, so the SDK
// raises *tea.SDKError with the right Code.
//
// # Authorization
//
// Every call is decided with policy.Evaluate or policy.EvaluateAccess over
// the state as of now − Options.PropagationDelay:
//
//   - an account's root key may do anything in its own account (its
//     identity side allows everything) but may not call AssumeRole;
//   - RAM users and role sessions need an Allow in their attached policies;
//     a session policy further narrows a session (the intersection);
//   - on a key, the key policy and the caller's identity policies follow
//     the two-sided rule: same account, either side suffices; another
//     account, both are needed, and the key must be named by ARN (a bare ID
//     or alias resolves only in the caller's own account). Decrypt finds
//     the key in the ciphertext blob and decides on that key;
//   - AssumeRole needs the role's trust policy (with sts:ExternalId in the
//     context) and the caller's sts:AssumeRole permission;
//   - Service.AssumeRole is a service (e.g. ECS) acting for an account; only
//     the trust policy decides, with sts:ServiceOwnerRDId and
//     sts:ServiceOwnerRDPath set from the account's Resource Directory
//     membership;
//   - GetCallerIdentity needs no permission.
//
// Resources: acs:kms:<region>:<owner>:key/<id> for keys,
// acs:kms:<region>:<account>:key for ListKeys and CreateKey,
// acs:kms:<region>:<account>:keystore/<kst-id> for instance calls and
// …:keystore for ListKmsInstances (inferred), acs:ram:*:<account>:role/<name>
// (and policy/, user/; role/* for ListRoles) for RAM. Actions are
// kms:<Operation>, ram:<Operation> and sts:AssumeRole. Denials are 403
// Forbidden.NoPermission in KMS (400 for SetKeyPolicy, GetKeyPolicy and
// CreateKey, as documented) and 403 NoPermission in RAM and STS.
//
// # Network paths
//
// A request comes from the Internet or from a VPC of an account (Origin),
// as the transport says: Config and HTTPClient are the Internet,
// ConfigFrom and HTTPClientFrom (and Server.ConfigFrom) any Origin, and
// DedicatedConfig points the SDK at an instance's dedicated gateway
// (DedicatedEndpoint). An instance is created in a VPC of its own
// (Instance.VPC), has bound VPCs (InstanceOptions.VPCs and BindVPCs, then
// UpdateKmsInstanceBindVpc) and, when InstanceOptions.VPCOnly is set, a
// per-account Internet-access switch that only set-up code flips
// (Instance.SetInternetAccess): the real one is in the console only.
// Without VPCOnly every account's Internet access is on, as before.
//
// # Time, faults and the log
//
// Emulator time comes from Options.Clock: a ManualClock in tests (advance
// it instead of sleeping), a ScaledClock in examples (minutes of
// propagation in seconds), the real clock by default. It drives STS expiry,
// propagation, quota release and key deletion. Faults (Cloud.Faults) throw
// throttles (KMS: 429 Rejected.Throttling; RAM and STS: 400
// Throttling.User), 503s and 500s with seeded probabilities and
// add real-time latency, per service, action and caller account; they are
// decided before the operation runs, so a faulted call changes nothing,
// and latency waits outside every lock and honours the request's context.
// Cloud.Log records every request (time, service, action, caller account
// and ARN, target account, status, code, injected fault), never a secret.
//
// # World files
//
// LoadWorld and LoadWorldFile build a whole cloud from JSON: accounts by
// name (with optional fixed UIDs), the Resource Directory tree, custom
// policies, RAM users and roles, KMS instances (quota, their VPC, bound
// VPCs of any account, VPC-only access with per-account Internet access)
// and their keys (optional fixed IDs, aliases, key policies), delays,
// faults, the clock and the gateway's clock. Policy documents are JSON
// objects or strings; ${uid:<account>} in them stands for that account's
// UID. The World gives the handles back by name, and World.Config returns
// an *openapi.Config for "<account>" (its root) or "<account>/<user>". The
// file is strict: an unknown field, a field given twice, a duplicate name,
// a masked or invalid ID, an unknown reference or a policy that does not
// parse is a *WorldError naming line, column and field, and nothing is
// built. examples/fakecloud/world.json is a worked example, and the
// reference below lists every field;
// examples/fakecloud serves a world over HTTP, and World.Handler adds
// admin endpoints under AdminPath (request log, emulator time).
//
// Every field, all optional but accounts and the names:
//
//	{
//	  "seed": 1,                                   // IDs and fault draws (Options.Seed)
//	  "clock": {"kind": "real"},                   // or {"kind": "manual", "start": "2026-01-01T00:00:00Z"},
//	                                               // or {"kind": "scaled", "scale": 60, "start": …}
//	  "gatewayClock": {"ahead": "20m"},            // or {"behind": …}: the gateway's clock off the
//	                                               // host's (Options.GatewayClock); time checks use it
//	  "delays": {"propagation": "30s", "quotaRelease": "5m", "visibility": "2s"},
//	  "logLimit": 100000,
//	  "accounts": [{
//	    "name": "security", "id": "1234567890123456", // id: a fixed UID; generated if absent
//	    "policies": [{"name": "UseKeys", "document": {…}}], // custom permission policies
//	    "users": [{"name": "admin", "policies": ["AdministratorAccess"]}],
//	    "roles": [{"name": "App", "description": "…", "trust": {…}, "policies": ["UseKeys"]}],
//	    "instances": [{"name": "main", "region": "cn-hangzhou", "external": false,
//	      "quota": 10, "keyQuota": 1000,
//	      "vpc": "vpc-…",                          // the VPC it is created in; made up if absent
//	      "vpcs": ["vpc-…",                        // bound VPCs, one unit of quota each: an ID (the
//	        {"id": "vpc-…", "vSwitch": "vsw-…",    // owner's VPC) or an object (any account's)
//	         "region": "cn-hangzhou", "account": "app-1"}],
//	      "vpcOnly": true,                         // crypto from the Internet only for the accounts
//	      "internet": ["app-1"],                   // named here (Instance.SetInternetAccess)
//	      "keys": [{"name": "orders", "id": "key-…", "alias": "alias/orders",
//	        "description": "…", "spec": "Aliyun_AES_256", "usage": "ENCRYPT/DECRYPT", "policy": {…}}]}],
//	    "defaultKeys": [{"name": "legacy", "region": "cn-hangzhou"}] // keys outside an instance
//	  }],
//	  "resourceDirectory": {"management": "management", "members": ["security"],
//	    "folders": [{"name": "apps", "members": ["app-1"], "folders": […]}]},
//	  "faults": [{"service": "kms", "action": "Decrypt", "account": "app-1",
//	    "throttle": 0.1, "unavailable": 0, "internal": 0, "lostResponse": 0, "latency": "50ms"}]
//	}
//
// "vpcs" is the one list of bound VPCs, with no count beside it: each
// entry is one VPC and one unit of quota. (Files from before this list
// took objects bound as many made-up VPCs, vpc-fake0001 and on, as they
// listed IDs; they load unchanged and use the same quota, and the VPCs
// now carry the file's IDs.) "internet" is refused without "vpcOnly":
// true, where every account has Internet access.
//
// Names are the file's own handles (World.Account, World.Key, …); user,
// role and policy names are also the RAM names. Policies are attached by
// name: the account's custom policies first, then system policies. The
// default clock is real time that World.Advance moves ahead, so that SDKs'
// request timestamps stay current.
//
//	World files and the server                                             Test
//	A world file builds accounts, directory, RAM, instances, keys, delays, TestWorldFile
//	  faults; names give the handles back
//	The default clock is real time that Advance moves ahead; a caller's    TestWorldFileClocks
//	  clock replaces the file's
//	Mistakes name line, column and field; nothing is built                 TestWorldFileErrors
//	A gateway clock ahead or behind refuses SDK requests as skewed         TestWorldFileGatewayClock
//	Network settings: the instance's VPC, bound VPCs of any account,       TestWorldFileNetwork
//	  vpcOnly with per-account Internet access, Internal faults
//	The field reference above names every field of the schema              TestWorldDocFields
//	The admin endpoints: log since a mark, time, advance                   TestAdminHandler
//
// # Behaviours and their tests
//
//	Behaviour                                                              Test
//	Every operation through the real SDK clients over both transports      TestOperations
//	ACS3 signature verified as the SDK computes it (wire-protocol.md §6)   TestACS3Vector, TestACS3VectorEndToEnd
//	Request time more than 15 minutes off the gateway clock:               TestClockSkewAndReplay
//	  InvalidTimeStamp.Expired (400); a reused nonce: SignatureNonceUsed
//	Wrong secret, unknown key, expired/mismatched/missing STS token        TestAuthentication
//	  rejected; legacy HMAC-SHA1 signature accepted
//	Unknown action or version: InvalidAction.NotFound                      TestUnknownAction
//	A request changed after signing: SignatureDoesNotMatch; with the       TestTamperedInTransit
//	  legacy signature the signed Action decides, a swapped header is refused
//	Malformed requests refused with JSON errors                            TestMalformedRequests
//	SetKeyPolicy validates size (32768), Version, Resource "*", kms:       TestSetKeyPolicyValidation
//	  actions, and principals of other accounts (W2); a refused write
//	  changes nothing
//	Key policies only on keys in a KMS instance                            TestKeyPolicyOnlyInInstances
//	Network paths: a VPCOnly instance's keys refuse cryptographic calls    TestNetworkPaths
//	  from the Internet unless the owner's per-account switch is on;
//	  acs:SourceVpc from a VPC on the shared gateway; the dedicated gateway
//	  resolves only from the instance's and bound VPCs ("no such host"),
//	  serves cryptographic calls only; UpdateKmsInstanceBindVpc replaces
//	  the list, each VPC a unit of quota
//	Access management quota: distinct foreign accounts plus bound VPCs;    TestShareQuota
//	  Rejected.ShareQuotaExceedLimit with nothing changed; release after
//	  the delay (default 5 minutes of emulator time)
//	The quota counts each key's foreign accounts once per policy write     TestQuotaTallyMatchesRecount
//	  (a cached tally): same counts, decisions and releases as a recount
//	Quota readers (GetKmsInstanceQuotaInfos, read lock) never update the   TestQuotaReadersLeaveTallyAlone
//	  cached tally; an out-of-date tally is recounted privately
//	Disabled and pending-deletion keys refused; deletion date ends a key   TestKeyStates
//	EncryptionContext must match at Decrypt, compared as parsed maps       TestEncryptionContext, TestCanonicalContext
//	Ciphertext blobs are authenticated (AES-256-GCM) and region-bound      TestCiphertextTampering
//	Key policies grant what KMS honours: documented actions only; other    TestKeyPolicySemantics
//	  accounts only the 11 user actions, as RAM users or roles (a foreign
//	  :* or :root grants nothing); Condition with kms:EncryptionContext:<key>,
//	  acs:SecureTransport and the other documented keys
//	Two-sided key access; ARN required across accounts; Decrypt decides    TestKeyAccess
//	  on the blob's key; explicit Deny wins
//	External keys: symmetric, no rotation, XKI proxy and key state (W3)    TestExternalKeys
//	GenerateDataKey and Encrypt limits                                     TestDataPlaneParameters
//	Five policy versions, RotateStrategy, default version rules            TestPolicyVersions
//	Case-insensitive names with display case; attachment conflicts;        TestRAMNamesAndAttachments
//	  DeleteRole with policies; ten custom policies per role
//	RAM limits and formats                                                 TestRAMValidation
//	RAM authorization on acs:ram:*:<account>:role/<name>                   TestRAMAuthorization
//	Fresh roles/policies briefly invisible to AttachPolicyToRole           TestEventualConsistency
//	Fresh roles invisible to SetKeyPolicy (InvalidParameter) and           TestVisibilityOfNewPrincipals
//	  AssumeRole (EntityNotExist.Role); a detach invisible to
//	  DeletePolicy (DeleteConflict.Role.Policy, 409)
//	AssumeRole: trust and identity both needed, parameters, root refused,  TestAssumeRole
//	  ExternalId
//	Session policy narrows a session                                       TestSessionPolicy
//	GetCallerIdentity for root, users and role sessions                    TestGetCallerIdentity
//	A service acting for an account assumes a role: ecs.aliyuncs.com,      TestServiceAssumeRole
//	  <uid>@ecs.aliyuncs.com, *@ecs.aliyuncs.com with RD conditions
//	Propagation delay for key policies, attachments, default versions      TestPropagation, TestPropagationDefaultsToZero
//	  and trust policies; reads show changes at once
//	Throttling (KMS 429 Rejected.Throttling, RAM 400 Throttling.User),     TestFaults
//	  503 and 500 per action and account; faulted calls change nothing
//	  and are logged
//	A lost response: the request is carried out, the caller gets a 503     TestLostResponse
//	Fault draws are seeded                                                 TestFaultsAreSeeded
//	The same Seed chooses the same IDs, in set-up and over the wire        TestSameSeedSameIDs
//	Latency is real time, outside the lock, and honours the context        TestLatency
//	SetKeyPolicy is last-writer-wins                                       TestSetKeyPolicyLastWriterWins
//	Many concurrent clients, with faults, under -race                      TestConcurrentClients
//	No secret in String/GoString/fmt/slog/JSON, the log or errors          TestCredentialsRedacted, TestNoSecretsInLogOrErrors
//	Clocks, propagation history, the log's limit and marks                 TestClocks, TestTimeline, TestLogLimitAndMarks
//	Every emitted code is classified by internal/cloudapi                  TestErrorClassification
//	Set-up handles used with another cloud fail with an error, no panic    TestForeignHandles
//	Resource Directory (ResourceManager 2020-03-31): directory, paged      TestResourceDirectoryAPI
//	  members, folders, GetAccount path; move, leave, join again;
//	  management account only (members read GetResourceDirectory)
//	Accounts and keys with caller-chosen IDs (NewAccountWithID,            TestChosenIDs
//	  NewKeyWithID) work like generated ones; bad or taken IDs refused
//	ManualClock.Sleep advances at once; ScaledClock.Sleep waits the        TestClockSleep
//	  scaled-down real time; both honour the context
//	System policies are installed and valid                                TestSystemPolicies
//	This table names every test, and every assumed code is listed below    TestDocTable
//
// BenchmarkSignedRequests measures signed requests per second through the
// in-process transport.
// BenchmarkQuotaSetKeyPolicy measures the quota work of one SetKeyPolicy
// in an instance of 20 keys × 300 foreign accounts, tally against recount.
//
// # Corrections
//
// A second reading of Alibaba's documentation (corrections.md) changed the
// emulator where it was kinder than the real service: KMS throttles with
// 429 Rejected.Throttling and fails with 500 InternalFailure and 503
// SerivceUnvailableTemporary (RAM and STS keep Throttling.User and
// ServiceUnavailable); request times more than 15 minutes off and reused
// nonces are refused; new roles are invisible to SetKeyPolicy and
// AssumeRole for VisibilityDelay; DeletePolicy of a policy attached to a
// role answers DeleteConflict.Role.Policy (there is no
// DeleteConflict.Policy.Role) and MalformedPolicyDocument is 409; key
// policies grant only what KMS honours; requests have a network origin,
// instances bound VPCs, a per-account Internet switch and a dedicated
// gateway; GetKmsInstanceQuotaInfos takes KmsInstanceId as optional.
//
// # Assumed error codes
//
// The reference files do not document these codes (or not for these
// operations); they are kept in one table (errorTable) for correction:
//
//	InvalidTimeStamp.Format 400 (an unparsable x-acs-date or Timestamp),
//	SignatureDoesNotMatch 400, IncompleteSignature 400 (unsigned request,
//	  unsupported algorithm, required header unsigned), MissingSecurityToken 400,
//	  InvalidSecurityToken.Expired 400, InvalidSecurityToken.MismatchWithAccessKey 400,
//	  InvalidAction.NotFound 404, Throttling.User 400 (RAM and STS; code
//	  documented, status assumed), ServiceUnavailable 503 and InternalError 500
//	  (RAM and STS, injected; KMS's documented Rejected.Throttling 429,
//	  SerivceUnvailableTemporary 503 and InternalFailure 500 are not assumed);
//	Forbidden.InternetAccessDisabled 403 for a cryptographic call from the
//	  Internet on a key of a VPCOnly instance whose owner has not turned on
//	  Internet access for the caller's account (the real code is
//	  undocumented); InvalidAction.NotFound for a management call or
//	  ReEncrypt on the dedicated gateway;
//	Forbidden.NoPermission 403 on data-plane and other key operations;
//	  Forbidden.ResourceNotFound for a PolicyName other than "default";
//	  InvalidParameter 400 for a tampered blob or a wrong EncryptionContext;
//	  Rejected.Unavailable 409 for an external key whose XKI proxy is not
//	  connected or whose external key is disabled; Rejected.Disabled and
//	  Rejected.PendingDeletion also for Encrypt and
//	  GenerateDataKeyWithoutPlaintext; Rejected.UnexpectedState 409 for
//	  CancelKeyDeletion of a key not pending deletion;
//	EntityAlreadyExists.Role.Policy 409, EntityNotExist.Role.Policy 404,
//	  InvalidParameter.MaxItems,
//	  InvalidParameter.MaxSessionDuration, InvalidParameter.RotateStrategy;
//	  the user codes EntityAlreadyExists.User, EntityNotExist.User,
//	  InvalidParameter.UserName.InvalidChars, InvalidParameter.UserName.Length,
//	  LimitExceeded.User.Policy, LimitExceeded.User.AccessKey (by analogy with
//	  the documented role codes);
//	ResourceManager: EntityNotExists.ResourceDirectory 404,
//	  EntityNotExists.Folder 404, EntityNotExists.Account 404, NoPermission
//	  403 for a member calling a management-only operation, InvalidParameter
//	  400 for a PageSize outside 1 to 100 (resourcemanager.go).
//
// InvalidAction.NotFound and Rejected.UnexpectedState fall into
// cloudapi.ErrOther.
//
// # Deviations and unverified behaviour
//
//   - The GetCallerIdentity ARN of a role session is
//     acs:ram::<uid>:assumed-role/<role>/<session>; the form is unverified
//     (ram-sts.md §4.1).
//   - GetKmsInstanceQuotaInfos with ResourceType "vpc" reports the access
//     management quota including cross-account shares (inferred, kms.md
//     §9.3); the quota is counted per instance across all its keys. A write
//     is refused only if it raises the count above the quota.
//   - The ResourceDirectoryAccountAccessRole trusts acs:ram::<management>:root
//     and holds AdministratorAccess (inferred, ram-sts.md §10.1). The
//     sts:ServiceOwnerRDId and sts:ServiceOwnerRDPath keys and the
//     *@ecs.aliyuncs.com principal are unverified (ram-sts.md §8.3, §12).
//   - System policies are AdministratorAccess, AliyunKMSFullAccess,
//     AliyunSTSAssumeRoleAccess, AliyunRAMFullAccess (written from their
//     documented effect) and AliyunECSDiskEncryptRolePolicy (its 2021 text).
//   - Key policies are evaluated as policy.EffectiveKeyPolicy reads them:
//     actions outside the documented administrator and user lists grant
//     nothing, and principals of other accounts get only the 11 user
//     actions and only as RAM users or roles. SetKeyPolicy accepts a
//     foreign acs:ram::<uid>:* or :root (whether the real one refuses it is
//     unverified) and counts the account against the access quota, but it
//     grants nothing. Condition is a documented element; the request
//     context carries acs:CurrentTime, acs:SourceIp, acs:SecureTransport
//     (true for the in-process transport, which the SDK addresses as
//     https), kms:EncryptionContext:<key> and, from a VPC on the shared
//     gateway, acs:SourceVpc and acs:VpcSourceIp; kms:tag/<key> is never
//     set (tags are not emulated).
//   - Propagation applies to key policies, policy default versions,
//     attachments and trust policies; a key's or role's initial state and
//     everything done through the Go set-up API apply at once. Raising the
//     delay of a running cloud (SetPropagationDelay) only fully applies to
//     later changes.
//   - VisibilityDelay hides a new role from AttachPolicyToRole, SetKeyPolicy's
//     principal check and AssumeRole, a new policy from AttachPolicyTo{Role,User},
//     and a detach from a role from DeletePolicy; users are visible at once.
//   - Request timestamps are checked against Options.GatewayClock (the real
//     clock by default, since the SDK stamps with the host's clock), not
//     emulator time; nonces are remembered per access key for the 15-minute
//     window (at most 262,144; older ones are forgotten early).
//   - Not emulated: ACS3-HMAC-SM3 and ACS3-RSA-SHA256 (refused with
//     IncompleteSignature), DryRun, key rotation and key versions beyond
//     the first, key material import, aliases through the API (set-up only),
//     tags, secrets, asymmetric cryptography, RAM groups, pagination
//     markers other than ListRoles'. The dedicated gateway is reached
//     without TLS and its instance CA (GetKmsInstance reports no
//     CaCertificateChainPem); a foreign VPC is bound without the Resource
//     Sharing of a vSwitch that the real service needs first; the Internet
//     QPS cap of 1,000 is not enforced.
//   - GetKmsInstanceQuotaInfos without KmsInstanceId adds up the caller's
//     instances in the region (what the real service answers is
//     unverified); with ResourceType "vpc" it counts bound VPCs and foreign
//     accounts together (corrections.md §2; unverified).
//   - ReEncrypt needs kms:ReEncrypt on both keys (the action name is assumed).
//   - IDs come from the seeded source (reproducible with the same Seed and
//     set-up order); secrets, tokens, key material and nonces from
//     crypto/rand.
package fakecloud
