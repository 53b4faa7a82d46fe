package share_test

import (
	"context"
	"slices"
	"testing"

	"github.com/kmsshare/kmsshare/share"
)

// TestProbeCalls: the calls made as a recipient, for Verify (the granted
// actions that have one, a decrypt-only recipient decrypting a data key
// the owner makes) and for VerifyRevoked (every call, going on after each
// refusal; with the key disabled the owner cannot make a data key either,
// so there is nothing to decrypt and the probe ends there).
func TestProbeCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lz := newLandingZone(t, lzOptions{members: 1})
	c := lz.client(t)
	spec := lz.spec(lz.members...)
	spec.Recipients[0].Actions = []string{"kms:Decrypt"}
	if _, err := c.Share(ctx, spec); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Verify(ctx, spec)
	if err != nil || !rep.OK() {
		t.Fatalf("Verify: %v\n%s", err, rep)
	}
	if got := rep.Results[0]; got.Outcome != share.OutcomeOK || !slices.Equal(got.Checked, []string{"Decrypt"}) {
		t.Errorf("decrypt-only: %s, checked %v", got.Outcome, got.Checked)
	}

	if _, err := c.Revoke(ctx, spec, share.RevokeOptions{}); err != nil {
		t.Fatal(err)
	}
	all := []string{"DescribeKey", "GenerateDataKey", "Decrypt", "Encrypt"}
	rep, err = c.VerifyRevoked(ctx, spec)
	if err != nil || !rep.OK() {
		t.Fatalf("VerifyRevoked: %v\n%s", err, rep)
	}
	if got := rep.Results[0]; got.Outcome != share.OutcomeRevoked || !slices.Equal(got.Checked, all) {
		t.Errorf("revoked: %s, checked %v, want every call", got.Outcome, got.Checked)
	}

	disableKey(t, securitySDK(t, lz), lz.key.ARN)
	rep, err = c.VerifyRevoked(ctx, spec)
	if err != nil || !rep.OK() {
		t.Fatalf("VerifyRevoked of a disabled key: %v\n%s", err, rep)
	}
	if got := rep.Results[0]; got.Outcome != share.OutcomeRevoked || !slices.Equal(got.Checked, all[:2]) {
		t.Errorf("revoked, key disabled: %s (%s), checked %v, want %v", got.Outcome, got.Error, got.Checked, all[:2])
	}
}
