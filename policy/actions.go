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
