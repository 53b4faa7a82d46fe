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
	// ErrNetwork: the network path refused the call (see
	// OutcomeNetworkRefused).
	ErrNetwork = cloudapi.ErrNetwork
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
	// ErrDenied is matched by a *VerifyError when some recipient's outcome
	// is a refusal that waiting will not change: denied by either policy,
	// still granted after a revoke, key disabled or not in an instance,
	// quota exceeded, role missing, network path refused. Not matched for
	// OutcomeNotYetPropagated (wait longer) or OutcomeError (the check
	// failed).
	ErrDenied = errors.New("share: denied")
)

// PreflightError lists the problems that keep a plan from being applied.
// It matches ErrPreflight, the ProblemCode of each problem
// (errors.Is(err, ProblemQuota)), and the cloud failure class noted beside
// a code (ErrQuotaExceeded, ErrKeyState, ErrKeyPolicyUnsupported,
// ErrNotFound).
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

// Is matches ErrPreflight, the problems' codes and their classes.
func (e *PreflightError) Is(target error) bool {
	if target == ErrPreflight {
		return true
	}
	for _, p := range e.Problems {
		if p.Code == target || problemClass(p.Code) == target {
			return true
		}
	}
	return false
}

// problemClass is the cloud failure class a problem code stands for, if any.
func problemClass(c ProblemCode) error {
	switch c {
	case ProblemQuota:
		return ErrQuotaExceeded
	case ProblemKeyNotEnabled:
		return ErrKeyState
	case ProblemKeyNotInInstance:
		return ErrKeyPolicyUnsupported
	case ProblemKeyNotFound, ProblemRoleMissing, ProblemUserMissing:
		return ErrNotFound
	}
	return nil
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
// Outcome of each failing recipient (errors.Is(err,
// OutcomeDeniedByKeyPolicy)), ErrDenied if any of them is a refusal that
// waiting will not change, and ErrQuotaExceeded for OutcomeQuotaExceeded.
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

// Is matches the failing outcomes, ErrDenied and ErrQuotaExceeded.
func (e *VerifyError) Is(target error) bool {
	for _, v := range e.Report.Results {
		o := v.Outcome
		switch {
		case o.success():
		case o == target,
			target == ErrDenied && o.denied(),
			target == ErrQuotaExceeded && o == OutcomeQuotaExceeded:
			return true
		}
	}
	return false
}

// ErrNotYetVisible is matched by the error of an Apply whose key policy
// write kept being refused for a principal that exists in RAM but that KMS
// did not see within Options.VisibilityWait. It is Apply's, not a verify
// outcome: waiting longer (or applying again) is the fix.
var ErrNotYetVisible = errors.New("share: a principal created moments ago is not yet visible to KMS or STS")

// preflightError is a *PreflightError of problems, or nil if there are none.
func preflightError(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	return &PreflightError{Problems: problems}
}
