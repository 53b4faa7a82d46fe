package share

// Outcome is the result of verifying one recipient. A failing outcome is
// also the kind of the *VerifyError that reports it (see Outcome.Error).
type Outcome string

// Verification outcomes. OK, Revoked and VerifiedStatically are successes;
// NotYetPropagated keeps Verify polling until its deadline; the others end
// polling for that recipient, because waiting will not change them.
//
// Only OK proves that the share is in effect: the recipient made calls with
// the key. VerifiedStatically means both policies, as they read, allow every
// granted action, but no call could be made as the recipient (the ECS disk
// role only ECS can assume, a RAM user, or granted actions without a
// harmless call such as kms:TagResource alone), so the change may not have
// propagated yet: the first use may still be refused for a while.
const (
	OutcomeOK                      Outcome = "ok"                         // the recipient used the key (and the policies allow the granted actions no call exercises)
	OutcomeVerifiedStatically      Outcome = "verified-statically"        // both policies allow it, but no call was made as the recipient: not proof of propagation
	OutcomeRevoked                 Outcome = "revoked"                    // the recipient is refused, as a revoke intends
	OutcomeNotYetPropagated        Outcome = "not-yet-propagated"         // both policies say yes (or no, after a revoke) but the cloud does not agree yet
	OutcomeDeniedByKeyPolicy       Outcome = "denied-by-key-policy"       // the key policy does not grant the action
	OutcomeDeniedByRecipientPolicy Outcome = "denied-by-recipient-policy" // the recipient's own RAM policies do not allow the action
	OutcomeStillGranted            Outcome = "still-granted"              // after a revoke, the key policy still grants the recipient (Detail names the statements)
	OutcomeKeyDisabled             Outcome = "key-disabled"               // the key is not Enabled
	OutcomeKeyNotInInstance        Outcome = "key-not-in-instance"        // the key has no key policy
	OutcomeQuotaExceeded           Outcome = "quota-exceeded"             // the key policy lacks the recipient and the instance's quota is full
	OutcomeRecipientRoleMissing    Outcome = "recipient-role-missing"     // the recipient's role (or user) does not exist
	OutcomeError                   Outcome = "error"                      // the check itself failed; see Error
	// OutcomeNetworkRefused: the recipient's network path does not reach
	// the key (Internet access off for its account, or its VPC not bound
	// for the dedicated gateway). Detail says how to fix it. Waiting does
	// not change it.
	OutcomeNetworkRefused Outcome = "network-refused"
)

// Error returns the outcome's code, so that an Outcome prints the same as
// a value and as an error. Outcomes are the kinds of a *VerifyError, the way
// syscall.Errno values are both codes and errors:
// errors.Is(err, OutcomeDeniedByKeyPolicy) asks whether any recipient was
// denied by the key policy.
func (o Outcome) Error() string { return string(o) }

func (o Outcome) success() bool {
	return o == OutcomeOK || o == OutcomeVerifiedStatically || o == OutcomeRevoked
}

// final reports whether waiting cannot change the outcome.
func (o Outcome) final() bool {
	return o != OutcomeNotYetPropagated && o != OutcomeError
}

// denied reports whether o is a failure that waiting will not change: every
// failing outcome except NotYetPropagated and Error (see ErrDenied).
func (o Outcome) denied() bool { return !o.success() && o.final() }

// Operation is what a plan does.
type Operation string

// The two operations.
const (
	OpShare  Operation = "share"
	OpRevoke Operation = "revoke"
)

// Status is the outcome of one step.
type Status string

// Step outcomes.
const (
	StatusDone         Status = "done"          // the change was made
	StatusAlreadyDone  Status = "already-done"  // the cloud already had it (e.g. created concurrently)
	StatusFailed       Status = "failed"        // the change was attempted and failed
	StatusNotAttempted Status = "not-attempted" // an earlier failure stopped it
)

// StepAction is one kind of change on the recipient side.
type StepAction string

// The recipient-side changes Apply can make.
const (
	StepCreateRole          StepAction = "create-role"
	StepUpdateTrust         StepAction = "update-trust"
	StepCreatePolicy        StepAction = "create-policy"
	StepCreatePolicyVersion StepAction = "create-policy-version"
	StepAttachPolicy        StepAction = "attach-policy"
	StepDetachPolicy        StepAction = "detach-policy"
	StepDeletePolicy        StepAction = "delete-policy"
	StepDeleteRole          StepAction = "delete-role"
)

// ProblemCode says, stably, why a plan cannot be applied (Problem.Code).
// Codes are also the kinds of a *PreflightError:
// errors.Is(err, ProblemQuota) asks whether any problem is the quota.
type ProblemCode string

// Error returns the code, so that a ProblemCode prints the same as a value
// and as an error.
func (c ProblemCode) Error() string { return string(c) }

// Problem codes of Plan, PlanRevoke and PlanManifest. Every problem also
// matches ErrPreflight; those with a cloud failure class behind them match
// it too (ErrNotFound, ErrKeyState, ErrKeyPolicyUnsupported,
// ErrQuotaExceeded), as noted.
const (
	ProblemKeyNotFound       ProblemCode = "key-not-found"          // the key does not exist in its owner's account (ErrNotFound)
	ProblemKeyNotEnabled     ProblemCode = "key-not-enabled"        // the key is not Enabled (ErrKeyState)
	ProblemKeyNotInInstance  ProblemCode = "key-not-in-instance"    // the key has no key policy (ErrKeyPolicyUnsupported)
	ProblemKeyUsage          ProblemCode = "key-usage"              // the key is not an ENCRYPT/DECRYPT key
	ProblemKeyPolicy         ProblemCode = "key-policy-unreadable"  // the current key policy cannot be parsed, so it cannot be edited safely
	ProblemQuota             ProblemCode = "quota-exceeded"         // the instance's access management quota has no room (ErrQuotaExceeded)
	ProblemUnreachable       ProblemCode = "account-unreachable"    // a recipient's account cannot be entered
	ProblemRoleMissing       ProblemCode = "recipient-role-missing" // the recipient's role does not exist (ErrNotFound)
	ProblemUserMissing       ProblemCode = "recipient-user-missing" // the recipient's RAM user does not exist (ErrNotFound)
	ProblemNewLintError      ProblemCode = "key-policy-lint"        // the new key policy would have a lint error the current one has not
	ProblemRecipientReadFail ProblemCode = "recipient-unreadable"   // a recipient's role or policies cannot be read
	// ProblemUnintendedAccess: the new key policy would let a principal do
	// something the spec does not ask for (policy.CheckNoNewAccess): for a
	// share, a principal that is not one of the spec's recipients; for a
	// revoke, anyone at all.
	ProblemUnintendedAccess ProblemCode = "key-policy-new-access"
	// ProblemKeyPolicyTooLarge: a manifest's key policy would exceed
	// policy.MaxKeyPolicyBytes.
	ProblemKeyPolicyTooLarge ProblemCode = "key-policy-too-large"
)

// WarningQuotaUnchecked is a warning (Plan.Warnings), not a problem: the
// quota looks too small, but the accounts other keys of the instance
// already share with could not be counted, so SetKeyPolicy will decide.
const WarningQuotaUnchecked ProblemCode = "quota-unchecked"

// Problem is a preflight failure: a reason the plan cannot be applied.
type Problem struct {
	Code      ProblemCode `json:"code"` // stable: "key-not-found", "key-not-enabled", ...
	Account   string      `json:"account,omitempty"`
	Principal string      `json:"principal,omitempty"`
	Message   string      `json:"message"`
	Err       error       `json:"-"`
}

func (p Problem) String() string {
	s := string(p.Code) + ": " + p.Message
	if p.Err != nil {
		s += " (" + p.Err.Error() + ")"
	}
	return s
}
