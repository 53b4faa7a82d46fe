// Package findings answers the question a security team asks first about
// shared KMS keys: which accounts outside our directory, or outside the
// folder we meant, can use our keys, through which statements, and what is
// risky about it. It is the Alibaba Cloud counterpart of IAM Access
// Analyzer's external-access findings for KMS keys, which RAM Access
// Analyzer does not cover.
//
// # Scan
//
// Scan reads every key in KMS instances of the given accounts and regions
// with the official SDK clients, places every account named in a key
// policy in the Resource Directory, and, where it may assume the
// directory's access role in that account, reads the RAM side of every
// recipient role and user. It only reads, runs a bounded number of calls
// at a time, reports progress, and makes O(keys + distinct recipient
// principals) calls.
//
// # Findings
//
// Each finding has a stable code, a severity (error, security-warning,
// warning, suggestion, as Access Analyzer grades policy checks), the key or
// instance, the statement (index, Sid and JSON pointer) and a sentence
// with the fix. The codes:
//
//   - outside-directory: a principal of an account outside the directory;
//   - outside-trust-zone: a member outside the trusted folder (Target.TrustFolder);
//   - dangling-account: the access role of an account that left the directory;
//   - dangling-principal: a recipient role or user that no longer exists;
//   - half-grant: the key policy grants actions the recipient's RAM policies do not allow;
//   - ram-only-grant: a recipient's RAM policy names a key whose policy grants it nothing;
//   - cross-account-admin: administrator actions (or NotAction) granted to another account;
//   - wildcard-principal: a principal admitting any account;
//   - ineffective-action: actions that take no effect for other accounts;
//   - no-deletion-protection, shared-key-pending-deletion, shared-key-disabled: the state of a shared key;
//   - rotation-off, cannot-rotate: the rotation posture of a shared key (external, BYOK and asymmetric keys cannot rotate);
//   - owner-can-reshare: a named identity of the owner account may call kms:SetKeyPolicy on a shared key;
//   - quota-nearly-used: an instance has used 80% or more of its access management quota.
//
// Acceptances suppress findings with a reason (ReadAcceptances), so a
// pipeline fails (Report.Fails) only on findings nobody accepted.
//
// # Output
//
// A Report writes itself as text, JSON, SARIF 2.1.0 (for code-scanning
// views in CI), a self-contained HTML page with an SVG drawing of keys →
// accounts → folders and a table of findings, and a Graphviz DOT graph.
//
// # Limits
//
// The RAM side is read only for roles and users of member accounts the
// scan can enter, and evaluated without request context, so a RAM Allow
// that needs a condition counts as missing. ram-only-grant looks only at
// the RAM policies of principals some key policy names. owner-can-reshare
// reports identities the key policy names; the account-wide default
// statement delegates to the owner's RAM policies, which the scan does not
// enumerate. The access management quota is counted from the scan (bound
// VPCs plus distinct accounts in the instance's key policies) because
// whether GetKmsInstanceQuotaInfos counts accounts is unverified. Grants
// are read from Allow statements as written: a Deny of the key policy that
// cancels one does not remove its findings, and a grant with a Condition
// counts as a grant. Deletion protection and automatic rotation are read
// from DescribeKey (DeletionProtection, AutomaticRotation).
package findings
