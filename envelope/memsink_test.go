package envelope

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// chunkedReader is an in-memory source whose WriteTo hands the message over
// in chunks of random sizes, as a source with its own buffers would: every
// chunk boundary lands somewhere else in a segment.
type chunkedReader struct {
	*bytes.Reader
	rng *rand.Rand
}

func (c *chunkedReader) WriteTo(w io.Writer) (int64, error) {
	buf, _ := io.ReadAll(c.Reader)
	var n int64
	for len(buf) > 0 {
		k := min(len(buf), 1+c.rng.IntN(300))
		m, err := w.Write(buf[:k])
		n += int64(m)
		if err != nil {
			return n, err
		}
		buf = buf[k:]
	}
	return n, nil
}

// TestReaderFromMemory: the path that opens segments straight from an
// in-memory source gives what Decrypt gives for every length around the
// segment size and every way the source may cut the body into chunks, and
// fails, releasing nothing unauthenticated, on every truncation.
func TestReaderFromMemory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.SegmentSize = 64
	rng := rand.New(rand.NewPCG(1, 2))
	for _, conc := range []int{1, 3} {
		f.dec.Concurrency = conc
		fromMemory(t, f, rng)
	}
}

func fromMemory(t *testing.T, f *fixture, rng *rand.Rand) {
	for _, size := range []int{0, 1, 63, 64, 65, 127, 128, 129, 1000, 5000} {
		pt := pattern(size)
		msg := mustEncrypt(t, f.enc, pt, nil)
		for trial := range 8 {
			r, err := f.dec.NewReader(t.Context(), bytes.NewReader(msg), nil)
			if err != nil {
				t.Fatal(err)
			}
			if trial > 0 { // trial 0: the plain *bytes.Reader, one chunk
				r.mem = &chunkedReader{r.mem.(*bytes.Reader), rng}
			}
			var out bytes.Buffer
			if _, err := r.WriteTo(&out); err != nil || !bytes.Equal(out.Bytes(), pt) {
				t.Fatalf("concurrency %d, size %d, trial %d: %v", f.dec.Concurrency, size, trial, err)
			}
			if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Errorf("size %d: Read after WriteTo: %d, %v", size, n, err)
			}
		}
		// Every truncation fails, and what was released is a prefix of
		// the plaintext made of whole verified segments.
		for cut := 0; cut < len(msg); cut += 1 + rng.IntN(40) {
			r, err := f.dec.NewReader(t.Context(), bytes.NewReader(msg[:cut]), nil)
			if err != nil {
				continue // the header itself is cut
			}
			r.mem = &chunkedReader{r.mem.(*bytes.Reader), rng}
			var out bytes.Buffer
			_, err = r.WriteTo(&out)
			if !errors.Is(err, ErrNotAuthentic) {
				t.Fatalf("concurrency %d, size %d cut at %d: %v", f.dec.Concurrency, size, cut, err)
			}
			if out.Len()%64 != 0 || !bytes.HasPrefix(pt, out.Bytes()) {
				t.Fatalf("concurrency %d, size %d cut at %d: released %d bytes", f.dec.Concurrency, size, cut, out.Len())
			}
		}
	}
}

// lyingLen is a source that says it holds fewer bytes than it does.
type lyingLen struct{ io.Reader }

func (lyingLen) Len() int { return 10 }

// TestReaderSizedToSmallMessage: a Reader over a small message in memory
// holds a slot of the message's size, not a segment's, and still reads a
// source that holds more than its Len said.
func TestReaderSizedToSmallMessage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pt := pattern(1000)
	msg := mustEncrypt(t, f.enc, pt, nil)
	r, err := f.dec.NewReader(t.Context(), bytes.NewReader(msg), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ring) > len(pt)+segmentOverhead+1 {
		t.Errorf("a %d-byte message got a %d-byte slot", len(pt), len(r.ring))
	}
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("Read: %v", err)
	}
	var buf bytes.Buffer
	w, err := f.enc.NewSizedWriter(t.Context(), &buf, nil, int64(len(pt)))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.ring) > len(pt)+segmentOverhead {
		t.Errorf("a sized writer for %d bytes got a %d-byte slot", len(pt), len(w.ring))
	}
	if _, err := w.Write(pt); err != nil || w.Close() != nil {
		t.Fatalf("sized writer: %v", err)
	}
	if got, err := f.dec.Decrypt(t.Context(), buf.Bytes(), nil); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("sized writer's message: %v", err)
	}
	big := pattern(3 * DefaultSegmentSize / 2)
	msg = mustEncrypt(t, f.enc, big, nil)
	for _, copying := range []bool{false, true} {
		r, err = f.dec.NewReader(t.Context(), lyingLen{bytes.NewReader(msg)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		if copying {
			var out bytes.Buffer
			_, err = io.Copy(&out, r)
			got = out.Bytes()
		} else {
			got, err = io.ReadAll(r)
		}
		if err != nil || !bytes.Equal(got, big) {
			t.Errorf("source longer than its Len (io.Copy %v): %v", copying, err)
		}
	}
}

// TestSizedWriterOneSegment: a writer sized to one segment or less, with
// and without concurrency, by Write and by ReadFrom, at and around the
// segment size.
func TestSizedWriterOneSegment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.SegmentSize = 256
	for _, conc := range []int{1, 4} {
		f.enc.Concurrency = conc
		for _, size := range []int{0, 1, 255, 256} {
			pt := pattern(size)
			for _, readFrom := range []bool{false, true} {
				var buf bytes.Buffer
				w, err := f.enc.NewSizedWriter(t.Context(), &buf, nil, int64(size))
				if err != nil {
					t.Fatal(err)
				}
				if readFrom {
					_, err = w.ReadFrom(plainReader{bytes.NewReader(pt)})
				} else {
					_, err = w.Write(pt)
				}
				if err != nil || w.Close() != nil {
					t.Fatalf("concurrency %d, %d bytes, ReadFrom %v: %v", conc, size, readFrom, err)
				}
				got, err := f.dec.Decrypt(t.Context(), buf.Bytes(), nil)
				if err != nil || !bytes.Equal(got, pt) {
					t.Errorf("concurrency %d, %d bytes, ReadFrom %v: %v", conc, size, readFrom, err)
				}
			}
		}
	}
}

// moreThanLen hands its sink the rest of a *bytes.Reader, then bytes its
// Len did not count.
type moreThanLen struct {
	*bytes.Reader
	extra []byte
}

func (m moreThanLen) WriteTo(w io.Writer) (int64, error) {
	n, err := m.Reader.WriteTo(w)
	if err != nil {
		return n, err
	}
	k, err := w.Write(m.extra)
	return n + int64(k), err
}

// TestReaderFromMemoryKnownEnd: a source in memory tells the body's length,
// so the final segment is opened straight from it (by the crew, with
// concurrency); a *bytes.Buffer, which cannot seek back the bytes the
// header parser read ahead, works the same, and bytes beyond the length the
// source told fail the message.
func TestReaderFromMemoryKnownEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.SegmentSize = 64
	for _, conc := range []int{1, 3} {
		d := &Decryptor{Keys: f.dec.Keys, Concurrency: conc}
		for _, size := range []int{1, 64, 128, 1000, 5000} {
			pt := pattern(size)
			msg := mustEncrypt(t, f.enc, pt, nil)
			r, err := d.NewReader(t.Context(), bytes.NewBuffer(bytes.Clone(msg)), nil)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if _, err := r.WriteTo(&out); err != nil || !bytes.Equal(out.Bytes(), pt) {
				t.Fatalf("bytes.Buffer, concurrency %d, size %d: %d bytes, %v", conc, size, out.Len(), err)
			}

			src := bytes.NewReader(msg)
			r, err = d.NewReader(t.Context(), src, nil)
			if err != nil {
				t.Fatal(err)
			}
			r.mem = moreThanLen{src, []byte("trailing")}
			out.Reset()
			if _, err := r.WriteTo(&out); !errors.Is(err, ErrNotAuthentic) {
				t.Fatalf("source longer than its Len, concurrency %d, size %d: %v", conc, size, err)
			}
			if !bytes.HasPrefix(pt, out.Bytes()) {
				t.Fatalf("size %d: released bytes that are not the plaintext", size)
			}
		}
	}
}
