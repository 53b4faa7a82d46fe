// Package kmsshare turns Alibaba Cloud's console runbooks for sharing KMS keys
// across accounts into Go code. This file holds no code: it is the map a
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
// copied from documentation (where account IDs are masked as "119285303511****"),
// waiting for the change to take effect, and hoping nobody else saved the key
// policy in between.
//
// # The workflows
//
// kmsshare automates five workflows (see README.md for each in a paragraph):
//
//   - W1, Landing Zone: a Security account shares keys with the RAM roles of
//     Resource Directory member accounts.
//   - W2, ECS encryption across accounts: another account creates encrypted
//     disks with a shared key through its AliyunECSDiskEncryptDefaultRole.
//   - W3, key policies of keys in KMS instances: administrators, users and
//     cross-account users, including external (HYOK) keys.
//   - W4, sharing encrypted ECS images and snapshots: the
//     AliyunECSShareEncrypt{Image,Snapshot}DefaultRole roles and their trust
//     policies for accounts, a whole resource directory or one folder.
//   - W5, envelope encryption with GenerateDataKey.
//
// # Packages
//
// Package arn parses, formats and matches ARNs and service principals, and
// rejects masked IDs and unfilled placeholders at the first line.
package kmsshare
