package share_test

import (
	"context"
	"testing"

	"github.com/kmsshare/kmsshare/share"
)

// TestConfigWithoutHTTPClient: a configuration as a real-cloud user writes
// it (no HttpClient: the SDK would use its process-wide client, whose
// Timeout it rewrites on every request while other requests read it) works
// over the network with concurrent calls, and under -race shows no data
// race: share gives such configurations an HTTP client of its own.
func TestConfigWithoutHTTPClient(t *testing.T) {
	t.Parallel()
	const n = 6
	lz := newLandingZone(t, lzOptions{members: n, realClock: true, propagation: -1, visibility: -1})
	srv := lz.cloud.Serve()
	t.Cleanup(srv.Close)
	cfg := srv.Config(lz.pipeline.Credentials(), "cn-hangzhou")
	cfg.HttpClient = nil // as in a real-cloud configuration
	c, err := share.New(cfg, func(o *share.Options) { o.Concurrency = n })
	if err != nil {
		t.Fatal(err)
	}
	spec := &share.Spec{Key: lz.key.ARN}
	for _, m := range lz.members {
		spec.Recipients = append(spec.Recipients, share.Recipient{Account: m.ID})
	}
	ctx := context.Background()
	res, err := c.Share(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Verify(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify:\n%s", rep)
	}
	if cfg.HttpClient != nil {
		t.Error("share.New changed the caller's configuration")
	}
}
