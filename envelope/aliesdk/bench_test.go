package aliesdk

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/envelope"
)

var benchSizes = []int{1 << 10, 1 << 20, 64 << 20}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// benchRun times op (the package) and raw (AES-256-GCM on the same bytes,
// one call, fresh output buffer, as the format has one GCM call per body)
// interleaved in one loop, so both see the same machine load. The timer
// and ns/op count op only; it reports op's throughput as a multiple of
// raw's, best run against best run ("x-raw-gcm", at least 0.9 is the goal from 1 MiB up) and the bytes
// op allocates for one message ("peak-B/msg"): the calls are one-shot, so
// all of it is live at once and it is the message's peak heap.
func benchRun(b *testing.B, size int, op, raw func(), prep func()) {
	if prep == nil {
		prep = func() {}
	}
	prep()
	op()
	raw() // warm up both
	prep()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	op()
	runtime.ReadMemStats(&ms1)
	alloc := ms1.TotalAlloc - ms0.TotalAlloc
	var opDur time.Duration
	rawMin, opMin := time.Duration(1<<62), time.Duration(1<<62)
	b.ResetTimer()
	for i := range b.N {
		prep() // untimed: a fresh input for a destructive op
		if size >= 1<<20 {
			runtime.GC() // each pair starts from a clean heap
		}
		// Alternate which goes first, so neither always inherits the
		// other's garbage or cache state.
		t0 := time.Now()
		if i%2 == 0 {
			raw()
		} else {
			op()
		}
		t1 := time.Now()
		if i%2 == 0 {
			op()
		} else {
			raw()
		}
		t2 := time.Now()
		r, o := t1.Sub(t0), t2.Sub(t1)
		if i%2 == 1 {
			r, o = o, r
		}
		opDur += o
		rawMin, opMin = min(rawMin, r), min(opMin, o)
	}
	b.StopTimer()
	// The loop ran both; ns/op and MB/s are op's alone. The ratio compares
	// the best runs of each: on a shared machine the minimum is the figure
	// least disturbed by other load.
	b.ReportMetric(float64(opDur.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(size)*float64(b.N)/opDur.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(rawMin)/float64(opMin), "x-raw-gcm")
	b.ReportMetric(float64(alloc), "peak-B/msg")
}

func benchSetup(b *testing.B) (*Encryptor, *Decryptor, cipher.AEAD) {
	svc := &fakeKMS{id: "bench", dataKey: bytes.Repeat([]byte{5}, 32)}
	keys := []envelope.MasterKey{{ARN: arnA, Service: svc}}
	block, _ := aes.NewCipher(svc.dataKey)
	g, _ := cipher.NewGCM(block)
	return &Encryptor{Keys: keys}, &Decryptor{Keys: keys, MaxSize: 64 << 20}, g
}

// BenchmarkEncrypt: Encrypt (container A) against raw AES-256-GCM Seal.
// The KMS is a local fake: one GenerateDataKey per message costs an AES key
// schedule and a GCM call, which shows at 1 KiB only.
func BenchmarkEncrypt(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			e, _, g := benchSetup(b)
			data := bytes.Repeat([]byte{0xa5}, n)
			nonce := make([]byte, 12)
			aad := []byte("context")
			benchRun(b, n, func() {
				if _, err := e.Encrypt(ctx, data, map[string]string{"k": "v"}); err != nil {
					b.Fatal(err)
				}
			}, func() { g.Seal(nil, nonce, data, aad) }, nil)
		})
	}
}

// BenchmarkDecrypt: Decrypt, DecryptInPlace (container A) and DecryptStream
// (container B, from a bytes.Reader) against raw AES-256-GCM Open. Decrypt
// copies the body once (DER separates ciphertext and tag, GCM wants them
// together; the caller's message is not touched); DecryptStream reads it
// from the io.Reader, one copy too; DecryptInPlace copies nothing.
func BenchmarkDecrypt(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		e, d, g := benchSetup(b)
		data := bytes.Repeat([]byte{0xa5}, n)
		nonce := make([]byte, 12)
		aad := []byte("context")
		sealed := g.Seal(nil, nonce, data, aad)
		raw := func() {
			if _, err := g.Open(nil, nonce, sealed, aad); err != nil {
				b.Fatal(err)
			}
		}
		msg, err := e.Encrypt(ctx, data, map[string]string{"k": "v"})
		if err != nil {
			b.Fatal(err)
		}
		stream, err := e.EncryptStream(ctx, data, map[string]string{"k": "v"})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("asn1/"+sizeName(n), func(b *testing.B) {
			benchRun(b, n, func() {
				if _, err := d.Decrypt(ctx, msg, map[string]string{"k": "v"}); err != nil {
					b.Fatal(err)
				}
			}, raw, nil)
		})
		work := make([]byte, len(msg))
		b.Run("asn1-inplace/"+sizeName(n), func(b *testing.B) {
			benchRun(b, n, func() {
				if _, err := d.DecryptInPlace(ctx, work, map[string]string{"k": "v"}); err != nil {
					b.Fatal(err)
				}
			}, raw, func() { copy(work, msg) })
		})
		b.Run("stream/"+sizeName(n), func(b *testing.B) {
			benchRun(b, n, func() {
				if _, err := d.DecryptStream(ctx, bytes.NewReader(stream), map[string]string{"k": "v"}); err != nil {
					b.Fatal(err)
				}
			}, raw, nil)
		})
	}
}
