package share

// Outcome is the result of verifying one recipient.
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

func (o Outcome) success() bool {
	return o == OutcomeOK || o == OutcomeVerifiedStatically || o == OutcomeRevoked
}

// final reports whether waiting cannot change the outcome.
func (o Outcome) final() bool {
	return o != OutcomeNotYetPropagated && o != OutcomeError
}

func (o Outcome) err() error {
	switch o {
	case OutcomeNotYetPropagated:
		return ErrNotYetPropagated
	case OutcomeDeniedByKeyPolicy:
		return ErrDeniedByKeyPolicy
	case OutcomeDeniedByRecipientPolicy:
		return ErrDeniedByRecipientRAM
	case OutcomeStillGranted:
		return ErrStillGranted
	case OutcomeKeyDisabled:
		return ErrKeyDisabled
	case OutcomeKeyNotInInstance:
		return ErrKeyNotInInstance
	case OutcomeQuotaExceeded:
		return ErrQuotaExceeded
	case OutcomeRecipientRoleMissing:
		return ErrRecipientRoleMissing
	case OutcomeNetworkRefused:
		return ErrNetworkRefused
	case OutcomeError:
		return ErrVerificationIncomplete
	}
	return nil
}

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

// Preflight problem codes, and the sentinel errors they match.
const (
	ProblemKeyNotFound       = "key-not-found"
	ProblemKeyNotEnabled     = "key-not-enabled"
	ProblemKeyNotInInstance  = "key-not-in-instance"
	ProblemKeyUsage          = "key-usage"
	ProblemKeyPolicy         = "key-policy-unreadable"
	ProblemQuota             = "quota-exceeded"
	ProblemUnreachable       = "account-unreachable"
	ProblemRoleMissing       = "recipient-role-missing"
	ProblemUserMissing       = "recipient-user-missing"
	ProblemNewLintError      = "key-policy-lint"
	ProblemRecipientReadFail = "recipient-unreadable"
	// WarningQuotaUnchecked is a warning, not a problem: the quota looks
	// too small, but the accounts other keys of the instance already share
	// with could not be counted, so SetKeyPolicy will decide.
	WarningQuotaUnchecked = "quota-unchecked"
)

// ProblemUnintendedAccess: the new key policy would let a principal do
// something the spec does not ask for (policy.CheckNoNewAccess): for a
// share, a principal that is not one of the spec's recipients; for a
// revoke, anyone at all.
const ProblemUnintendedAccess = "key-policy-new-access"

// Problem codes of a manifest's plan.
const (
	ProblemKeyPolicyTooLarge = "key-policy-too-large"
)

// Problem is a preflight failure: a reason the plan cannot be applied.
type Problem struct {
	Code      string `json:"code"` // stable: "key-not-found", "key-not-enabled", ...
	Account   string `json:"account,omitempty"`
	Principal string `json:"principal,omitempty"`
	Message   string `json:"message"`
	Err       error  `json:"-"`
}

func (p Problem) String() string {
	s := p.Code + ": " + p.Message
	if p.Err != nil {
		s += " (" + p.Err.Error() + ")"
	}
	return s
}
