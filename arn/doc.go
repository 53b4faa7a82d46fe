// Package arn parses, formats, validates and matches Alibaba Cloud Resource
// Names (ARNs) and service principals, the identifiers that key policies,
// RAM policies and trust policies are made of.
//
// # ARNs
//
// An ARN has five colon-separated fields, acs:<service>:<region>:<account>:<resource>:
//
//	acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7   a KMS key
//	acs:kms:cn-hangzhou:1192853035118460:key                             the key collection (kms:List*)
//	acs:ram::1192853035118460:role/resourcedirectoryaccountaccessrole    a RAM role (global: no region)
//	acs:ram::1192853035118460:user/alice                                 a RAM user
//	acs:ram::1192853035118460:root                                       the account
//	acs:ram::1192853035118460:*                                          every identity of the account
//	acs:ram::1192853035118460:assumed-role/app/session-1                 an STS role session
//
// Parse is strict, because identifiers copied from documentation fail late,
// in the cloud, if they are accepted early: masked account IDs
// ("119285303511****"), template placeholders ("<UID>", "${region}"), a region
// on a global service, a role name RAM would refuse and any wildcard are all
// rejected with an *Error that names the field and the reason. Every error
// matches ErrInvalid with errors.Is; masked IDs, placeholders and wildcards
// also match ErrMasked, ErrPlaceholder and ErrWildcard.
//
// Policy Resource elements are patterns ("acs:kms:*:*:key/*"); parse those
// with ParsePattern and match them with MatchResource.
//
// # Role names and case
//
// RAM role names are case-insensitive and RAM prints them in lower case in
// ARNs. The constructors (RAMRole, ResourceDirectoryAccessRole) therefore emit
// lower case; Parse keeps the spelling it was given, so a display name such
// as "ECSAdmin" is not lost; Equal compares role and user names
// case-insensitively; Canonical lower-cases a role ARN.
//
// # Service principals
//
// Trust policies name services rather than ARNs: "ecs.aliyuncs.com" is ECS
// acting for the role's own account, "<uid>@ecs.aliyuncs.com" ECS acting for
// another account, and "*@ecs.aliyuncs.com" ECS acting for any account. See
// ServicePrincipal.
//
// # Matching
//
// Match implements RAM's wildcards: "*" matches any run of characters and
// "?" exactly one. It does not allocate and never backtracks exponentially.
// MatchAction folds case (action names are case-insensitive), and
// MatchResource folds case only for RAM role and user names.
package arn
