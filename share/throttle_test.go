package share_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// TestKMSRejectedThrottlingConverges: KMS throttles with HTTP 429
// Rejected.Throttling (not RAM's Throttling.User). With 20% of every KMS
// call throttled so, one Apply for 100 recipients converges and loses
// nothing, and Verify passes under the same throttling.
func TestKMSRejectedThrottlingConverges(t *testing.T) {
	t.Parallel()
	const n = 100
	lz := newLandingZone(t, lzOptions{members: n, quota: n + 5})
	lz.cloud.Faults().Add(fakecloud.Fault{Service: "kms", Throttle: 0.20})
	c := lz.client(t, func(o *share.Options) {
		o.Retry.MaxAttempts = 20
		o.Concurrency = 8
	})
	ctx := context.Background()
	spec := lz.spec(lz.members...)
	res, err := c.Share(ctx, spec)
	if err != nil {
		t.Fatalf("Apply under KMS throttling: %v\n%s", err, res)
	}
	throttled := lz.cloud.Log().Count(fakecloud.Match{Service: "kms", Code: "Rejected.Throttling", Status: 429})
	if throttled == 0 {
		t.Fatal("no Rejected.Throttling was injected")
	}
	final := lz.key.PolicyDocument()
	for _, r := range spec.Recipients {
		if c := strings.Count(final, `"`+r.PrincipalARN().Canonical().String()+`"`); c != 1 {
			t.Errorf("%s appears %d times in the key policy", r.PrincipalARN(), c)
		}
	}
	rep, err := c.Verify(ctx, spec)
	if err != nil || !rep.OK() {
		t.Fatalf("Verify under KMS throttling: %v\n%s", err, rep)
	}
	t.Logf("%d KMS calls answered 429 Rejected.Throttling", throttled)
}
