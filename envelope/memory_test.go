package envelope

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"testing"
)

// genReader yields n bytes of a repeating pattern without allocating.
type genReader struct {
	block []byte
	left  int64
	off   int
}

func newGenReader(n int64) *genReader { return &genReader{block: pattern(4096), left: n} }

func (g *genReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], g.block[g.off:])
		n += c
		g.off = (g.off + c) % len(g.block)
	}
	g.left -= int64(n)
	return n, nil
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// streamAllocs streams size bytes through a Writer (to io.Discard) and,
// separately, a message of that size through a Reader, and returns the bytes
// allocated by each direction, from NewWriter or NewReader to the end of the
// stream. Everything allocated counts, so this bounds the peak heap each
// direction needs.
func streamAllocs(tb testing.TB, seg int, size int64) (enc, dec uint64) {
	tb.Helper()
	f := newFixture(tb)
	f.enc.SegmentSize = seg
	ctx := context.Background()

	before := totalAlloc()
	w, err := f.enc.NewWriter(ctx, io.Discard, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(w, newGenReader(size)); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	enc = totalAlloc() - before

	// For the Reader, the ciphertext comes from a Writer in another
	// goroutine through io.Pipe. The Writer is built (and its header taken)
	// before the count starts; while it runs it allocates nothing.
	var header bytes.Buffer
	src, err := f.enc.NewWriter(ctx, &header, nil)
	if err != nil {
		tb.Fatal(err)
	}
	pr, pw := io.Pipe()
	src.dst = pw
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(src, newGenReader(size))
		if err == nil {
			err = src.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	before = totalAlloc()
	r, err := f.dec.NewReader(ctx, io.MultiReader(&header, pr), nil)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil || n != size {
		tb.Fatalf("decrypted %d bytes: %v", n, err)
	}
	dec = totalAlloc() - before
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	return enc, dec
}

// TestStreamingMemoryBound checks that streaming allocates a bounded amount,
// independent of the stream's length: at most two segments plus 1 MiB per
// direction. It is not parallel, so that no other test's allocations count.
func TestStreamingMemoryBound(t *testing.T) {
	for _, seg := range []int{MinSegmentSize * 16, DefaultSegmentSize} {
		enc, dec := streamAllocs(t, seg, 16<<20)
		limit := uint64(2*seg + 1<<20)
		t.Logf("segment %d: encrypt allocated %d bytes, decrypt %d (limit %d)", seg, enc, dec, limit)
		if enc > limit || dec > limit {
			t.Errorf("segment %d: allocated %d (encrypt) and %d (decrypt) bytes, limit %d", seg, enc, dec, limit)
		}
	}
}
