package ecsroles

import (
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

const ecsHost = "ecs.aliyuncs.com"

// assume is ECS (or another service) acting for account asking to assume a
// role of roleOwner, with the given request context (key, value pairs).
func assume(service, account, roleOwner, role string, kv ...string) policy.Request {
	r := policy.Request{
		Caller:          policy.Caller{Account: account, Service: service},
		Action:          "sts:AssumeRole",
		Resource:        arn.RAMRole(roleOwner, role).String(),
		ResourceAccount: roleOwner,
	}
	if len(kv) > 0 {
		r.Context = map[string][]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			r.Context[kv[i]] = append(r.Context[kv[i]], kv[i+1])
		}
	}
	return r
}

// TestTrustAdmitsIntendedCallers evaluates every trust scope with requests
// from the callers it must admit and from those it must not.
func TestTrustAdmitsIntendedCallers(t *testing.T) {
	t.Parallel()
	const (
		rdID      = "sts:ServiceOwnerRDId"
		rdPath    = "sts:ServiceOwnerRDPath"
		otherRD   = "rd-Zz0000"
		parent    = "rd-k3a9Zx/r-Wm81Qa/fd-bVaRIG01"
		stranger  = "4444444444444444"
		memberUID = "5555555555555555"
	)
	spec := func(s policy.RoleSpec, err error) policy.RoleSpec {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	disk := spec(DiskEncrypt())
	single := spec(ShareEncryptImage(gOwner, Accounts(gUID1), gKey()))
	accounts := spec(ShareEncryptSnapshot(gOwner, Accounts(gUID1, gUID2), gKey()))
	rd := spec(ShareEncryptImage(gOwner, ResourceDirectory(gRD), gKey()))
	folder := spec(ShareEncryptSnapshotServiceKey(gOwner, Folder(gFolder)))
	rootFolder := spec(ShareEncryptImage(gOwner, Folder("rd-k3a9Zx/r-Wm81Qa"), gKey()))

	ramUser := assume("", gUID1, gOwner, ShareImageRoleName)
	ramUser.Caller = policy.Caller{Account: gUID1, ARN: arn.RAMUser(gUID1, "alice")}

	for _, tt := range []struct {
		name string
		spec policy.RoleSpec
		req  policy.Request
		want policy.Decision
	}{
		{"disk: ECS of the role's account", disk, assume(ecsHost, gUID1, gUID1, DiskEncryptRoleName), policy.Allowed},
		{"disk: ECS of another account", disk, assume(ecsHost, gOwner, gUID1, DiskEncryptRoleName), policy.ImplicitDeny},
		{"disk: another service", disk, assume("oss.aliyuncs.com", gUID1, gUID1, DiskEncryptRoleName), policy.ImplicitDeny},

		{"single: ECS of the recipient", single, assume(ecsHost, gUID1, gOwner, ShareImageRoleName), policy.Allowed},
		{"single: ECS of an unlisted account", single, assume(ecsHost, gUID2, gOwner, ShareImageRoleName), policy.ImplicitDeny},
		{"single: ECS of the sharer itself", single, assume(ecsHost, gOwner, gOwner, ShareImageRoleName), policy.ImplicitDeny},
		{"single: another service of the recipient", single, assume("oss.aliyuncs.com", gUID1, gOwner, ShareImageRoleName), policy.ImplicitDeny},
		{"single: a RAM user of the recipient", single, ramUser, policy.ImplicitDeny},
		{"single: RD context does not widen it", single, assume(ecsHost, stranger, gOwner, ShareImageRoleName, rdID, gRD), policy.ImplicitDeny},

		{"accounts: first recipient", accounts, assume(ecsHost, gUID1, gOwner, ShareSnapshotRoleName), policy.Allowed},
		{"accounts: second recipient", accounts, assume(ecsHost, gUID2, gOwner, ShareSnapshotRoleName), policy.Allowed},
		{"accounts: unlisted account", accounts, assume(ecsHost, stranger, gOwner, ShareSnapshotRoleName), policy.ImplicitDeny},
		{"accounts: sharer itself", accounts, assume(ecsHost, gOwner, gOwner, ShareSnapshotRoleName), policy.ImplicitDeny},

		{"rd: member with the RD ID", rd, assume(ecsHost, memberUID, gOwner, ShareImageRoleName, rdID, gRD), policy.Allowed},
		{"rd: member of another RD", rd, assume(ecsHost, memberUID, gOwner, ShareImageRoleName, rdID, otherRD), policy.ImplicitDeny},
		{"rd: no RD context", rd, assume(ecsHost, memberUID, gOwner, ShareImageRoleName), policy.ImplicitDeny},
		{"rd: RD ID differs in case", rd, assume(ecsHost, memberUID, gOwner, ShareImageRoleName, rdID, "rd-k3a9zx"), policy.ImplicitDeny},
		{"rd: RD path is not the RD ID", rd, assume(ecsHost, memberUID, gOwner, ShareImageRoleName, rdPath, gFolder+"/"+memberUID), policy.ImplicitDeny},
		{"rd: another service in the RD", rd, assume("oss.aliyuncs.com", memberUID, gOwner, ShareImageRoleName, rdID, gRD), policy.ImplicitDeny},

		{"folder: account in the folder", folder, assume(ecsHost, memberUID, gOwner, ShareSnapshotRoleName, rdPath, gFolder+"/"+memberUID), policy.Allowed},
		{"folder: account in a sub-folder", folder, assume(ecsHost, memberUID, gOwner, ShareSnapshotRoleName, rdPath, gFolder+"/fd-Sub00001/"+memberUID), policy.Allowed},
		{"folder: account in a sibling folder", folder, assume(ecsHost, memberUID, gOwner, ShareSnapshotRoleName, rdPath, parent+"/fd-Other0001/"+memberUID), policy.ImplicitDeny},
		{"folder: account in the parent folder", folder, assume(ecsHost, memberUID, gOwner, ShareSnapshotRoleName, rdPath, parent+"/"+memberUID), policy.ImplicitDeny},
		{"folder: same folder IDs in another RD", folder, assume(ecsHost, memberUID, gOwner, ShareSnapshotRoleName, rdPath, "rd-Zz0000/r-Wm81Qa/fd-bVaRIG01/fd-Jyl5U7q2/"+memberUID), policy.ImplicitDeny},
		{"folder: RD ID only", folder, assume(ecsHost, memberUID, gOwner, ShareSnapshotRoleName, rdID, gRD), policy.ImplicitDeny},
		{"folder: no context", folder, assume(ecsHost, memberUID, gOwner, ShareSnapshotRoleName), policy.ImplicitDeny},

		{"root folder: account anywhere in the RD", rootFolder, assume(ecsHost, memberUID, gOwner, ShareImageRoleName, rdPath, gFolder+"/"+memberUID), policy.Allowed},
		{"root folder: another RD", rootFolder, assume(ecsHost, memberUID, gOwner, ShareImageRoleName, rdPath, "rd-Zz0000/r-Wm81Qa/"+memberUID), policy.ImplicitDeny},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := policy.Evaluate(tt.req, tt.spec.Trust).Decision; got != tt.want {
				t.Errorf("%s: %v, want %v\ntrust %s", tt.spec.Name, got, tt.want, tt.spec.Trust)
			}
		})
	}
}

// use is a session of role (in account roleAccount) calling action on resource.
func use(roleAccount, role, action string, resource arn.ARN) policy.Request {
	return policy.Request{
		Caller:          policy.Caller{Account: roleAccount, ARN: arn.MustParse("acs:ram::" + roleAccount + ":assumed-role/" + role + "/ecs")},
		Action:          action,
		Resource:        resource.String(),
		ResourceAccount: resource.AccountID,
	}
}

// TestSharePermission checks that a share role may do the six key actions
// and kms:List* on its key, and nothing on any other key.
func TestSharePermission(t *testing.T) {
	t.Parallel()
	spec, err := ShareEncryptImage(gOwner, Accounts(gUID1), gKey(), gKey2())
	if err != nil {
		t.Fatal(err)
	}
	docs := make([]*policy.Document, len(spec.Policies))
	for i, p := range spec.Policies {
		docs[i] = p.Document
	}
	one := spec.Policies[0].Document // gKey only
	key, key2 := gKey(), gKey2()
	otherKey := arn.KMSKey(gRegion, gOwner, "key-hzz0000000000000000000")
	sameIDOtherRegion := arn.KMSKey("cn-beijing", gOwner, gKeyID)
	sameIDOtherAccount := arn.KMSKey(gRegion, gUID2, gKeyID)
	collection := arn.KMSKeyCollection(gRegion, gOwner)
	alias := arn.MustParse("acs:kms:" + gRegion + ":" + gOwner + ":alias/ecs")

	for _, tt := range []struct {
		action   string
		resource arn.ARN
		docs     []*policy.Document
		want     policy.Decision
	}{
		{"kms:DescribeKey", key, docs, policy.Allowed},
		{"kms:TagResource", key, docs, policy.Allowed},
		{"kms:UntagResource", key, docs, policy.Allowed},
		{"kms:Encrypt", key, docs, policy.Allowed},
		{"kms:Decrypt", key, docs, policy.Allowed},
		{"kms:GenerateDataKey", key, docs, policy.Allowed},
		{"kms:generatedatakey", key, docs, policy.Allowed}, // actions are case-insensitive
		{"kms:ListKeys", collection, docs, policy.Allowed},
		{"kms:ListAliases", collection, docs, policy.Allowed},
		{"kms:Decrypt", key2, docs, policy.Allowed},
		{"kms:ListKeys", arn.KMSKeyCollection("cn-shanghai", gOwner), docs, policy.Allowed},

		{"kms:Decrypt", key2, []*policy.Document{one}, policy.ImplicitDeny},
		{"kms:ListKeys", arn.KMSKeyCollection("cn-shanghai", gOwner), []*policy.Document{one}, policy.ImplicitDeny},
		{"kms:Decrypt", otherKey, docs, policy.ImplicitDeny},
		{"kms:GenerateDataKey", otherKey, docs, policy.ImplicitDeny},
		{"kms:Decrypt", sameIDOtherRegion, docs, policy.ImplicitDeny},
		{"kms:Decrypt", sameIDOtherAccount, docs, policy.ImplicitDeny},
		{"kms:ListKeys", arn.KMSKeyCollection(gRegion, gUID2), docs, policy.ImplicitDeny},
		{"kms:Decrypt", alias, docs, policy.ImplicitDeny},
		{"kms:ScheduleKeyDeletion", key, docs, policy.ImplicitDeny},
		{"kms:DisableKey", key, docs, policy.ImplicitDeny},
		{"kms:PutKeyPolicy", key, docs, policy.ImplicitDeny},
		{"kms:GenerateAndExportDataKey", key, docs, policy.ImplicitDeny},
		{"kms:ListKeyVersions", key, docs, policy.ImplicitDeny}, // the template grants kms:List* on the collection only
		{"kms:CreateKey", collection, docs, policy.ImplicitDeny},
		{"ecs:DescribeImages", key, docs, policy.ImplicitDeny},
	} {
		if got := policy.Evaluate(use(gOwner, ShareImageRoleName, tt.action, tt.resource), tt.docs...).Decision; got != tt.want {
			t.Errorf("%s on %s (%d docs): %v, want %v", tt.action, tt.resource, len(tt.docs), got, tt.want)
		}
	}
}

// TestDiskPermissionScoped checks the least-privilege disk policy against
// Alibaba's published one: on the listed keys (and their collections) it
// decides exactly as the published policy does; elsewhere it allows nothing.
func TestDiskPermissionScoped(t *testing.T) {
	t.Parallel()
	foreign, own := gKey(), gRecipientKey() // B uses A's shared key and one of its own
	scoped, err := DiskEncrypt(foreign, own)
	if err != nil {
		t.Fatal(err)
	}
	published, err := DiskEncrypt()
	if err != nil {
		t.Fatal(err)
	}
	actions := []string{
		"kms:ListKeys", "kms:ListAliases", "kms:ListKeyVersions", "kms:ListResourceTags",
		"kms:DescribeKey", "kms:TagResource", "kms:UntagResource",
		"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey",
		"kms:GenerateAndExportDataKey", "kms:ReEncrypt", "kms:ScheduleKeyDeletion", "kms:CreateKey",
		"kms:DisableKey", "kms:PutKeyPolicy", "kms:AsymmetricDecrypt", "ecs:CreateDisk",
	}
	keys := []arn.ARN{foreign, own}
	collections := []arn.ARN{arn.KMSKeyCollection(gRegion, gOwner), arn.KMSKeyCollection("cn-shanghai", gUID1)}
	outOfScope := []arn.ARN{
		arn.KMSKey(gRegion, gOwner, "key-hzz0000000000000000000"),
		arn.KMSKey("cn-beijing", gOwner, gKeyID),
		arn.KMSKey(gRegion, gUID2, gKeyID),
		arn.KMSKeyCollection(gRegion, gUID2),
		arn.KMSKeyCollection("cn-beijing", gOwner),
		arn.MustParse("acs:kms:" + gRegion + ":" + gOwner + ":alias/ecs"),
	}
	same := func(a string, r arn.ARN) bool {
		req := use(gUID1, DiskEncryptRoleName, a, r)
		got := policy.Evaluate(req, scoped.Policies[0].Document).Decision
		want := policy.Evaluate(req, published.Policies[0].Document).Decision
		if got != want {
			t.Errorf("%s on %s: scoped %v, published %v", a, r, got, want)
		}
		return got == policy.Allowed
	}
	allowed := 0
	for _, a := range actions {
		for _, r := range keys {
			if same(a, r) {
				allowed++
			}
		}
		// On a collection only the List actions are ever requested; the
		// published policy's "acs:kms:*:*:*" also matches it for DescribeKey
		// and the tag actions, which no request uses.
		if arn.MatchAction("kms:List*", a) {
			for _, r := range collections {
				if same(a, r) {
					allowed++
				}
			}
		}
		for _, r := range outOfScope {
			req := use(gUID1, DiskEncryptRoleName, a, r)
			if got := policy.Evaluate(req, scoped.Policies[0].Document).Decision; got != policy.ImplicitDeny {
				t.Errorf("%s on %s (not a listed key): %v", a, r, got)
			}
		}
	}
	// On each key the 4 List actions, DescribeKey, the 2 tag actions and the
	// 3 cryptographic ones; on each collection the 4 List actions.
	if allowed != 2*10+2*4 {
		t.Errorf("the scoped policy allows %d (action, resource) pairs in scope, want %d", allowed, 2*10+2*4)
	}
	// The published policy allows on every key what the scoped one allows on
	// the listed keys only.
	req := use(gUID1, DiskEncryptRoleName, "kms:Decrypt", arn.KMSKey("cn-beijing", gUID2, "key-bjj0"))
	if got := policy.Evaluate(req, published.Policies[0].Document).Decision; got != policy.Allowed {
		t.Errorf("published policy: Decrypt on an arbitrary key %v, want allowed", got)
	}
}

// TestDiskRoleUsableAcrossAccounts puts W2 together: A's key policy names
// B's disk role as a cross-account user, and B's disk role, scoped to A's
// key, may then use it; with the published policy too; without the key
// policy grant it may not.
func TestDiskRoleUsableAcrossAccounts(t *testing.T) {
	t.Parallel()
	key := gKey()
	spec, err := DiskEncrypt(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPolicy, err := policy.DefaultKeyPolicy(gOwner)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := policy.SetCrossAccountUsers(keyPolicy, gOwner, nil, spec.ARN(gUID1))
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"} {
		req := use(gUID1, DiskEncryptRoleName, action, key)
		if a := policy.EvaluateAccess(req, shared, spec.Policies[0].Document); !a.Allowed {
			t.Errorf("%s with the key shared: denied (key policy %v, RAM %v)", action, a.Resource.Decision, a.Identity.Decision)
		}
		if a := policy.EvaluateAccess(req, keyPolicy, spec.Policies[0].Document); a.Allowed {
			t.Errorf("%s without the key policy grant: allowed", action)
		}
	}
}
