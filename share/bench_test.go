package share_test

import (
	"context"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// BenchmarkShare100 shares one key with 100 member accounts while every
// API call takes 20 ms (injected latency, real time), then applies the same
// spec again. It reports the wall time of plan+apply, API calls per
// recipient, key policy writes, and the writes of the re-apply.
func BenchmarkShare100(b *testing.B) {
	const n = 100
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		lz := newLandingZone(b, lzOptions{members: n, quota: n + 10, realClock: true})
		lz.cloud.Faults().Add(fakecloud.Fault{Latency: 20 * time.Millisecond})
		c, err := share.New(lz.cloud.Config(lz.pipeline.Credentials(), "cn-hangzhou"))
		if err != nil {
			b.Fatal(err)
		}
		spec := lz.spec(lz.members...)
		ctx := context.Background()
		seq := lz.lastSeq()
		b.StartTimer()

		start := time.Now()
		res, err := c.Share(ctx, spec)
		wall := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		calls := lz.lastSeq() - seq
		seq = lz.lastSeq()
		if _, err := c.Share(ctx, spec); err != nil {
			b.Fatal(err)
		}
		rewrites := 0
		for _, w := range lz.writes(seq) {
			rewrites += w
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(calls)/n, "calls/recipient")
		b.ReportMetric(float64(res.KeyPolicy.Writes), "keypolicy-writes")
		b.ReportMetric(float64(rewrites), "reapply-writes")
		b.StartTimer()
	}
}
