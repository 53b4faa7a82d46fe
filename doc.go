// Package kmsshare turns Alibaba Cloud's console runbooks for sharing KMS
// keys across accounts into Go code. This file holds no code: it is the map a
// newcomer reads first.
//
// # The problem
//
// In Alibaba Cloud a customer master key lives in one account (in a Landing
// Zone, usually a central Security account) and is used by many others. Who
// may use it is decided by two documents in two accounts: the key policy,
// attached to the key in the owner account, and a RAM policy, attached to an
// identity in the using account. Across accounts both must allow a request.
// Done by hand, this means clicking through two or more consoles, pasting ARNs
// copied from documentation (where account IDs are masked as
// "119285303511****"), waiting for the change to take effect, and hoping
// nobody else saved the key policy in between: KMS replaces the whole policy
// on every save and has no revision check.
//
// # The workflows
//
//   - W1, Landing Zone: a Security account shares keys with the RAM roles of
//     Resource Directory member accounts (by default each member's
//     ResourceDirectoryAccountAccessRole), and later changes, audits and
//     revokes those grants.
//   - W2, ECS encryption across accounts: another account creates encrypted
//     disks with a shared key through its AliyunECSDiskEncryptDefaultRole,
//     which must exist before the key policy may name it.
//   - W3, key policies of keys in KMS instances: administrators, users and
//     cross-account users, including external (HYOK) keys; each foreign
//     account costs one unit of the instance's access management quota.
//   - W4, sharing encrypted ECS images and snapshots: the sharer's
//     AliyunECSShareEncrypt{Image,Snapshot}DefaultRole, trusted by the
//     recipients' ECS service for named accounts, a whole resource directory
//     or one folder of it.
//   - W5, envelope encryption with GenerateDataKey, including with a key
//     shared from another account.
//
// # Packages
//
// Each package imports only packages listed before it and the internal
// ones: policy uses arn; ecsroles uses both; share adds internal/alicloud
// and internal/cloudapi for its calls, envelope internal/cloudapi; the
// emulator uses arn, policy and internal/cloudapi to decide requests.
// Nothing but the examples imports share or envelope.
//
//   - arn parses, formats, validates and matches ARNs and service principals,
//     and rejects masked IDs and unfilled placeholders at the first line.
//   - policy models key policies, RAM permission policies and trust
//     policies: strict parsing, per-kind validation, builders for everything
//     the workflows need, semantic equivalence and diffs, lint findings, and
//     an evaluator that decides requests the way RAM and KMS do (including
//     the two-sided rule for other accounts).
//   - ecsroles describes the ECS encryption and share roles of W2 and W4 as
//     policy.RoleSpec values.
//   - share is the orchestrator for W1 and W2: plan, apply (recipient side
//     first, then one safe read-modify-write of the key policy), verify from
//     each recipient's own identity while changes propagate, revoke, and an
//     inventory of who can use a key.
//   - envelope is envelope encryption on GenerateDataKey with a versioned,
//     streaming, key-committing message format, several master keys, a
//     data-key cache and rewrapping.
//   - internal/cloudapi classifies the SDK's errors and retries;
//     internal/alicloud adapts the SDK clients; fakecloud is an
//     in-process multi-account KMS, RAM and STS that the real SDK clients
//     talk to over the real wire protocol. It is the embedded default of
//     every example: nothing here reaches Alibaba Cloud unless asked to.
//   - examples holds one runnable program per workflow and the keyshare CLI
//     for pipelines.
//
// README.md has the two commands to start with, a tour of the main example,
// and how to run against real Alibaba Cloud.
package kmsshare
