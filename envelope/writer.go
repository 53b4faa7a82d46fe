package envelope

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

// NewWriter starts a message on dst and returns a Writer for its plaintext.
// The header is written before NewWriter returns; the message is complete
// only after Close. A stream's length is unknown in advance, so it does not
// use the Encryptor's Cache (see NewSizedWriter).
func (e *Encryptor) NewWriter(ctx context.Context, dst io.Writer, encCtx map[string]string) (*Writer, error) {
	return e.newWriter(ctx, dst, encCtx, -1)
}

// NewSizedWriter is NewWriter for a plaintext of at most size bytes. Knowing
// the size lets it use the Encryptor's Cache within the cache's byte limit.
// Writing more than size bytes fails with ErrLimit.
func (e *Encryptor) NewSizedWriter(ctx context.Context, dst io.Writer, encCtx map[string]string, size int64) (*Writer, error) {
	if size < 0 {
		return nil, fmt.Errorf("envelope: NewSizedWriter: negative size %d", size)
	}
	return e.newWriter(ctx, dst, encCtx, size)
}

func (e *Encryptor) newWriter(ctx context.Context, dst io.Writer, encCtx map[string]string, size int64) (*Writer, error) {
	if dst == nil {
		return nil, errors.New("envelope: NewWriter: nil destination")
	}
	s, err := e.begin(ctx, encCtx, size, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dst.Write(s.header); err != nil {
		return nil, err
	}
	lanes := s.keys.Lanes()
	stride := s.seg + segmentOverhead
	slots := ringSlots(lanes, stride)
	ringLen := slots * stride
	if lanes == 1 {
		// Sequential: one slot, plus the byte after a full segment that
		// ReadFrom reads to learn that the segment is not the last. One
		// segment's buffer stays in the cache even at 1 MiB.
		slots, ringLen = 1, stride+1
	}
	if size >= 0 && size <= int64(s.seg) {
		// A declared message of one segment needs a slot of its own size,
		// not two segments (2 × 64 KiB for a 1 KiB message, by default).
		slots, ringLen = 1, int(size)+segmentOverhead
	}
	var ring []byte
	if slots > 1 {
		ring = rings.get(ringLen)
	} else {
		ring = make([]byte, ringLen)
	}
	return &Writer{
		dst: dst, keys: s.keys, aad: s.keys.AAD(), seg: s.seg, stride: stride,
		lanes: lanes, slots: slots, ring: ring,
		src: make([][]byte, slots), size: make([]int, slots), ctr: make([]uint32, slots), last: make([]bool, slots),
		limit: size,
	}, nil
}

// Writer encrypts a stream. It implements io.WriteCloser and io.ReaderFrom.
// It is not safe for concurrent use.
//
// Segments live in a ring of slots. The segment being filled is held back
// until the Writer knows whether it is the last: only more data, or Close,
// tells. Sealed segments are written out in order. Without concurrency each
// is sealed and written at once; with it, large calls seal several at a time.
type Writer struct {
	dst    io.Writer
	keys   *stream.Keys
	aad    []byte // in keys
	seg    int
	stride int
	lanes  int
	slots  int
	ring   []byte // slots × stride; a slot holds plaintext, then its sealed segment

	// What do(lane, slot) seals: the slot's own bytes, or src when the
	// plaintext comes straight from the caller.
	src  [][]byte
	size []int
	ctr  []uint32
	last []bool

	next    uint64 // counter of the segment being filled, in slot next % slots
	filled  int    // plaintext bytes in it
	pending int    // segments handed to the crew and not yet written: next-pending … next-1
	crew    *crew  // during a bulk call
	limit   int64  // declared size, or -1
	total   int64  // plaintext bytes accepted
	peek    [1]byte
	err     error // sticky
	closed  bool
}

// String describes the Writer without its buffers or keys.
func (w *Writer) String() string {
	return fmt.Sprintf("envelope.Writer{segment size %d, %d bytes written}", w.seg, w.total)
}

// GoString is String, so %#v prints no buffer or key either.
func (w *Writer) GoString() string { return w.String() }

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

func (w *Writer) slot(c uint64) int { return int(c % uint64(w.slots)) }

var errOverLimit = fmt.Errorf("%w: more than the declared size written", ErrLimit)

// Write encrypts p. Full segments are sealed as soon as the Writer knows
// they are not the last; the rest waits until more data or Close.
func (w *Writer) Write(p []byte) (n int, err error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, ErrClosed
	}
	if w.limit >= 0 && int64(len(p)) > w.limit-w.total {
		return 0, w.fail(errOverLimit)
	}
	if w.lanes > 1 && len(p) >= w.slots*w.seg {
		w.startCrew()
		defer func() {
			if derr := w.stopCrew(); err == nil && derr != nil {
				err = derr
			}
		}()
	}
	for len(p) > 0 {
		if w.filled == w.seg {
			// More data follows, so the held-back segment is not the last.
			if err := w.seal(nil, w.seg, false); err != nil {
				return n, err
			}
		}
		if w.filled == 0 {
			if err := w.room(1); err != nil {
				return n, err
			}
			if len(p) > w.seg {
				// A whole segment straight from p, with more of p after it.
				if err := w.seal(p[:w.seg], w.seg, false); err != nil {
					return n, err
				}
				p, n, w.total = p[w.seg:], n+w.seg, w.total+int64(w.seg)
				continue
			}
		}
		s := w.slot(w.next)
		k := copy(w.ring[s*w.stride+w.filled:min(s*w.stride+w.seg, len(w.ring))], p)
		w.filled += k
		p, n, w.total = p[k:], n+k, w.total+int64(k)
	}
	return n, nil
}

// ReadFrom encrypts everything r yields until io.EOF, reading straight into
// the Writer's slots. It does not Close the Writer.
func (w *Writer) ReadFrom(r io.Reader) (read int64, err error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, ErrClosed
	}
	r = format.NoStall(r)
	if w.lanes > 1 {
		w.startCrew()
		defer func() {
			if derr := w.stopCrew(); err == nil && derr != nil {
				err = derr
			}
		}()
	}
	for {
		if w.err != nil {
			return read, w.err
		}
		var n int
		var rerr error
		switch {
		case w.limit >= 0 && w.total == w.limit:
			// Declared size reached: anything more is an error.
			if n, rerr = r.Read(w.peek[:]); n > 0 {
				return read, w.fail(errOverLimit)
			}
		case w.slots == 1 && w.crew == nil:
			// One slot: read up to one byte past the segment. If that byte
			// comes, the segment is not the last; it is sealed in place and
			// the byte starts the next one.
			n, rerr = r.Read(w.ring[w.filled : w.filled+w.budget(w.seg+1-w.filled)])
			w.filled += n
			if w.filled > w.seg {
				b := w.ring[w.seg]
				if err := w.seal(nil, w.seg, false); err != nil {
					return read, err
				}
				w.ring[0], w.filled = b, 1
			}
		case w.filled == w.seg:
			// The held-back segment is full. Read ahead into the next slot:
			// if anything comes, the held-back one is not the last.
			if err := w.room(2); err != nil {
				return read, err
			}
			la := w.slot(w.next + 1)
			n, rerr = r.Read(w.ring[la*w.stride : la*w.stride+w.budget(w.seg)])
			if n > 0 {
				if err := w.seal(nil, w.seg, false); err != nil {
					return read, err
				}
				w.filled = n
			}
		default:
			if w.filled == 0 {
				if err := w.room(1); err != nil {
					return read, err
				}
			}
			s := w.slot(w.next)
			n, rerr = r.Read(w.ring[s*w.stride+w.filled : s*w.stride+w.filled+w.budget(w.seg-w.filled)])
			w.filled += n
		}
		read += int64(n)
		w.total += int64(n)
		if rerr == io.EOF {
			return read, nil
		}
		if rerr != nil {
			return read, rerr
		}
	}
}

// budget caps a read of n bytes at what the declared size still allows.
func (w *Writer) budget(n int) int {
	if w.limit >= 0 && int64(n) > w.limit-w.total {
		return int(w.limit - w.total)
	}
	return n
}

// seal seals segment next: the n bytes in its slot, or src. Without a crew
// it is sealed and written at once; with one it is queued.
func (w *Writer) seal(src []byte, n int, final bool) error {
	if w.next >= format.MaxSegments || (!final && w.next+1 >= format.MaxSegments) {
		return w.fail(fmt.Errorf("%w: message would need more than 2^32 segments", ErrLimit))
	}
	s := w.slot(w.next)
	w.src[s], w.size[s], w.ctr[s], w.last[s] = src, n, uint32(w.next), final
	w.next++
	w.filled = 0
	if w.crew == nil {
		w.do(0, s)
		return w.write(s)
	}
	w.crew.submit(s)
	w.pending++
	return nil
}

// do seals the segment described for slot s into the slot.
func (w *Writer) do(lane, s int) {
	src := w.src[s]
	if src == nil {
		src = w.ring[s*w.stride : s*w.stride+w.size[s]]
	}
	w.keys.Seal(lane, w.ring[s*w.stride:s*w.stride], src, w.ctr[s], w.last[s], w.aad)
}

func (w *Writer) write(s int) error {
	w.src[s] = nil // drop any reference to the caller's buffer
	if _, err := w.dst.Write(w.ring[s*w.stride : s*w.stride+w.size[s]+segmentOverhead]); err != nil {
		return w.fail(err)
	}
	return nil
}

// room writes out the oldest queued segments until n slots (the one being
// filled, and one read ahead) are free of them.
func (w *Writer) room(n int) error {
	for w.pending > w.slots-n {
		if err := w.retire(); err != nil {
			return err
		}
	}
	return nil
}

// retire waits for the oldest queued segment and writes it.
func (w *Writer) retire() error {
	s := w.slot(w.next - uint64(w.pending))
	w.crew.wait(s)
	w.pending--
	if w.err != nil {
		return w.err
	}
	return w.write(s)
}

func (w *Writer) startCrew() {
	if w.crew == nil {
		w.crew = newCrew(w, w.lanes, w.slots)
	}
}

// stopCrew writes out what is queued and ends the crew, so that no
// goroutine holds the caller's buffer after the call returns.
func (w *Writer) stopCrew() error {
	var err error
	for w.pending > 0 && err == nil {
		err = w.retire()
	}
	w.crew.stop()
	w.crew, w.pending = nil, 0
	return err
}

// Close seals the final segment and writes it. It does not close the
// destination. The message is incomplete, and fails to decrypt, without it.
// Calling Close again returns the first result.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	// The ring holds plaintext waiting to be sealed. Every segment is sealed
	// in place, its ciphertext over its plaintext, so once the final one is
	// sealed the ring holds ciphertext only; a failed Writer's may still
	// hold plaintext. A sequential ring (one segment) is wiped on every
	// path. A parallel one is megabytes, wiped on one core while the others
	// wait (4% of a two-core stream at 1 MiB segments): it is wiped only if
	// the Writer failed, and goes back to the pool either way.
	defer func() {
		if w.slots == 1 || w.err != nil {
			clear(w.ring)
		}
		clear(w.peek[:])
		if w.slots > 1 {
			rings.put(w.ring)
		}
		w.ring, w.keys = nil, nil
	}()
	if w.err != nil {
		return w.err
	}
	if w.filled == 0 && w.next > 0 {
		// Every path leaves at least one byte held back after sealing a
		// segment; an empty final segment after data is not a valid encoding.
		return w.fail(errors.New("envelope: internal error: nothing held back for the final segment"))
	}
	return w.seal(nil, w.filled, true)
}
