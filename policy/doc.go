// Package policy is the single model of the three JSON documents that decide
// who may use a shared KMS key: KMS key policies (in the key owner's
// account), RAM permission policies (attached to identities in the using
// account) and trust policies (who may assume a role).
//
// It parses documents strictly (JSON pointers in every error), validates them
// per kind with the limits the cloud enforces, and evaluates requests the way
// RAM and KMS do, including the two-sided rule for other accounts: a
// cross-account request needs an Allow in the key policy and in the caller's
// own RAM policies.
package policy
