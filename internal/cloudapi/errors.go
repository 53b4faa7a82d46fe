// Package cloudapi is the one place where failures of Alibaba Cloud API calls
// are classified, and where calls are retried. Public packages re-export
// Error and the sentinels as type aliases and variables, so callers match
// them with errors.Is and errors.As without importing anything internal.
package cloudapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// Failure classes. Every *Error matches exactly one of them with errors.Is.
var (
	ErrThrottled            = errors.New("throttled")                       // Rejected.Throttling (KMS, 429), Throttling, Throttling.User, Throttling.Api
	ErrUnavailable          = errors.New("service unavailable")             // 5xx and transport failures
	ErrAccessDenied         = errors.New("access denied")                   // NoPermission, Forbidden.NoPermission
	ErrNotFound             = errors.New("not found")                       // EntityNotExist.*, Forbidden.KeyNotFound, ...
	ErrAlreadyExists        = errors.New("already exists")                  // EntityAlreadyExists.*
	ErrConflict             = errors.New("conflict")                        // DeleteConflict.*
	ErrInvalidParameter     = errors.New("invalid parameter")               // InvalidParameter*, MalformedPolicyDocument, ...
	ErrQuotaExceeded        = errors.New("quota exceeded")                  // Rejected.ShareQuotaExceedLimit, LimitExceeded.*
	ErrKeyState             = errors.New("key state does not allow this")   // Rejected.Disabled, Rejected.PendingDeletion, ...
	ErrKeyPolicyUnsupported = errors.New("key does not support key policy") // Forbidden.KeyPolicyUnSupported
	ErrInstanceState        = errors.New("KMS instance state does not allow this")
	ErrAuthentication       = errors.New("authentication failed") // bad access key, signature or STS token
	ErrClockSkew            = errors.New("request time refused")  // InvalidTimeStamp.Expired: the host's clock is off
	// ErrNetwork: the key cannot be reached on this network path: Internet
	// access to a KMS instance's keys is off for the caller's account
	// (Forbidden.InternetAccessDisabled, an assumed code), or a host does
	// not resolve (a dedicated gateway from outside its bound VPCs says
	// "no such host"). Waiting does not change it.
	ErrNetwork     = errors.New("network path refused")
	ErrUnsupported = errors.New("operation not supported") // UnsupportedOperation
	ErrOther       = errors.New("request failed")          // anything else the service refused
)

// Error is a failed call to an Alibaba Cloud API, with what the service said.
type Error struct {
	Service    string // "kms", "ram" or "sts"
	Action     string // the API operation, e.g. "SetKeyPolicy"
	Code       string // the service's error code, e.g. "Rejected.ShareQuotaExceedLimit"
	HTTPStatus int    // 0 for transport failures
	RequestID  string // the service's request ID, for support tickets
	Message    string // the service's message
	Class      error  // one of the Err* failure classes
	Err        error  // the SDK's error (*tea.SDKError) or the transport error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Service)
	b.WriteByte(' ')
	b.WriteString(e.Action)
	b.WriteString(": ")
	if e.Code == "" {
		fmt.Fprintf(&b, "%v: %v", e.Class, e.Err)
		return b.String()
	}
	b.WriteString(e.Code)
	fmt.Fprintf(&b, " (HTTP %d", e.HTTPStatus)
	if e.RequestID != "" {
		b.WriteString(", request ")
		b.WriteString(e.RequestID)
	}
	b.WriteByte(')')
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Class == ErrClockSkew {
		b.WriteString(": ")
		b.WriteString(ClockSkewHint)
	}
	return b.String()
}

// ClockSkewHint is what a refused request timestamp means for the caller.
// The SDK stamps every request with the host's clock, and the API gateway
// refuses one more than 15 minutes off its own.
const ClockSkewHint = "this host's clock is more than 15 minutes off; fix the host's clock (enable NTP) and retry"

// Unwrap exposes the failure class and the underlying SDK error.
func (e *Error) Unwrap() []error { return []error{e.Class, e.Err} }

// Classify turns the error of an SDK call into an *Error carrying the code,
// HTTP status and request ID, classified into one failure class. Context
// cancellation is returned as is, and nil stays nil.
func Classify(service, action string, err error) error {
	if err == nil {
		return nil
	}
	if err == context.Canceled || err == context.DeadlineExceeded {
		return err // the caller's context, before any request was sent
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	// Redact before anything else looks at it: a timed-out request's URL
	// holds every parameter, a data key among them for Encrypt. A timeout
	// stays matchable with errors.Is(err, context.DeadlineExceeded) through
	// the wrapped *url.Error, and is classified as ErrUnavailable.
	err = redactURL(err)
	e := &Error{Service: service, Action: action, Err: err}
	var te *tea.SDKError
	var re dara.ResponseError
	switch {
	case errors.As(err, &te):
		e.Code = tea.StringValue(te.Code)
		e.HTTPStatus = tea.IntValue(te.StatusCode)
		e.RequestID, e.Message = fromData(tea.StringValue(te.Data))
	case errors.As(err, &re):
		e.Code = tea.StringValue(re.GetCode())
		e.HTTPStatus = tea.IntValue(re.GetStatusCode())
		if d, jerr := json.Marshal(re.GetData()); jerr == nil {
			e.RequestID, e.Message = fromData(string(d))
		}
	default:
		e.Class = classifyTransport(err)
		return e
	}
	e.Class = ClassOf(e.Code, e.HTTPStatus)
	return e
}

// fromData reads RequestId and Message out of the error body the SDK keeps
// in SDKError.Data; the SDK's own Message is decorated and harder to parse.
func fromData(data string) (requestID, message string) {
	var body struct {
		RequestID  string `json:"RequestId"`
		RequestID2 string `json:"requestId"`
		Message    string `json:"Message"`
		Message2   string `json:"message"`
	}
	if json.Unmarshal([]byte(data), &body) != nil {
		return "", ""
	}
	requestID, message = body.RequestID, body.Message
	if requestID == "" {
		requestID = body.RequestID2
	}
	if message == "" {
		message = body.Message2
	}
	return requestID, message
}

// redactURL drops the query string from a transport error's URL. RPC calls
// carry every parameter in the query, so the URL of a failed Encrypt holds
// the plaintext (a data key, for envelope encryption), and that of
// SetKeyPolicy the whole policy; none of it may reach an error message.
func redactURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	clean := &url.Error{Op: ue.Op, URL: ue.URL, Err: ue.Err}
	if u, perr := url.Parse(ue.URL); perr == nil {
		clean.URL = u.Scheme + "://" + u.Host + u.Path
	} else if i := strings.IndexByte(ue.URL, '?'); i >= 0 {
		clean.URL = ue.URL[:i]
	}
	return clean
}

func classifyTransport(err error) error {
	var ue *url.Error
	var ne net.Error
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		// A host that does not exist does not come back by retrying: an
		// instance's dedicated gateway outside its bound VPCs, a typo.
		return ErrNetwork
	}
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return ErrUnavailable
	}
	return ErrOther
}

// ClassOf maps a service error code (and its HTTP status, for 5xx) to a
// failure class. The codes are those Alibaba documents for KMS, RAM and STS;
// see ../shared/reference/kms.md §10 and ram-sts.md §7.
func ClassOf(code string, status int) error {
	switch code {
	case "Throttling", "Rejected.Throttling": // and every "Throttling.*" code, below
		// KMS throttles with 429 Rejected.Throttling ("QPS Limit
		// Exceeded"), RAM and STS with 400 Throttling.User.
		return ErrThrottled
	case "InvalidTimeStamp.Expired":
		return ErrClockSkew
	case "Forbidden.InternetAccessDisabled":
		return ErrNetwork
	case "NoPermission", "Forbidden.NoPermission", "Forbidden.RAM", "Inactive":
		return ErrAccessDenied
	case "Forbidden.KeyNotFound", "Forbidden.AliasNotFound", "Forbidden.ResourceNotFound",
		"Forbidden.DKMSInstanceNotFound":
		return ErrNotFound
	case "Rejected.ShareQuotaExceedLimit", "Rejected.LimitExceeded":
		return ErrQuotaExceeded
	case "Rejected.Disabled", "Rejected.PendingDeletion", "Rejected.Unavailable", "Rejected.PendingImport",
		"Rejected.ExternalKeyUnavailable":
		return ErrKeyState
	case "Forbidden.KeyPolicyUnSupported":
		return ErrKeyPolicyUnsupported
	case "Forbidden.DKMSInstanceStateInvalid":
		return ErrInstanceState
	case "MissingParameter", "MalformedPolicyDocument", "IllegalTimestamp", "InvalidTimeStamp.Format":
		return ErrInvalidParameter
	case "UnsupportedOperation":
		return ErrUnsupported
	case "SignatureDoesNotMatch", "IncompleteSignature", "InvalidSecurityToken.Expired",
		"InvalidSecurityToken.Malformed", "InvalidSecurityToken.MismatchWithAccessKey",
		"MissingSecurityToken", "InvalidCredentials", "SignatureNonceUsed":
		return ErrAuthentication
	case "InternalError", "InternalFailure", "ServiceUnavailable", "SerivceUnvailableTemporary":
		return ErrUnavailable
	}
	switch {
	case strings.HasPrefix(code, "EntityNotExist."), strings.HasPrefix(code, "EntityNotExists."): // RAM; ResourceManager
		return ErrNotFound
	case strings.HasPrefix(code, "EntityAlreadyExists."):
		return ErrAlreadyExists
	case strings.HasPrefix(code, "DeleteConflict."):
		return ErrConflict
	case strings.HasPrefix(code, "LimitExceeded."):
		return ErrQuotaExceeded
	case strings.HasPrefix(code, "InvalidAccessKeyId."):
		return ErrAuthentication
	case strings.HasPrefix(code, "InvalidParameter"):
		return ErrInvalidParameter
	case strings.HasPrefix(code, "Throttling."), status == 429:
		return ErrThrottled
	case status >= 500:
		return ErrUnavailable
	}
	return ErrOther
}

// IsRetryable reports whether a failed call may succeed if simply repeated:
// throttling, 5xx and transport failures.
func IsRetryable(err error) bool {
	return errors.Is(err, ErrThrottled) || errors.Is(err, ErrUnavailable)
}
