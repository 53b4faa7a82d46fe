package share_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/kmsshare/kmsshare/share"
)

// TestVerifyErrorKinds: a *VerifyError matches the outcome of each failing
// recipient, never a succeeding one's, and ErrDenied exactly when some
// failure is one that waiting will not change.
func TestVerifyErrorKinds(t *testing.T) {
	t.Parallel()
	all := []share.Outcome{share.OutcomeOK, share.OutcomeVerifiedStatically, share.OutcomeRevoked, share.OutcomeNotYetPropagated,
		share.OutcomeDeniedByKeyPolicy, share.OutcomeDeniedByRecipientPolicy, share.OutcomeStillGranted, share.OutcomeKeyDisabled,
		share.OutcomeKeyNotInInstance, share.OutcomeQuotaExceeded, share.OutcomeRecipientRoleMissing, share.OutcomeError,
		share.OutcomeNetworkRefused}
	success := map[share.Outcome]bool{share.OutcomeOK: true, share.OutcomeVerifiedStatically: true, share.OutcomeRevoked: true}
	for _, o := range all {
		rep := &share.VerifyReport{Results: []share.VerifyResult{{Principal: "p1", Outcome: share.OutcomeOK}, {Principal: "p2", Outcome: o}}}
		err := rep.Err()
		if success[o] {
			if err != nil {
				t.Errorf("%s: Err() = %v, want nil", o, err)
			}
			continue
		}
		var ve *share.VerifyError
		if !errors.As(fmt.Errorf("wrapped: %w", err), &ve) || !errors.Is(fmt.Errorf("wrapped: %w", err), o) {
			t.Errorf("%s: Err() = %v, want a *VerifyError matching %s", o, err, o)
		}
		if errors.Is(err, share.OutcomeOK) {
			t.Errorf("%s: Err() matches the succeeding recipient's outcome", o)
		}
		for _, other := range all {
			if other != o && errors.Is(err, other) {
				t.Errorf("%s: Err() also matches %s", o, other)
			}
		}
		wantDenied := o != share.OutcomeNotYetPropagated && o != share.OutcomeError
		if got := errors.Is(err, share.ErrDenied); got != wantDenied {
			t.Errorf("%s: errors.Is(err, ErrDenied) = %v, want %v", o, got, wantDenied)
		}
		if got := errors.Is(err, share.ErrQuotaExceeded); got != (o == share.OutcomeQuotaExceeded) {
			t.Errorf("%s: errors.Is(err, ErrQuotaExceeded) = %v", o, got)
		}
	}
}

// TestOutcomePrintsItsCode: an Outcome is an error, but it prints, logs
// and marshals as the code it always was.
func TestOutcomePrintsItsCode(t *testing.T) {
	t.Parallel()
	o := share.OutcomeDeniedByKeyPolicy
	if s := fmt.Sprintf("%v %s", o, o); s != "denied-by-key-policy denied-by-key-policy" {
		t.Errorf("printed %q", s)
	}
	b, err := json.Marshal(share.VerifyResult{Outcome: o})
	if err != nil || string(b) != `{"principal":"","account":"","outcome":"denied-by-key-policy","attempts":0,"elapsed":0}` {
		t.Errorf("JSON %s, %v", b, err)
	}
	p := share.Problem{Code: share.ProblemQuota, Message: "full"}
	if s := fmt.Sprint(p.Code) + " / " + p.String(); s != "quota-exceeded / quota-exceeded: full" {
		t.Errorf("printed %q", s)
	}
}

// TestPreflightErrorKinds: a *PreflightError matches ErrPreflight, each
// problem's code, and the class a code stands for.
func TestPreflightErrorKinds(t *testing.T) {
	t.Parallel()
	err := error(&share.PreflightError{Problems: []share.Problem{
		{Code: share.ProblemKeyNotEnabled}, {Code: share.ProblemRoleMissing}}})
	for _, target := range []error{share.ErrPreflight, share.ProblemKeyNotEnabled, share.ProblemRoleMissing, share.ErrKeyState, share.ErrNotFound} {
		if !errors.Is(err, target) {
			t.Errorf("does not match %v", target)
		}
	}
	for _, target := range []error{share.ProblemQuota, share.ErrQuotaExceeded, share.ProblemUserMissing, share.ErrDenied, share.OutcomeKeyDisabled} {
		if errors.Is(err, target) {
			t.Errorf("matches %v", target)
		}
	}
}
