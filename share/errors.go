package share

import (
	"errors"
	"strings"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// APIError is a failed Alibaba Cloud API call: the service's error code,
// HTTP status and request ID, and the failure class it belongs to. Match it
// with errors.As; match the class with errors.Is and the Err* values below.
type APIError = cloudapi.Error

// Failure classes of API calls, matched with errors.Is.
var (
	ErrThrottled            = cloudapi.ErrThrottled
	ErrUnavailable          = cloudapi.ErrUnavailable
	ErrAccessDenied         = cloudapi.ErrAccessDenied
	ErrNotFound             = cloudapi.ErrNotFound
	ErrQuotaExceeded        = cloudapi.ErrQuotaExceeded
	ErrKeyState             = cloudapi.ErrKeyState
	ErrKeyPolicyUnsupported = cloudapi.ErrKeyPolicyUnsupported
	ErrInvalidParameter     = cloudapi.ErrInvalidParameter
	ErrAuthentication       = cloudapi.ErrAuthentication
	// ErrClockSkew: the service refused the request's timestamp
	// (InvalidTimeStamp.Expired); this host's clock is off. Fix the clock.
	ErrClockSkew = cloudapi.ErrClockSkew
)

// Errors of the orchestrator itself.
var (
	// ErrInvalidSpec is matched by every *SpecError: bad input found before
	// any API call.
	ErrInvalidSpec = errors.New("share: invalid spec")
	// ErrPreflight is matched by a plan that cannot be applied: the key or a
	// recipient is not in a state that allows sharing.
	ErrPreflight = errors.New("share: preflight failed")
	// ErrIncomplete is matched by the error of an Apply that did not do
	// everything the plan asked for; the *ApplyError says what was done.
	ErrIncomplete = errors.New("share: apply incomplete")
	// ErrLostUpdate means the key policy kept being overwritten by other
	// writers and the grants could not be made to stick within the bound.
	ErrLostUpdate = errors.New("share: key policy changes kept being overwritten by another writer")
)

// Errors matched by a *VerifyError, one per failing outcome.
var (
	ErrNotYetPropagated       = errors.New("share: not yet in effect")
	ErrDeniedByKeyPolicy      = errors.New("share: denied by the key policy")
	ErrDeniedByRecipientRAM   = errors.New("share: denied by the recipient's RAM policy")
	ErrStillGranted           = errors.New("share: still granted by the key policy")
	ErrKeyDisabled            = errors.New("share: key not enabled")
	ErrKeyNotInInstance       = errors.New("share: key not in a KMS instance")
	ErrRecipientRoleMissing   = errors.New("share: recipient role or user missing")
	ErrVerificationIncomplete = errors.New("share: verification could not complete")
)

// ErrNetworkRefused matches a *VerifyError with an OutcomeNetworkRefused.
var ErrNetworkRefused = errors.New("share: the key is not reachable on the recipient's network path")

// ErrNetwork is the failure class of a refused network path (see
// OutcomeNetworkRefused).
var ErrNetwork = cloudapi.ErrNetwork

// ErrNotYetVisible is matched by the error of an Apply whose key policy
// write kept being refused for a principal that exists in RAM but that KMS
// did not see within Options.VisibilityWait.
var ErrNotYetVisible = errors.New("share: a principal created moments ago is not yet visible to KMS or STS")

// PreflightError lists the problems that keep a plan from being applied.
// It matches ErrPreflight, and ErrQuotaExceeded, ErrKeyState,
// ErrKeyPolicyUnsupported or ErrNotFound for the corresponding problems.
type PreflightError struct {
	Problems []Problem
}

func (e *PreflightError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		s := p.String()
		if p.Account != "" {
			s = "account " + p.Account + ": " + s
		}
		parts = append(parts, s)
	}
	return "share: preflight failed: " + strings.Join(parts, "; ")
}

// Is matches ErrPreflight and the classes of the problems.
func (e *PreflightError) Is(target error) bool {
	if target == ErrPreflight {
		return true
	}
	for _, p := range e.Problems {
		var class error
		switch p.Code {
		case ProblemQuota:
			class = ErrQuotaExceeded
		case ProblemKeyNotEnabled:
			class = ErrKeyState
		case ProblemKeyNotInInstance:
			class = ErrKeyPolicyUnsupported
		case ProblemKeyNotFound, ProblemRoleMissing, ProblemUserMissing:
			class = ErrNotFound
		}
		if class == target {
			return true
		}
	}
	return false
}

// Unwrap returns the problems' underlying errors.
func (e *PreflightError) Unwrap() []error {
	var out []error
	for _, p := range e.Problems {
		if p.Err != nil {
			out = append(out, p.Err)
		}
	}
	return out
}

// VerifyError lists the recipients that did not verify. It matches the
// Err* value of each failing outcome (ErrDeniedByKeyPolicy, ...).
type VerifyError struct {
	Report *VerifyReport
}

func (e *VerifyError) Error() string {
	var parts []string
	for _, v := range e.Report.Results {
		if !v.Outcome.success() {
			s := v.Principal + ": " + string(v.Outcome)
			if v.Detail != "" {
				s += " (" + v.Detail + ")"
			}
			parts = append(parts, s)
		}
	}
	return "share: verification failed: " + strings.Join(parts, "; ")
}

// Is matches the errors of the failing outcomes.
func (e *VerifyError) Is(target error) bool {
	for _, v := range e.Report.Results {
		if !v.Outcome.success() && v.Outcome.err() == target {
			return true
		}
	}
	return false
}
