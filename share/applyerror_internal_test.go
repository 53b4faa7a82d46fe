package share

import (
	"errors"
	"fmt"
	"testing"
)

// TestOneApplyError: the three apply calls report a partial failure with
// one type, *ApplyError, holding the result of the call that failed; it
// matches ErrIncomplete and the failures, and its text says what failed.
func TestOneApplyError(t *testing.T) {
	t.Parallel()
	stepErr := fmt.Errorf("attach policy p: %w", ErrInvalidParameter)
	share := &Result{Operation: OpShare, Key: "acs:kms:cn-hangzhou:1192853035118460:key/key-a",
		Recipients: []RecipientResult{{Principal: "acs:ram::2222222222222222:role/app", Error: stepErr.Error(), err: stepErr}}}
	org := &OrgResult{Keys: []OrgKeyResult{{Key: "acs:kms:cn-hangzhou:1192853035118460:key/key-a",
		KeyPolicy: KeyPolicyResult{Status: StatusFailed, Error: "lost", err: ErrLostUpdate}}},
		Principals: []RecipientResult{{Principal: "acs:ram::2222222222222222:role/app", err: fmt.Errorf("recipient x: %w", stepErr)}}}
	role := &RoleResult{Account: "1192853035118460", Role: "AliyunECSShareEncryptImageDefaultRole"}
	for _, tc := range []struct {
		err  error
		want string
		kind error
	}{
		{share.Err(), "share: share of acs:kms:cn-hangzhou:1192853035118460:key/key-a incomplete: acs:ram::2222222222222222:role/app: attach policy p: ", ErrInvalidParameter},
		{org.Err(), "share: manifest incomplete: key acs:kms:cn-hangzhou:1192853035118460:key/key-a: ", ErrLostUpdate},
		{&ApplyError{RoleResult: role, errs: []error{stepErr}}, "share: role AliyunECSShareEncryptImageDefaultRole in account 1192853035118460 incomplete: attach policy p: ", ErrInvalidParameter},
	} {
		var ae *ApplyError
		if !errors.As(tc.err, &ae) || !errors.Is(tc.err, ErrIncomplete) || !errors.Is(tc.err, tc.kind) {
			t.Errorf("%v: not an *ApplyError matching ErrIncomplete and %v", tc.err, tc.kind)
			continue
		}
		if got := tc.err.Error(); len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
			t.Errorf("text %q, want it to start %q", got, tc.want)
		}
		n := 0
		for _, r := range []bool{ae.Result != nil, ae.OrgResult != nil, ae.RoleResult != nil} {
			if r {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%v: %d results set, want 1", tc.err, n)
		}
	}
	if (&Result{}).Err() != nil || (&OrgResult{}).Err() != nil {
		t.Error("a complete result has an error")
	}
}
