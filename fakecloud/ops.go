package fakecloud

// operations is the dispatch table: "<service>:<Action>" → handler.
// Writers take the state lock exclusively; readers share it.
func (c *Cloud) operations() map[string]op {
	r := func(f func(k *call) (any, *Error)) op { return op{run: f} }
	w := func(f func(k *call) (any, *Error)) op { return op{run: f, write: true} }
	return map[string]op{
		"kms:CreateKey":                       w((*call).kmsCreateKey),
		"kms:DescribeKey":                     r((*call).kmsDescribeKey),
		"kms:ListKeys":                        r((*call).kmsListKeys),
		"kms:EnableKey":                       w((*call).kmsEnableKey),
		"kms:DisableKey":                      w((*call).kmsDisableKey),
		"kms:ScheduleKeyDeletion":             w((*call).kmsScheduleKeyDeletion),
		"kms:CancelKeyDeletion":               w((*call).kmsCancelKeyDeletion),
		"kms:GetKeyPolicy":                    r((*call).kmsGetKeyPolicy),
		"kms:SetKeyPolicy":                    w((*call).kmsSetKeyPolicy),
		"kms:GetKmsInstance":                  r((*call).kmsGetKmsInstance),
		"kms:ListKmsInstances":                r((*call).kmsListKmsInstances),
		"kms:GetKmsInstanceQuotaInfos":        r((*call).kmsGetKmsInstanceQuotaInfos),
		"kms:UpdateKmsInstanceBindVpc":        w((*call).kmsUpdateKmsInstanceBindVpc),
		"kms:GenerateDataKey":                 r((*call).kmsGenerateDataKey),
		"kms:GenerateDataKeyWithoutPlaintext": r((*call).kmsGenerateDataKeyWithoutPlaintext),
		"kms:Encrypt":                         r((*call).kmsEncrypt),
		"kms:Decrypt":                         r((*call).kmsDecrypt),
		"kms:ReEncrypt":                       r((*call).kmsReEncrypt),

		"ram:CreateRole":              w((*call).ramCreateRole),
		"ram:GetRole":                 r((*call).ramGetRole),
		"ram:UpdateRole":              w((*call).ramUpdateRole),
		"ram:DeleteRole":              w((*call).ramDeleteRole),
		"ram:ListRoles":               r((*call).ramListRoles),
		"ram:CreatePolicy":            w((*call).ramCreatePolicy),
		"ram:GetPolicy":               r((*call).ramGetPolicy),
		"ram:CreatePolicyVersion":     w((*call).ramCreatePolicyVersion),
		"ram:GetPolicyVersion":        r((*call).ramGetPolicyVersion),
		"ram:ListPolicyVersions":      r((*call).ramListPolicyVersions),
		"ram:DeletePolicyVersion":     w((*call).ramDeletePolicyVersion),
		"ram:SetDefaultPolicyVersion": w((*call).ramSetDefaultPolicyVersion),
		"ram:DeletePolicy":            w((*call).ramDeletePolicy),
		"ram:AttachPolicyToRole":      w((*call).ramAttachPolicyToRole),
		"ram:DetachPolicyFromRole":    w((*call).ramDetachPolicyFromRole),
		"ram:ListPoliciesForRole":     r((*call).ramListPoliciesForRole),
		"ram:ListEntitiesForPolicy":   r((*call).ramListEntitiesForPolicy),
		"ram:CreateUser":              w((*call).ramCreateUser),
		"ram:GetUser":                 r((*call).ramGetUser),
		"ram:CreateAccessKey":         w((*call).ramCreateAccessKey),
		"ram:AttachPolicyToUser":      w((*call).ramAttachPolicyToUser),
		"ram:DetachPolicyFromUser":    w((*call).ramDetachPolicyFromUser),
		"ram:ListPoliciesForUser":     r((*call).ramListPoliciesForUser),

		"sts:AssumeRole":        w((*call).stsAssumeRole),
		"sts:GetCallerIdentity": r((*call).stsGetCallerIdentity),

		"resourcemanager:GetResourceDirectory":  r((*call).rmGetResourceDirectory),
		"resourcemanager:ListAccounts":          r((*call).rmListAccounts),
		"resourcemanager:ListAccountsForParent": r((*call).rmListAccountsForParent),
		"resourcemanager:ListFoldersForParent":  r((*call).rmListFoldersForParent),
		"resourcemanager:GetAccount":            r((*call).rmGetAccount),
	}
}
