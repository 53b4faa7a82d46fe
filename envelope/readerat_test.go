package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
)

// onlyReaderAt hides every method of its source but ReadAt.
type onlyReaderAt struct{ r io.ReaderAt }

func (o onlyReaderAt) ReadAt(p []byte, off int64) (int, error) { return o.r.ReadAt(p, off) }

// atDecrypt decrypts msg through NewReaderAt, with Reads of readSize bytes,
// or with WriteTo (io.Copy) when readSize is 0, and returns what it released
// and the final error (nil for a clean end).
func atDecrypt(d *Decryptor, msg []byte, size int64, encCtx map[string]string, readSize int) ([]byte, error) {
	r, err := d.NewReaderAt(context.Background(), onlyReaderAt{bytes.NewReader(msg)}, size, encCtx)
	if err != nil {
		return nil, err
	}
	if readSize == 0 {
		var out bytes.Buffer
		_, err := io.Copy(&out, r)
		return out.Bytes(), err
	}
	var out []byte
	buf := make([]byte, readSize)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestReaderAtRoundTrip(t *testing.T) {
	t.Parallel()
	encCtx := map[string]string{"tenant": "acme"}
	for _, seg := range []int{64, 100, 4096} {
		for _, size := range []int{0, 1, 63, 64, 65, 100, 128, 199, 200, 201, 1000, 4096, 4097, 13 * 64, 40000} {
			t.Run(fmt.Sprintf("seg%d/size%d", seg, size), func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				f.enc.SegmentSize = seg
				pt := pattern(size)
				msg := mustEncrypt(t, f.enc, pt, encCtx)
				for _, conc := range []int{1, 2, 3} {
					d := &Decryptor{Keys: f.dec.Keys, Concurrency: conc}
					for _, rs := range []int{0, 1, 7, 1000, 1 << 16} {
						got, err := atDecrypt(d, msg, int64(len(msg)), encCtx, rs)
						if err != nil || !bytes.Equal(got, pt) {
							t.Fatalf("Concurrency %d, reads of %d: %d bytes, %v", conc, rs, len(got), err)
						}
					}
				}
			})
		}
	}
}

// TestReaderAtSection decrypts a message stored inside a larger file, at an
// offset, through io.NewSectionReader: the bytes after it are not part of
// it.
func TestReaderAtSection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.SegmentSize = 64
	pt := pattern(1000)
	msg := mustEncrypt(t, f.enc, pt, nil)
	file := append(append(bytes.Repeat([]byte{0xee}, 100), msg...), bytes.Repeat([]byte{0xdd}, 300)...)
	for _, conc := range []int{1, 2} {
		d := &Decryptor{Keys: f.dec.Keys, Concurrency: conc}
		r, err := d.NewReaderAt(context.Background(), io.NewSectionReader(bytes.NewReader(file), 100, int64(len(msg))), int64(len(msg)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := io.Copy(&out, r); err != nil || !bytes.Equal(out.Bytes(), pt) {
			t.Fatalf("Concurrency %d: %d bytes, %v", conc, out.Len(), err)
		}
		if r.KeyARN() != arnMain {
			t.Errorf("KeyARN = %s", r.KeyARN())
		}
	}
}

// TestReaderAtWrongSize gives NewReaderAt sizes other than the message's,
// over a source that has the whole message or more: each fails as a
// tampered message, before or after releasing only verified segments.
func TestReaderAtWrongSize(t *testing.T) {
	t.Parallel()
	tf := newTamperFixture(t)
	n := int64(len(tf.msg))
	longer := append(bytes.Clone(tf.msg), make([]byte, 200)...)
	for _, size := range []int64{0, 10, int64(tf.bodyOff), int64(tf.bodyOff) + 1, n - 81, n - 80, n - 38, n - 1, n + 1, n + 16, n + 80, n + 200} {
		for _, src := range [][]byte{tf.msg, longer} {
			for _, conc := range []int{1, 2} {
				d := &Decryptor{Keys: tf.f.dec.Keys, Concurrency: conc}
				for _, rs := range []int{0, 1, 1000} {
					got, err := atDecrypt(d, src, size, tf.encCtx, rs)
					if err == nil {
						t.Fatalf("size %d of %d (source %d, Concurrency %d, reads %d): accepted", size, n, len(src), conc, rs)
					}
					if !errors.Is(err, ErrNotAuthentic) && !errors.Is(err, ErrFormat) {
						t.Fatalf("size %d: error %v, want ErrNotAuthentic or ErrFormat", size, err)
					}
					// At most the segments that end before the wrong end
					// (and are not the last) may come out.
					verified := max(0, int(size)-tf.bodyOff) / (tamperSeg + segmentOverhead)
					if size >= n {
						verified = 2
					}
					if len(got) > verified*tamperSeg || !bytes.Equal(got, tf.pt[:len(got)]) {
						t.Fatalf("size %d: released %d bytes", size, len(got))
					}
				}
			}
		}
	}
	if _, err := tf.f.dec.NewReaderAt(context.Background(), bytes.NewReader(tf.msg), -1, tf.encCtx); err == nil {
		t.Error("negative size accepted")
	}
	if _, err := tf.f.dec.NewReaderAt(context.Background(), nil, n, tf.encCtx); err == nil {
		t.Error("nil source accepted")
	}
}

// failingAt fails every ReadAt that reaches the bytes at or after off,
// returning the bytes before them.
type failingAt struct {
	b   []byte
	off int64
	err error
}

func (f failingAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.off {
		return copy(p, f.b[off:max(off, f.off)]), f.err
	}
	return copy(p, f.b[off:]), nil
}

func TestReaderAtIOErrorsPassThrough(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.SegmentSize = 64
	pt := pattern(10000)
	msg := mustEncrypt(t, f.enc, pt, nil)
	h, _, err := format.ParseBytes(msg, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Past the header and the chunk the header parser reads.
	failAt := len(h.Authd) + 32 + 5000
	verified := (failAt - len(h.Authd) - 32) / (64 + segmentOverhead)
	boom := errors.New("disk on fire")
	for _, conc := range []int{1, 2} {
		d := &Decryptor{Keys: f.dec.Keys, Concurrency: conc}
		src := failingAt{b: msg, off: int64(failAt), err: boom}
		for _, copyAll := range []bool{false, true} {
			r, err := d.NewReaderAt(context.Background(), src, int64(len(msg)), nil)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			if copyAll {
				var buf bytes.Buffer
				_, err = io.Copy(&buf, r)
				out = buf.Bytes()
			} else {
				out, err = io.ReadAll(r)
			}
			if !errors.Is(err, boom) || errors.Is(err, ErrNotAuthentic) {
				t.Errorf("Concurrency %d: err = %v, want the source's error", conc, err)
			}
			if !bytes.Equal(out, pt[:len(out)]) || len(out) > verified*64 {
				t.Errorf("Concurrency %d: released %d bytes", conc, len(out))
			}
			if _, err := r.Read(make([]byte, 10)); !errors.Is(err, boom) {
				t.Errorf("Concurrency %d: the error does not stick: %v", conc, err)
			}
		}
	}
}

// shortWriter accepts n bytes, then fails.
type shortWriter struct {
	buf bytes.Buffer
	n   int
}

var errFull = errors.New("full")

func (w *shortWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.n {
		k := w.n - w.buf.Len()
		w.buf.Write(p[:k])
		return k, errFull
	}
	return w.buf.Write(p)
}

// TestReaderAtResumesAfterWriteError: when WriteTo's writer fails midway,
// the rest of the plaintext still comes out of Read, in order.
func TestReaderAtResumesAfterWriteError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.SegmentSize = 64
	pt := pattern(3000)
	msg := mustEncrypt(t, f.enc, pt, nil)
	for _, conc := range []int{1, 2} {
		d := &Decryptor{Keys: f.dec.Keys, Concurrency: conc}
		r, err := d.NewReaderAt(context.Background(), bytes.NewReader(msg), int64(len(msg)), nil)
		if err != nil {
			t.Fatal(err)
		}
		w := &shortWriter{n: 1000}
		if _, err := r.WriteTo(w); !errors.Is(err, errFull) {
			t.Fatalf("WriteTo: %v", err)
		}
		rest, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(append(w.buf.Bytes(), rest...), pt) {
			t.Fatalf("Concurrency %d: %d + %d bytes, %v", conc, w.buf.Len(), len(rest), err)
		}
	}
}

// TestReaderAtMemory: the ring holds one segment, or a small message's own
// size, without concurrency; with it, no more slots than segments.
func TestReaderAtMemory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		size, conc, maxRing int
	}{
		{1 << 10, 1, 1<<10 + 16},
		{1 << 20, 1, DefaultSegmentSize + 16},
		{1 << 10, 2, 1<<10 + 16},
		{3 * DefaultSegmentSize, 2, 3 * (DefaultSegmentSize + 16)},
		{1 << 22, 2, ringSlots(2, DefaultSegmentSize+16) * (DefaultSegmentSize + 16)},
	} {
		msg := mustEncrypt(t, f.enc, pattern(tt.size), nil)
		d := &Decryptor{Keys: f.dec.Keys, Concurrency: tt.conc}
		r, err := d.NewReaderAt(context.Background(), bytes.NewReader(msg), int64(len(msg)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.ring) > tt.maxRing {
			t.Errorf("%d bytes, Concurrency %d: ring of %d bytes, want ≤ %d", tt.size, tt.conc, len(r.ring), tt.maxRing)
		}
	}
}
