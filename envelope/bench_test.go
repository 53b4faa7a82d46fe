package envelope

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
)

const benchSize = 64 << 20

// rawGCM is the baseline: AES-256-GCM Seal and Open over the same bytes in
// the same segment size, with a nonce counter and no framing, buffering or
// key management. Go's GCM runs at different speeds out of place (src to a
// separate dst) and in place, and which is faster differs between Seal and
// Open, so each is measured both ways and the faster one is the baseline.
type rawGCM struct {
	aead  cipher.AEAD
	nonce [12]byte
	seg   int
	dst   []byte
}

func newRawGCM(seg int) *rawGCM {
	block, _ := aes.NewCipher(bytes.Repeat([]byte{1}, 32))
	aead, _ := cipher.NewGCM(block)
	return &rawGCM{aead: aead, seg: seg, dst: make([]byte, seg+16)}
}

func (g *rawGCM) setNonce(i int) { binary.BigEndian.PutUint32(g.nonce[7:], uint32(i)) }

// seal seals each segment of src into a separate buffer.
func (g *rawGCM) seal(src []byte) {
	for i, off := 0, 0; off < len(src); i, off = i+1, off+g.seg {
		g.setNonce(i)
		g.aead.Seal(g.dst[:0], g.nonce[:], src[off:min(off+g.seg, len(src))], nil)
	}
}

// sealInPlace copies each segment into a buffer and seals it there.
func (g *rawGCM) sealInPlace(src []byte) {
	for i, off := 0, 0; off < len(src); i, off = i+1, off+g.seg {
		g.setNonce(i)
		n := copy(g.dst, src[off:min(off+g.seg, len(src))])
		g.aead.Seal(g.dst[:0], g.nonce[:], g.dst[:n], nil)
	}
}

// sealAll returns the segments sealed back to back, for open.
func (g *rawGCM) sealAll(src []byte) []byte {
	out := make([]byte, 0, len(src)+(len(src)/g.seg+1)*16)
	for i, off := 0, 0; off < len(src); i, off = i+1, off+g.seg {
		g.setNonce(i)
		out = g.aead.Seal(out, g.nonce[:], src[off:min(off+g.seg, len(src))], nil)
	}
	return out
}

// open opens each segment of ct into a separate buffer.
func (g *rawGCM) open(ct []byte) {
	stride := g.seg + 16
	for i, off := 0, 0; off < len(ct); i, off = i+1, off+stride {
		g.setNonce(i)
		if _, err := g.aead.Open(g.dst[:0], g.nonce[:], ct[off:min(off+stride, len(ct))], nil); err != nil {
			panic(err)
		}
	}
}

// openInPlace copies each segment into a buffer and opens it there.
func (g *rawGCM) openInPlace(ct []byte) {
	stride := g.seg + 16
	for i, off := 0, 0; off < len(ct); i, off = i+1, off+stride {
		g.setNonce(i)
		n := copy(g.dst, ct[off:min(off+stride, len(ct))])
		if _, err := g.aead.Open(g.dst[:0], g.nonce[:], g.dst[:n], nil); err != nil {
			panic(err)
		}
	}
}

// parRaw runs raw GCM over segments [0, segs) split evenly among lanes
// goroutines, each with its own AEAD and buffer: what the machine can do
// with that many cores and no envelope at all.
func parRaw(lanes []*rawGCM, segs int, f func(g *rawGCM, from, to int)) {
	var wg sync.WaitGroup
	per := (segs + len(lanes) - 1) / len(lanes)
	for l, g := range lanes {
		from, to := l*per, min((l+1)*per, segs)
		if from >= to {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(g, from, to)
		}()
	}
	wg.Wait()
}

// sealSegs seals segments [from, to) of src, each into the lane's buffer.
func (g *rawGCM) sealSegs(src []byte, from, to int) {
	for i := from; i < to; i++ {
		off := i * g.seg
		g.setNonce(i)
		g.aead.Seal(g.dst[:0], g.nonce[:], src[off:min(off+g.seg, len(src))], nil)
	}
}

// openSegs opens segments [from, to) of ct, each into the lane's buffer.
func (g *rawGCM) openSegs(ct []byte, from, to int) {
	stride := g.seg + 16
	for i := from; i < to; i++ {
		off := i * stride
		g.setNonce(i)
		if _, err := g.aead.Open(g.dst[:0], g.nonce[:], ct[off:min(off+stride, len(ct))], nil); err != nil {
			panic(err)
		}
	}
}

// BenchmarkStream encrypts and decrypts 64 MiB through Writer and Reader
// and, in the same loop, with raw AES-256-GCM. It reports the envelope's
// throughput as a multiple of raw GCM's ("x-raw-gcm"). The timer counts only
// the envelope; raw runs are timed separately and interleaved with it so
// that both see the same machine load.
func BenchmarkStream(b *testing.B) {
	data := pattern(benchSize)
	procs := runtime.GOMAXPROCS(0)
	for _, seg := range []int{DefaultSegmentSize, 1 << 20} {
		f := newFixture(b)
		f.enc.SegmentSize = seg
		msg := mustEncrypt(b, f.enc, data, nil)
		raw := newRawGCM(seg)
		// GCM is a little slower on misaligned data (FORMAT.md §4). The
		// message body starts 64-byte aligned: the header is padded to a
		// multiple of 64 bytes and a buffer this large is page-aligned. So
		// is the baseline's ciphertext, so both run at the same alignment.
		sealed := raw.sealAll(data)
		_, hdrLen, err := format.ParseBytes(msg, 0)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range []uintptr{uintptr(unsafe.Pointer(&msg[hdrLen])), uintptr(unsafe.Pointer(&sealed[0]))} {
			if p%64 != 0 {
				b.Fatalf("ciphertext at %#x is not 64-byte aligned", p)
			}
		}
		for _, conc := range []int{1, procs} {
			mode := "seq"
			if conc > 1 {
				mode = fmt.Sprintf("par%d", conc)
			}
			enc := &Encryptor{Keys: f.enc.Keys, SegmentSize: seg, Concurrency: conc}
			dec := &Decryptor{Keys: f.dec.Keys, Concurrency: conc}
			// With concurrency, also raw GCM on as many goroutines
			// ("x-raw-gcm-parN"): how close the envelope comes to what this
			// machine's cores can do, whatever the load on them.
			lanes := make([]*rawGCM, conc)
			for i := range lanes {
				lanes[i] = newRawGCM(seg)
			}
			segs := (len(data) + seg - 1) / seg
			encGroups := [][]func(){{func() { raw.seal(data) }, func() { raw.sealInPlace(data) }}}
			encNames := []string{"x-raw-gcm"}
			decGroups := [][]func(){{func() { raw.open(sealed) }, func() { raw.openInPlace(sealed) }}}
			decNames := []string{"x-raw-gcm"}
			if conc > 1 {
				parName := fmt.Sprintf("x-raw-gcm-par%d", conc)
				encGroups = append(encGroups, []func(){func() {
					parRaw(lanes, segs, func(g *rawGCM, from, to int) { g.sealSegs(data, from, to) })
				}})
				encNames = append(encNames, parName)
				decGroups = append(decGroups, []func(){func() {
					parRaw(lanes, segs, func(g *rawGCM, from, to int) { g.openSegs(sealed, from, to) })
				}})
				decNames = append(decNames, parName)
			}

			b.Run(fmt.Sprintf("encrypt/seg=%dKiB/%s", seg>>10, mode), func(b *testing.B) {
				b.SetBytes(benchSize)
				ratio(b, encNames, encGroups, func() {
					w, err := enc.NewWriter(context.Background(), io.Discard, nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
						b.Fatal(err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				})
			})
			b.Run(fmt.Sprintf("decrypt/seg=%dKiB/%s", seg>>10, mode), func(b *testing.B) {
				b.SetBytes(benchSize)
				ratio(b, decNames, decGroups, func() {
					r, err := dec.NewReader(context.Background(), bytes.NewReader(msg), nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, r); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
		// One-shot, for reference: it opens straight from the message into
		// a fresh 64 MiB result, so it pays for that allocation.
		b.Run(fmt.Sprintf("decrypt-oneshot/seg=%dKiB/seq", seg>>10), func(b *testing.B) {
			b.SetBytes(benchSize)
			ratio(b, []string{"x-raw-gcm"}, [][]func(){
				{func() { raw.open(sealed) }, func() { raw.openInPlace(sealed) }},
			}, func() {
				if _, err := f.dec.Decrypt(context.Background(), msg, nil); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// ratio runs env under the benchmark timer and the raw strategies outside
// it, alternately, so that all see the same machine load. For each group of
// raw strategies it reports the fastest one's time divided by env's time:
// the envelope's throughput relative to the best raw AES-GCM strategy of
// the group, reported under the group's name.
func ratio(b *testing.B, names []string, groups [][]func(), env func()) {
	times := make([][]time.Duration, len(groups))
	for i, g := range groups {
		times[i] = make([]time.Duration, len(g))
	}
	var envTime time.Duration
	runtime.GC() // so that no collection of the setup's garbage competes for the cores
	for b.Loop() {
		b.StopTimer()
		for i, g := range groups {
			for j, raw := range g {
				t0 := time.Now()
				raw()
				times[i][j] += time.Since(t0)
			}
		}
		b.StartTimer()
		t1 := time.Now()
		env()
		envTime += time.Since(t1)
	}
	if envTime == 0 {
		return
	}
	for i, unit := range names {
		b.ReportMetric(float64(slices.Min(times[i]))/float64(envTime), unit)
	}
}

// BenchmarkPeakMemory streams 1 GiB through a Writer and through a Reader
// and reports the bytes each direction allocates, which bounds its peak
// memory. It fails if either exceeds two segments plus 1 MiB.
func BenchmarkPeakMemory(b *testing.B) {
	for _, seg := range []int{DefaultSegmentSize, 1 << 20} {
		b.Run(fmt.Sprintf("seg=%dKiB", seg>>10), func(b *testing.B) {
			const size = 1 << 30
			limit := uint64(2*seg + 1<<20)
			b.SetBytes(size)
			var encMax, decMax uint64
			for b.Loop() {
				e, d := streamAllocs(b, seg, size)
				encMax, decMax = max(encMax, e), max(decMax, d)
			}
			b.ReportMetric(float64(encMax), "enc-alloc-B")
			b.ReportMetric(float64(decMax), "dec-alloc-B")
			b.ReportMetric(float64(limit), "limit-B")
			if encMax > limit || decMax > limit {
				b.Fatalf("allocated %d (encrypt) and %d (decrypt) bytes, limit %d", encMax, decMax, limit)
			}
		})
	}
}
