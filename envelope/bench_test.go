package envelope

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
)

// The benchmarks compare envelope with raw AES-256-GCM doing the same work
// on the same kind of source, in one run, as ratios (raw time / envelope
// time: 1.00 means as fast as raw GCM, higher is faster):
//
//   - "mem": the plaintext or message is in memory (a *bytes.Reader). Raw
//     GCM seals or opens each segment straight from it into one reused
//     buffer; envelope may do the same.
//   - "reader": a plain io.Reader (no WriterTo, no ReaderAt). Raw GCM reads
//     each segment into one buffer and seals or opens it there; so must
//     envelope.
//   - "readerat": the message is read at offsets (Decryptor.NewReaderAt over
//     an io.ReaderAt of the message in memory, hiding every other method).
//     Raw GCM reads each segment with ReadAt into one buffer and opens it
//     there.
//   - "par2" (the number is GOMAXPROCS): envelope with Concurrency 2 against
//     raw GCM on as many goroutines, each with its own buffer, over a
//     message in memory: the limit of this machine's cores, whatever the
//     load on them.
//   - "oneshot": Encrypt or Decrypt of one small message with an in-process
//     key service, against raw GCM sealing or opening the same bytes into a
//     new buffer (Seal(nil, ...), as the one-shot API returns new memory).
//
// BenchmarkTable runs every comparison in rounds and prints one table of
// medians; BenchmarkRows is the same comparisons as ordinary benchmarks.

const streamSize = 32 << 20

var (
	tableRounds = flag.Int("rounds", 7, "rounds of BenchmarkTable; the table shows medians")
	tableRows   = flag.String("rows", "", "regular expression: BenchmarkTable runs only the comparisons whose names match")
)

// rawGCM is the baseline: AES-256-GCM with a nonce counter and no framing,
// buffering or key management.
type rawGCM struct {
	aead  cipher.AEAD
	nonce [12]byte
	seg   int
	buf   []byte // one segment, reused
}

func newRawGCM(seg int) *rawGCM {
	block, _ := aes.NewCipher(bytes.Repeat([]byte{1}, 32))
	aead, _ := cipher.NewGCM(block)
	return &rawGCM{aead: aead, seg: seg, buf: make([]byte, seg+16)}
}

func (g *rawGCM) setNonce(i int) { binary.BigEndian.PutUint32(g.nonce[7:], uint32(i)) }

// sealMem seals segments [from, to) of src, each from src into the buffer.
func (g *rawGCM) sealMem(src []byte, from, to int) {
	for i := from; i < to; i++ {
		off := i * g.seg
		g.setNonce(i)
		g.aead.Seal(g.buf[:0], g.nonce[:], src[off:min(off+g.seg, len(src))], nil)
	}
}

// openMem opens segments [from, to) of ct, each from ct into the buffer.
func (g *rawGCM) openMem(ct []byte, from, to int) {
	stride := g.seg + 16
	for i := from; i < to; i++ {
		off := i * stride
		g.setNonce(i)
		if _, err := g.aead.Open(g.buf[:0], g.nonce[:], ct[off:min(off+stride, len(ct))], nil); err != nil {
			panic(err)
		}
	}
}

// sealReader reads each segment from r into the buffer and seals it there.
func (g *rawGCM) sealReader(r io.Reader) {
	for i := 0; ; i++ {
		n, err := io.ReadFull(r, g.buf[:g.seg])
		if n > 0 {
			g.setNonce(i)
			g.aead.Seal(g.buf[:0], g.nonce[:], g.buf[:n], nil)
		}
		if err != nil {
			return
		}
	}
}

// openReader reads each sealed segment from r into the buffer and opens it
// there.
func (g *rawGCM) openReader(r io.Reader) {
	for i := 0; ; i++ {
		n, err := io.ReadFull(r, g.buf)
		if n > 0 {
			g.setNonce(i)
			if _, err := g.aead.Open(g.buf[:0], g.nonce[:], g.buf[:n], nil); err != nil {
				panic(err)
			}
		}
		if err != nil {
			return
		}
	}
}

// openAt reads each sealed segment of the size bytes at r with ReadAt into
// the buffer and opens it there.
func (g *rawGCM) openAt(r io.ReaderAt, size int64) {
	for i, off := 0, int64(0); off < size; i, off = i+1, off+int64(len(g.buf)) {
		n, err := r.ReadAt(g.buf[:min(int64(len(g.buf)), size-off)], off)
		if err != nil && err != io.EOF {
			panic(err)
		}
		g.setNonce(i)
		if _, err := g.aead.Open(g.buf[:0], g.nonce[:], g.buf[:n], nil); err != nil {
			panic(err)
		}
	}
}

// sealAll returns the segments of src sealed back to back, for openMem.
func (g *rawGCM) sealAll(src []byte) []byte {
	out := make([]byte, 0, len(src)+(len(src)/g.seg+1)*16)
	for i, off := 0, 0; off < len(src); i, off = i+1, off+g.seg {
		g.setNonce(i)
		out = g.aead.Seal(out, g.nonce[:], src[off:min(off+g.seg, len(src))], nil)
	}
	return out
}

// parRaw runs f over segments [0, segs) split evenly among the lanes, one
// goroutine each.
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

// plainReader hides every interface of its reader but io.Reader.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// benchRow is one comparison: the envelope operation, raw GCM doing the
// same work on the same source, and the goal for their ratio.
type benchRow struct {
	name     string
	bytes    int64 // plaintext bytes per operation
	env, raw func()
	parallel bool    // uses several cores: timed by the wall clock, not CPU time
	goal     float64 // minimum raw/env ratio; 0: none
	minOps   float64 // minimum envelope operations per second; 0: none
	maxAlloc float64 // maximum allocations per envelope operation; 0: none
	noGoal   bool    // a row for information (its "met" column says so), not against a goal of the issue
}

func benchRows(tb testing.TB) []benchRow {
	ctx := context.Background()
	data := pattern(streamSize)
	procs := runtime.GOMAXPROCS(0)
	var rows []benchRow
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	for _, seg := range []int{DefaultSegmentSize, 1 << 20} {
		f := newFixture(tb)
		f.svc.KeepLog(false)
		f.enc.SegmentSize = seg
		msg := mustEncrypt(tb, f.enc, data, nil)
		raw := newRawGCM(seg)
		sealed := raw.sealAll(data)
		segs := (len(data) + seg - 1) / seg
		encrypt := func(enc *Encryptor, src io.Reader) func() {
			return func() {
				w, err := enc.NewWriter(ctx, io.Discard, nil)
				must(err)
				_, err = io.Copy(w, src)
				must(err)
				must(w.Close())
			}
		}
		decrypt := func(dec *Decryptor, src io.Reader) func() {
			return func() {
				r, err := dec.NewReader(ctx, src, nil)
				must(err)
				_, err = io.Copy(io.Discard, r)
				must(err)
			}
		}
		// Each operation gets a fresh source; a source is made by the
		// closures below, before the timer of either side starts counting
		// its work, so both sides pay the same for it.
		fresh := func(b []byte, plain bool, op func(io.Reader) func()) func() {
			return func() {
				var src io.Reader = bytes.NewReader(b)
				if plain {
					src = plainReader{src}
				}
				op(src)()
			}
		}
		k := seg >> 10
		for _, plain := range []bool{false, true} {
			kind := "mem"
			rawEnc := func() { raw.sealMem(data, 0, segs) }
			rawDec := func() { raw.openMem(sealed, 0, segs) }
			if plain {
				kind = "reader"
				rawEnc = func() { raw.sealReader(plainReader{bytes.NewReader(data)}) }
				rawDec = func() { raw.openReader(plainReader{bytes.NewReader(sealed)}) }
			}
			rows = append(rows,
				benchRow{name: fmt.Sprintf("stream encrypt %dKiB %s", k, kind), bytes: streamSize, goal: 0.95,
					env: fresh(data, plain, func(r io.Reader) func() { return encrypt(f.enc, r) }), raw: rawEnc},
				benchRow{name: fmt.Sprintf("stream decrypt %dKiB %s", k, kind), bytes: streamSize, goal: 0.95,
					env: fresh(msg, plain, func(r io.Reader) func() { return decrypt(f.dec, r) }), raw: rawDec})
		}
		// A message read at offsets: raw GCM reads each sealed segment with
		// ReadAt into its buffer and opens it there.
		rows = append(rows, benchRow{name: fmt.Sprintf("stream decrypt %dKiB readerat", k), bytes: streamSize, goal: 0.95,
			env: func() {
				r, err := f.dec.NewReaderAt(ctx, onlyReaderAt{bytes.NewReader(msg)}, int64(len(msg)), nil)
				must(err)
				_, err = io.Copy(io.Discard, r)
				must(err)
			},
			raw: func() { raw.openAt(onlyReaderAt{bytes.NewReader(sealed)}, int64(len(sealed))) }})
		if procs > 1 {
			lanes := make([]*rawGCM, procs)
			for i := range lanes {
				lanes[i] = newRawGCM(seg)
			}
			enc := &Encryptor{Keys: f.enc.Keys, SegmentSize: seg, Concurrency: procs}
			dec := &Decryptor{Keys: f.dec.Keys, Concurrency: procs}
			rows = append(rows,
				benchRow{name: fmt.Sprintf("stream encrypt %dKiB par%d", k, procs), bytes: streamSize, goal: 0.9, parallel: true,
					env: fresh(data, false, func(r io.Reader) func() { return encrypt(enc, r) }),
					raw: func() { parRaw(lanes, segs, func(g *rawGCM, from, to int) { g.sealMem(data, from, to) }) }},
				benchRow{name: fmt.Sprintf("stream decrypt %dKiB par%d", k, procs), bytes: streamSize, goal: 0.9, parallel: true,
					env: fresh(msg, false, func(r io.Reader) func() { return decrypt(dec, r) }),
					raw: func() { parRaw(lanes, segs, func(g *rawGCM, from, to int) { g.openMem(sealed, from, to) }) }})
		}
	}
	for _, size := range []int{1 << 10, 16 << 10} {
		f := newFixture(tb)
		f.svc.KeepLog(false)
		pt := pattern(size)
		msg := mustEncrypt(tb, f.enc, pt, nil)
		raw := newRawGCM(size)
		sealed := raw.sealAll(pt)
		var minOps float64
		goal := 0.5
		if size == 1<<10 {
			minOps, goal = 400e3, 0
		}
		rows = append(rows,
			benchRow{name: fmt.Sprintf("oneshot encrypt %dKiB", size>>10), bytes: int64(size), goal: goal, minOps: minOps, maxAlloc: 10,
				env: func() {
					_, err := f.enc.Encrypt(ctx, pt, nil)
					must(err)
				},
				raw: func() { raw.aead.Seal(nil, raw.nonce[:], pt, nil) }},
			benchRow{name: fmt.Sprintf("oneshot decrypt %dKiB", size>>10), bytes: int64(size), goal: goal, minOps: minOps, maxAlloc: 10,
				env: func() {
					_, err := f.dec.Decrypt(ctx, msg, nil)
					must(err)
				},
				raw: func() {
					if _, err := raw.aead.Open(nil, raw.nonce[:], sealed, nil); err != nil {
						panic(err)
					}
				}})
	}
	// The same 1 KiB messages with data-key caches on both sides, as a
	// caller sending many small messages under one context would set them
	// (an Encryptor's and a Decryptor's own Cache: five minutes, at most
	// 2^16 messages per data key). They show what the caches save; the
	// one-shot goal is the uncached rows', so these rows have none.
	{
		f := newFixture(tb)
		f.svc.KeepLog(false)
		newCache := func() *Cache {
			c, err := NewCache(5*time.Minute, func(o *CacheOptions) { o.MaxMessages = 1 << 16 })
			must(err)
			return c
		}
		enc := &Encryptor{Keys: f.enc.Keys, Cache: newCache()}
		dec := &Decryptor{Keys: f.dec.Keys, Cache: newCache()}
		pt := pattern(1 << 10)
		msg := mustEncrypt(tb, enc, pt, nil)
		raw := newRawGCM(len(pt))
		sealed := raw.sealAll(pt)
		rows = append(rows,
			benchRow{name: "oneshot encrypt 1KiB cached", bytes: int64(len(pt)), maxAlloc: 10, noGoal: true,
				env: func() {
					_, err := enc.Encrypt(ctx, pt, nil)
					must(err)
				},
				raw: func() { raw.aead.Seal(nil, raw.nonce[:], pt, nil) }},
			benchRow{name: "oneshot decrypt 1KiB cached", bytes: int64(len(pt)), maxAlloc: 10, noGoal: true,
				env: func() {
					_, err := dec.Decrypt(ctx, msg, nil)
					must(err)
				},
				raw: func() {
					if _, err := raw.aead.Open(nil, raw.nonce[:], sealed, nil); err != nil {
						panic(err)
					}
				}})
	}
	return rows
}

// BenchmarkRows runs each comparison as a benchmark of its own: the timer
// counts envelope, then raw GCM runs as many times, and its time over
// envelope's is reported as x-raw-gcm. (BenchmarkTable interleaves the two
// more finely, which matters on a busy machine.)
func BenchmarkRows(b *testing.B) {
	for _, row := range benchRows(b) {
		b.Run(row.name, func(b *testing.B) {
			b.SetBytes(row.bytes)
			b.ReportAllocs()
			runtime.GC()
			t0 := time.Now()
			n := 0
			for b.Loop() {
				row.env()
				n++
			}
			envTime := time.Since(t0)
			t1 := time.Now()
			for range n {
				row.raw()
			}
			if envTime > 0 {
				b.ReportMetric(float64(time.Since(t1))/float64(envTime), "x-raw-gcm")
			}
		})
	}
}

// BenchmarkTable prints one table: for every comparison, the median over
// -rounds rounds of raw GCM's time over envelope's. In a round each side runs
// in blocks of about 10 ms, alternately, and counts its fastest block: other
// processes on a busy machine only ever add time, so the fastest block is the
// closest to the work itself, and both sides get the same chances. Rows on
// one core count the process's CPU time (where the platform reports it): on
// a shared machine a wall clock measures the waits for a core more than the
// work; each such block starts after an untimed runtime.GC, so the
// collection one side's allocations started is not charged to the other
// side's block (without it, the 1 KiB rows' raw blocks, under a millisecond
// each, swung 0.06–0.96 when envelope's collections ran into them). Each
// side still pays the collections its own allocations start within its
// block. Rows on several cores count wall time, since using the cores at once
// is their point; their "CPU x raw" column says how much CPU time envelope
// spent for raw GCM's, so a shortfall in wall time can be told apart from
// extra work. Run it with
//
//	go test -run '^$' -bench '^BenchmarkTable$' ./envelope -rounds 7
func BenchmarkTable(b *testing.B) {
	rows := benchRows(b)
	if *tableRows != "" {
		re, err := regexp.Compile(*tableRows)
		if err != nil {
			b.Fatal(err)
		}
		rows = slices.DeleteFunc(rows, func(r benchRow) bool { return !re.MatchString(r.name) })
	}
	rounds := max(1, *tableRounds)
	const blocks = 8 // per side and round
	ratios := make([][]float64, len(rows))
	cpuRatios := make([][]float64, len(rows)) // for the rows timed by the wall clock
	envPerOp := make([][]float64, len(rows))
	allocs := make([]float64, len(rows))
	reps := make([]int, len(rows))
	for i, row := range rows {
		row.env() // warm up
		t0 := time.Now()
		row.env()
		reps[i] = max(1, int(10*time.Millisecond/max(time.Since(t0), time.Microsecond)))
		allocs[i] = testing.AllocsPerRun(min(reps[i], 100), row.env)
	}
	b.ResetTimer()
	for range b.N {
		for round := range rounds {
			for i, row := range rows {
				runtime.GC()
				best := [2]time.Duration{time.Hour, time.Hour} // env, raw
				bestCPU := best
				for k := range 2 * blocks {
					side := (k + k/2 + round) % 2 // env raw raw env env raw …
					f := row.env
					if side == 1 {
						f = row.raw
					}
					if !row.parallel {
						// Finish, untimed, the collection the other side's
						// allocations started, so its mark workers are not
						// charged to this block's process CPU time.
						runtime.GC()
					}
					t0, c0 := time.Now(), cpu(row)
					p0, _ := cpuTime()
					for range reps[i] {
						f()
					}
					d := time.Since(t0)
					if c1 := cpu(row); c1 > 0 {
						d = c1 - c0
					}
					p1, _ := cpuTime()
					best[side] = min(best[side], d)
					bestCPU[side] = min(bestCPU[side], p1-p0)
				}
				if bestCPU[0] > 0 {
					cpuRatios[i] = append(cpuRatios[i], float64(bestCPU[1])/float64(bestCPU[0]))
				}
				ratios[i] = append(ratios[i], float64(best[1])/float64(best[0]))
				envPerOp[i] = append(envPerOp[i], float64(best[0])/float64(reps[i]))
			}
		}
	}
	b.StopTimer()

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\nenvelope vs raw AES-256-GCM, same work on the same source: medians of %d rounds (each side's fastest of %d blocks per round), GOMAXPROCS=%d\n", rounds, blocks, runtime.GOMAXPROCS(0))
	fmt.Fprintln(tw, "comparison\tclock\tx raw GCM\tmin–max\tCPU x raw\tenvelope MB/s\tmsgs/s\tallocs/op\tgoal\tmet\t")
	for i, row := range rows {
		r, t := median(ratios[i]), median(envPerOp[i])
		ops := 1e9 / t
		var goals []string
		met := true
		if row.goal > 0 {
			goals = append(goals, fmt.Sprintf("≥ %.2fx", row.goal))
			met = met && r >= row.goal
		}
		if row.minOps > 0 {
			goals = append(goals, fmt.Sprintf("≥ %.0fk/s", row.minOps/1e3))
			met = met && ops >= row.minOps
		}
		if row.maxAlloc > 0 {
			goals = append(goals, fmt.Sprintf("≤ %.0f allocs", row.maxAlloc))
			met = met && allocs[i] <= row.maxAlloc
		}
		mark := "yes"
		if !met {
			mark = "NO"
		}
		if row.noGoal {
			goals, mark = []string{"none (cached)"}, "-"
			if row.maxAlloc > 0 && allocs[i] > row.maxAlloc {
				mark = "NO (allocs)"
			}
		}
		clock := "cpu"
		if c := cpu(row); c == 0 {
			clock = "wall"
		}
		cpuX := "-"
		if len(cpuRatios[i]) > 0 {
			cpuX = fmt.Sprintf("%.3f", median(cpuRatios[i]))
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.2f–%.2f\t%s\t%.0f\t%.0f\t%.0f\t%s\t%s\t\n", row.name, clock, r,
			slices.Min(ratios[i]), slices.Max(ratios[i]), cpuX, float64(row.bytes)/t*1e3, ops, allocs[i],
			joinGoals(goals), mark)
	}
	tw.Flush()
}

// cpu returns the process's CPU time for a one-core row, or 0 where the
// wall clock is to be used.
func cpu(row benchRow) time.Duration {
	if row.parallel {
		return 0
	}
	t, ok := cpuTime()
	if !ok {
		return 0
	}
	return t
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func joinGoals(g []string) string {
	if len(g) == 0 {
		return "-"
	}
	out := g[0]
	for _, s := range g[1:] {
		out += ", " + s
	}
	return out
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
