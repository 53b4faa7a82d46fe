package policy

import "strings"

// KeyAdministratorActions returns the 14 actions the KMS console grants a key
// administrator: management only, no cryptographic operations
// (policies/kms-key-admin-actions.json).
func KeyAdministratorActions() []string {
	return []string{
		"kms:List*", "kms:Describe*", "kms:Create*", "kms:Enable*", "kms:Disable*",
		"kms:Get*", "kms:Set*", "kms:Update*", "kms:Delete*", "kms:Cancel*",
		"kms:TagResource", "kms:UntagResource", "kms:ImportKeyMaterial", "kms:ScheduleKeyDeletion",
	}
}

// KeyUserActions returns the 11 actions the KMS console grants a key user:
// cryptographic operations only (policies/kms-key-user-actions.json).
func KeyUserActions() []string {
	return []string{
		"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateAndExportDataKey",
		"kms:AsymmetricEncrypt", "kms:AsymmetricDecrypt", "kms:DescribeKey",
		"kms:DescribeKeyVersion", "kms:ListKeyVersions", "kms:ListAliasesByKeyId", "kms:TagResource",
	}
}

// CrossAccountUserActions returns the actions a key policy may grant to RAM
// identities of other accounts: the same 11 as KeyUserActions
// (policies/kms-key-cross-account-user-actions.json). Other accounts can
// never be key administrators.
func CrossAccountUserActions() []string {
	return KeyUserActions()
}

// IsKeyPolicyAction reports whether action is one KMS honours in a key
// policy: "kms:*" or an entry of the administrator or user lists (compared
// case-insensitively). KMS accepts other kms: actions but ignores them
// (kms.md §5), which is why Lint flags them.
func IsKeyPolicyAction(action string) bool {
	if strings.EqualFold(action, "kms:*") {
		return true
	}
	return containsFold(KeyAdministratorActions(), action) || containsFold(KeyUserActions(), action)
}

// IsCrossAccountAction reports whether action may be granted to another
// account in a key policy: one of CrossAccountUserActions.
func IsCrossAccountAction(action string) bool {
	return containsFold(CrossAccountUserActions(), action)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// Condition keys KMS documents for key policies (corrections.md §3).
const (
	CondSourceIP        = "acs:SourceIp"        // the caller's public IP (Internet) or VPC IP
	CondSourceVpc       = "acs:SourceVpc"       // the caller's VPC ID; shared gateway only
	CondVpcSourceIP     = "acs:VpcSourceIp"     // the caller's IP inside its VPC; shared gateway only
	CondCurrentTime     = "acs:CurrentTime"     // the time of the request, ISO 8601
	CondSecureTransport = "acs:SecureTransport" // "true" over HTTPS
	// CondEncryptionContextPrefix + <key> is the value of <key> in the
	// request's EncryptionContext.
	CondEncryptionContextPrefix = "kms:EncryptionContext:"
	// CondTagPrefix + <key> is the value of the key's tag <key>.
	CondTagPrefix = "kms:tag/"
)

// KeyPolicyConditionKeys lists the condition keys KMS documents for key
// policies; the last two are prefixes followed by a key name.
func KeyPolicyConditionKeys() []string {
	return []string{CondSourceIP, CondSourceVpc, CondVpcSourceIP, CondCurrentTime, CondSecureTransport,
		CondEncryptionContextPrefix + "<key>", CondTagPrefix + "<key>"}
}

// IsKeyPolicyConditionKey reports whether key is a documented key policy
// condition key (compared case-insensitively).
func IsKeyPolicyConditionKey(key string) bool {
	for _, k := range []string{CondSourceIP, CondSourceVpc, CondVpcSourceIP, CondCurrentTime, CondSecureTransport} {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	for _, prefix := range []string{CondEncryptionContextPrefix, CondTagPrefix} {
		if len(key) > len(prefix) && strings.EqualFold(key[:len(prefix)], prefix) {
			return true
		}
	}
	return false
}

// isVPCKey reports whether key is one of the VPC condition keys.
func isVPCKey(key string) bool {
	return strings.EqualFold(key, CondSourceVpc) || strings.EqualFold(key, CondVpcSourceIP)
}
