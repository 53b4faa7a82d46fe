package ecsroles

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// The role names ECS looks for, and the system policy of the service-key
// variant of the share roles.
const (
	DiskEncryptRoleName   = "AliyunECSDiskEncryptDefaultRole"
	ShareImageRoleName    = "AliyunECSShareEncryptImageDefaultRole"
	ShareSnapshotRoleName = "AliyunECSShareEncryptSnapshotDefaultRole"
	KMSFullAccessPolicy   = "AliyunKMSFullAccess"
)

// publishedDiskPermission is Alibaba's permission policy for the disk role
// (reference policies/ecs-disk-encrypt-role-permission.json), kept verbatim.
//
//go:embed published/ecs-disk-encrypt-role-permission.json
var publishedDiskPermission string

// ECSDiskActions returns the actions of Alibaba's published permission
// policy for AliyunECSDiskEncryptDefaultRole, in its order: what the role's
// own account allows it (DiskEncrypt grants them on the given keys only).
func ECSDiskActions() []string {
	return []string{"kms:List*", "kms:DescribeKey", "kms:TagResource", "kms:UntagResource",
		"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}
}

// ECSDiskKeyPolicyActions returns what the key policy of a key shared with
// another account grants that account's AliyunECSDiskEncryptDefaultRole (W2):
// the ECSDiskActions a key policy can grant another account, in documented
// order (kms:Encrypt, kms:Decrypt, kms:GenerateDataKey, kms:DescribeKey,
// kms:TagResource). kms:List* (ListKeys, on the key collection) and
// kms:UntagResource are not key user actions, so a key policy cannot grant
// them to another account; the role's own permission policy still lists
// them.
func ECSDiskKeyPolicyActions() []string {
	var out []string
	for _, a := range ECSDiskActions() {
		if policy.IsCrossAccountAction(a) {
			out = append(out, a)
		}
	}
	// Only reorders: every action left is a cross-account action.
	out, _ = policy.CrossAccountActionSet(out)
	return out
}

// shareKeyActions is the key-ARN action set of the share-role template
// (policies/ecs-share-encrypt-role-permission.template.json); kms:List* goes
// on the key collection.
func shareKeyActions() []string {
	return []string{"kms:DescribeKey", "kms:TagResource", "kms:UntagResource",
		"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}
}

// DiskEncrypt returns the spec of AliyunECSDiskEncryptDefaultRole, the role
// ECS assumes in the account that creates encrypted disks (or copies
// encrypted snapshots and images) with a customer master key. Its trust
// policy admits the ECS service of the role's own account only.
//
// With no keys, the role gets Alibaba's published permission policy, emitted
// exactly: the disk-encryption actions on every key of every account. With
// keys, it gets the same actions on those keys only (least privilege), plus
// kms:List* on each key's collection. Keys may belong to any account: the
// foreign ARN of a key shared with this account (W2) is the point. Keys must
// be concrete key ARNs; masked IDs, placeholders, wildcards, aliases and key
// collections are refused, as is a key listed twice.
//
// Either way the role has one custom policy, named
// "ECSDiskEncryptDefaultRolePolicy", so that switching between the two forms,
// or changing the keys, updates that policy rather than adding another.
func DiskEncrypt(keys ...arn.ARN) (policy.RoleSpec, error) {
	const role = DiskEncryptRoleName
	trust, err := policy.TrustService(arn.ECS(""))
	if err != nil {
		return policy.RoleSpec{}, &Error{Role: role, Input: "trust", Err: err}
	}
	var perm *policy.Document
	desc := "Alibaba's published permission policy for " + role + ": the ECS disk-encryption actions on every KMS key."
	if len(keys) == 0 {
		// Parsed on each call: no package-level state, and a broken embedded
		// file is caught by the tests, not by a panic at init.
		perm, err = policy.Parse([]byte(publishedDiskPermission))
		if err != nil {
			return policy.RoleSpec{}, fmt.Errorf("ecsroles: embedded disk-encrypt permission policy does not parse: %w", err)
		}
	} else {
		if err := checkKeys(role, "", keys); err != nil {
			return policy.RoleSpec{}, err
		}
		perm, err = policy.KeyPermission(ECSDiskActions(), keys...)
		if err != nil {
			return policy.RoleSpec{}, &Error{Role: role, Input: "key", Err: err}
		}
		if err := perm.Validate(policy.Permission); err != nil {
			return policy.RoleSpec{}, &Error{Role: role, Input: "key", Reason: fmt.Sprintf(
				"%d keys do not fit in one permission policy (at most %d characters)", len(keys), policy.MaxPermissionChars), Err: err}
		}
		desc = "The ECS disk-encryption actions of Alibaba's policy for " + role + ", on the listed KMS keys only."
	}
	return checked(policy.RoleSpec{
		Name:        role,
		Description: "ECS assumes this role to use KMS keys for encrypted disks, snapshots and images.",
		Trust:       trust,
		Policies: []policy.CustomPolicy{{
			Name:        policyPrefix(role),
			Description: desc,
			Document:    perm,
		}},
	})
}

// ShareEncryptImage returns the spec of
// AliyunECSShareEncryptImageDefaultRole for owner, the account that shares
// images encrypted with its own keys: the recipients' ECS service (trust)
// assumes it to use those keys. Each key gets its own custom policy, named
// "ECSShareEncryptImageDefaultRolePolicy-<region>-<key-id>", with kms:List* on
// the key's collection and DescribeKey, TagResource, UntagResource, Encrypt,
// Decrypt and GenerateDataKey on the key. Every key must belong to owner: the
// role lives in the key owner's account. Keys may be in any region (one
// role serves all of them; the policy names carry the region), so a key's
// region is checked for form only, not against the region of the images.
//
// The spec is the role's whole desired state: pass every key and every
// recipient of every encrypted image the account shares.
func ShareEncryptImage(owner string, trust Trusted, keys ...arn.ARN) (policy.RoleSpec, error) {
	return shareRole(imageShare, owner, trust, keys)
}

// ShareEncryptSnapshot is ShareEncryptImage for encrypted snapshots: the
// role AliyunECSShareEncryptSnapshotDefaultRole, with custom policies named
// "ECSShareEncryptSnapshotDefaultRolePolicy-<region>-<key-id>".
func ShareEncryptSnapshot(owner string, trust Trusted, keys ...arn.ARN) (policy.RoleSpec, error) {
	return shareRole(snapshotShare, owner, trust, keys)
}

// ShareEncryptImageServiceKey returns the share role for images encrypted
// with the ECS service key: the trust of ShareEncryptImage and the system
// policy AliyunKMSFullAccess instead of a custom policy (workflows.md W4
// step 3). Note that ECS's API reference says images encrypted with service
// keys cannot be shared at all (ram-sts.md §11.2); this variant follows the
// workflow notes and is unverified.
func ShareEncryptImageServiceKey(owner string, trust Trusted) (policy.RoleSpec, error) {
	return shareServiceKeyRole(imageShare, owner, trust)
}

// ShareEncryptSnapshotServiceKey is ShareEncryptImageServiceKey for
// snapshots encrypted with the ECS service key.
func ShareEncryptSnapshotServiceKey(owner string, trust Trusted) (policy.RoleSpec, error) {
	return shareServiceKeyRole(snapshotShare, owner, trust)
}

// shareKind tells the image role from the snapshot role.
type shareKind int

const (
	imageShare shareKind = iota
	snapshotShare
)

func (k shareKind) role() string {
	if k == snapshotShare {
		return ShareSnapshotRoleName
	}
	return ShareImageRoleName
}

func (k shareKind) what() string {
	if k == snapshotShare {
		return "snapshots"
	}
	return "images"
}

func (k shareKind) serviceKeyFunc() string {
	if k == snapshotShare {
		return "ShareEncryptSnapshotServiceKey"
	}
	return "ShareEncryptImageServiceKey"
}

func shareRole(k shareKind, owner string, trusted Trusted, keys []arn.ARN) (policy.RoleSpec, error) {
	role := k.role()
	spec, err := shareBase(k, owner, trusted)
	if err != nil {
		return policy.RoleSpec{}, err
	}
	if len(keys) == 0 {
		return policy.RoleSpec{}, &Error{Role: role, Input: "key",
			Reason: "no key given; name the keys the shared " + k.what() + " are encrypted with, or use " + k.serviceKeyFunc() + " for the ECS service key"}
	}
	if err := checkKeys(role, owner, keys); err != nil {
		return policy.RoleSpec{}, err
	}
	for _, key := range keys {
		perm, err := policy.KeyPermission(shareKeyActions(), key)
		if err != nil {
			return policy.RoleSpec{}, &Error{Role: role, Input: "key", Value: key.String(), Err: err}
		}
		spec.Policies = append(spec.Policies, policy.CustomPolicy{
			Name:        keyPolicyName(role, key),
			Description: "Lets the ECS service of share recipients use KMS key " + key.String() + " for encrypted " + k.what() + " this account shares.",
			Document:    perm,
		})
	}
	return checked(spec)
}

func shareServiceKeyRole(k shareKind, owner string, trusted Trusted) (policy.RoleSpec, error) {
	spec, err := shareBase(k, owner, trusted)
	if err != nil {
		return policy.RoleSpec{}, err
	}
	spec.SystemPolicies = []string{KMSFullAccessPolicy}
	return checked(spec)
}

func shareBase(k shareKind, owner string, trusted Trusted) (policy.RoleSpec, error) {
	role := k.role()
	if err := arn.ValidateAccountID(owner); err != nil {
		return policy.RoleSpec{}, &Error{Role: role, Input: "owner", Value: owner, Err: err}
	}
	trust, err := trusted.document(role, owner)
	if err != nil {
		return policy.RoleSpec{}, err
	}
	return policy.RoleSpec{
		Name:        role,
		Description: "The ECS service of the accounts this account shares encrypted " + k.what() + " with assumes this role to use the keys they are encrypted with.",
		Trust:       trust,
	}, nil
}

// checkKeys checks that every key is a concrete KMS key ARN, listed once,
// and, when owner is not "", that it belongs to owner.
func checkKeys(role, owner string, keys []arn.ARN) error {
	for i, k := range keys {
		if err := k.Validate(); err != nil {
			return &Error{Role: role, Input: "key", Value: k.String(), Err: err}
		}
		if k.Service != "kms" || k.ResourceType() != "key" {
			return &Error{Role: role, Input: "key", Value: k.String(), Reason: "want a KMS key ARN acs:kms:<region>:<account>:key/<key-id>"}
		}
		if k.ResourceName() == "" {
			return &Error{Role: role, Input: "key", Value: k.String(), Reason: "is the key collection, not a key; name the key as acs:kms:<region>:<account>:key/<key-id>"}
		}
		if owner != "" && k.AccountID != owner {
			return &Error{Role: role, Input: "key", Value: k.String(), Reason: fmt.Sprintf(
				"belongs to account %s, not to the sharer %s; the share role lives in the account that owns the key and shares what it encrypts", k.AccountID, owner)}
		}
		for _, prev := range keys[:i] {
			if prev.Equal(k) {
				return &Error{Role: role, Input: "key", Value: k.String(), Reason: "listed twice"}
			}
		}
	}
	return nil
}

// policyPrefix names a role's custom policies: the role name without the
// "Aliyun" prefix, which Alibaba's system policies carry, plus "Policy".
func policyPrefix(role string) string {
	return strings.TrimPrefix(role, "Aliyun") + "Policy"
}

// keyPolicyName is the deterministic name of a share role's policy for key:
// "<prefix>-<region>-<key-id>", or "<prefix>-<24 hex digits of SHA-256 of
// the key ARN>" when that is not a valid RAM policy name (too long, or a key
// ID with characters policy names do not allow).
func keyPolicyName(role string, key arn.ARN) string {
	name := policyPrefix(role) + "-" + key.Region + "-" + key.ResourceName()
	if policy.ValidatePolicyName(name) == nil {
		return name
	}
	sum := sha256.Sum256([]byte(key.String()))
	return policyPrefix(role) + "-" + hex.EncodeToString(sum[:12])
}

// checked returns spec if it passes RoleSpec.Validate. Inputs were checked
// before, so a failure here names the spec as a whole.
func checked(spec policy.RoleSpec) (policy.RoleSpec, error) {
	if err := spec.Validate(); err != nil {
		return policy.RoleSpec{}, &Error{Role: spec.Name, Input: "role spec", Err: err}
	}
	return spec, nil
}
