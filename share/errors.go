package share

import (
	"errors"

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
