// Package ecsroles describes, as policy.RoleSpec values, the three RAM roles
// that ECS needs to use customer master keys across accounts: exact names,
// trust policies and permission policies. Getting one wrong fails late and
// far away: the key owner's console refuses the key policy with
// InvalidParameter, or ECS refuses to share an image with AssumeRoleError.
// The share package creates and updates roles from these specs; this package
// does no I/O.
//
// # Which account owns which role
//
// W2, a recipient uses a shared key for disks. Account A owns the key and
// shares it with account B. B owns AliyunECSDiskEncryptDefaultRole
// (DiskEncrypt): ECS, acting for B, assumes it to use the key, and A names
// acs:ram::<B>:role/aliyunecsdiskencryptdefaultrole as a cross-account user in
// the key policy. B's role must exist before A saves that key policy, or KMS
// answers InvalidParameter. Give DiskEncrypt the foreign key ARNs
// (acs:kms:<region>:<A>:key/<id>) to scope the role to them; with no keys it
// gets Alibaba's published policy, which covers every key. The same role, with
// B's own key, is what ECS assumes when B re-encrypts what it received with a
// key of its own. An account using only its own keys for ECS needs only this
// role (the console creates it on first use); the ECS service key needs no
// role at all.
//
// W4, an account shares encrypted images or snapshots. Whoever shares owns
// the share role: AliyunECSShareEncryptImageDefaultRole (ShareEncryptImage)
// for images, AliyunECSShareEncryptSnapshotDefaultRole (ShareEncryptSnapshot)
// for snapshots. It lives in the account that owns the key the image or
// snapshot is encrypted with, and the recipients' ECS assumes it, which is why
// every key must belong to the owner and why the trust policy must name the
// recipients. The recipient does not need a share role to receive; it needs
// one only to share on again, and then it is the sharer.
//
// # Trust scopes
//
// A share role trusts the ECS service of other accounts, chosen with a
// Trusted value:
//
//   - Accounts(uids...): "<uid>@ecs.aliyuncs.com" for each recipient. The
//     plain "ecs.aliyuncs.com" means ECS acting for the role's own account;
//     in a share role it is exactly what causes AssumeRoleError, so it is
//     never emitted, and the owner's own account is refused.
//   - ResourceDirectory(rdID): "*@ecs.aliyuncs.com" with StringEquals
//     sts:ServiceOwnerRDId = rdID, every account of the resource directory.
//   - Folder(path): "*@ecs.aliyuncs.com" with StringLike
//     sts:ServiceOwnerRDPath = "<path>*", every account in the folder and in
//     the folders below it.
//
// The disk role always trusts "ecs.aliyuncs.com", the ECS service of its own
// account.
//
// # Policy names
//
// Custom policy names are deterministic, so that applying a spec again finds
// the same policies: the role name without the "Aliyun" prefix (which marks
// Alibaba's system policies), then "Policy", then for share roles the key's
// region and ID:
//
//	ECSDiskEncryptDefaultRolePolicy
//	ECSShareEncryptImageDefaultRolePolicy-cn-hangzhou-key-hzz6801a1b2c3d4e5f6g7
//	ECSShareEncryptSnapshotDefaultRolePolicy-cn-hangzhou-key-hzz6801a1b2c3d4e5f6g7
//
// A key whose name would not make a valid RAM policy name (more than 128
// characters, or characters other than letters, digits and '-') is named by
// the first 24 hex digits of the SHA-256 of its ARN instead.
//
// # What is documented and what is not
//
// From Alibaba's documentation: the role names, that the share role lives in
// the sharer's account, that ECS refuses to share without it
// (AssumeRoleError), and the disk role's published permission policy (as of
// the 2021 text; the console attaches it as the system policy
// AliyunECSDiskEncryptRolePolicy). From third parties, consistent with the
// documentation: the disk role's trust policy and the "<uid>@ecs.aliyuncs.com"
// form for other accounts. Inferred: several recipients as several entries,
// the share-role permission policy (the project's template), and that a
// recipient re-encrypting with its own key goes through its own disk role;
// W2's direct use of the sharer's key by B's disk role is a practitioners'
// description (workflows.md). Unverified:
// the Resource Directory scopes, whose condition keys sts:ServiceOwnerRDId and
// sts:ServiceOwnerRDPath and whose "*@ecs.aliyuncs.com" principal appear in
// the project's templates only; verify them against a console-generated trust
// policy before relying on them. The service-key variants attach
// AliyunKMSFullAccess as the workflow notes say, although ECS's API reference
// says images encrypted with service keys cannot be shared.
//
// The folder scope matches by prefix, as Alibaba's template does: "<path>*"
// also matches a sibling folder whose ID starts with the folder's ID. Folder
// IDs are random and of fixed length, so this does not happen in practice.
package ecsroles
