package fakecloud

import (
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// BenchmarkSignedRequests measures signed requests per second through the
// in-process transport: the real SDK builds and signs each request, the
// emulator verifies the ACS3 signature, authorizes and answers.
func BenchmarkSignedRequests(b *testing.B) {
	calls := []struct {
		name string
		call func(cl clients, w *world) error
	}{
		{"GetCallerIdentity", func(cl clients, _ *world) error { _, err := cl.sts.GetCallerIdentity(); return err }},
		{"DescribeKey", func(cl clients, w *world) error {
			_, err := cl.kms.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{KeyId: tea.String(w.key.ID)}, rt)
			return err
		}},
		{"GenerateDataKey", func(cl clients, w *world) error {
			_, err := cl.kms.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ID)}, rt)
			return err
		}},
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			w := newWorld(b, Options{})
			cl := newClients(b, w.c.Config(w.secAdmin.Credentials(), region))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if err := c.call(cl, w); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			w := newWorld(b, Options{})
			cl := newClients(b, w.c.Config(w.secAdmin.Credentials(), region))
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.call(cl, w); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
