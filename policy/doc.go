// Package policy is the single model of the three JSON documents that decide
// who may use a shared KMS key:
//
//   - the KMS key policy, on the key in the owner account (kind KeyPolicy);
//   - RAM permission policies, attached to users and roles in the account
//     that uses the key (kind Permission);
//   - trust policies, which say who may assume a role (kind Trust).
//
// Every other package, and the emulator, reads, writes and decides with it.
//
// # Documents
//
// Parse decodes a document strictly: unknown and duplicate fields, a Version
// other than "1" and elements of the wrong type are errors, each reported
// with its JSON pointer (and line and column for malformed JSON). Elements
// that may be a string or a list (Strings) remember their form, and a parsed
// statement that is not edited is written back exactly as it was read, so
// documents round-trip byte for byte and statements owned by someone else
// survive an edit untouched.
//
// Validate applies the rules the cloud enforces for a kind (size limits,
// Resource "*" and kms: actions in key policies, sts:AssumeRole in trust
// policies); Lint adds findings that are legal but wrong or risky, such as
// administrator actions granted to another account, masked IDs copied from
// documentation, actions KMS silently ignores, or a key policy that drops the
// owner account's own access. Findings carry a severity, a stable code and a
// JSON pointer.
//
// Equivalent compares documents by meaning (string or list, order,
// duplicates, action and role-name case do not matter); Canonical gives a
// deterministic form for storage; Diff lists the grants one document adds to
// or removes from another, for plans.
//
// # Building documents
//
// DefaultKeyPolicy, AddKeyAdministrators, AddKeyUsers and
// SetCrossAccountUsers build and edit key policies. Edits touch only the
// statements this package owns (Sids starting with OwnedSidPrefix), are
// idempotent, and refuse to give another account anything but the key-user
// actions. KeyPermission builds least-privilege RAM policies on key ARNs;
// TrustRAM, TrustService, TrustServiceInResourceDirectory and
// TrustServiceInFolder build trust policies, and WithExternalID adds the
// sts:ExternalId guard. RoleSpec describes a role as a whole.
//
// # Evaluation
//
// Evaluate decides a request the way RAM does: an applicable explicit Deny
// wins, then an applicable Allow, else the request is implicitly denied; it
// reports the deciding statement. All documented condition operators are
// supported. EvaluateAccess applies the two-sided rule of key policies: a
// caller in the key's own account needs an Allow from the key policy or its
// RAM policies, a caller in another account needs both.
//
// Facts about Alibaba's rules come from the project's reference notes; where
// those mark something unverified (the Resource Directory trust conditions,
// how KMS treats Condition in key policies) the code says so where it relies
// on it.
package policy
