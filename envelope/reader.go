package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

// NewReader reads a message's header from src, decrypts its data key and
// returns a Reader for the plaintext. encCtx must equal the message's
// context, as for Decrypt.
func (d *Decryptor) NewReader(ctx context.Context, src io.Reader, encCtx map[string]string) (*Reader, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("envelope: NewReader: nil source")
	}
	h, rest, err := format.Read(src, d.MaxEncryptedKeys)
	if err != nil {
		return nil, err
	}
	o, err := d.open(ctx, h, encCtx, lanes(d.Concurrency), 0)
	if err != nil {
		return nil, err
	}
	o.keys.WipeHeaderKey()
	o.keys.SetAAD(format.Digest(h.Fixed))
	src = format.NoStall(src)
	if len(rest) > 0 {
		src = io.MultiReader(bytes.NewReader(rest), src)
	}
	lanes := o.keys.Lanes()
	stride := h.SegmentSize + segmentOverhead
	slots := ringSlots(lanes, stride)
	return &Reader{
		src: src, keys: o.keys, aad: o.keys.AAD(), seg: h.SegmentSize, stride: stride,
		lanes: lanes, slots: slots, ring: make([]byte, slots*stride),
		size: make([]int, slots), ctr: make([]uint32, slots), last: make([]bool, slots),
		pt: make([][]byte, slots), bad: make([]bool, slots), keyARN: o.keyARN,
		cache: d.Cache, entry: o.entry,
	}, nil
}

// Reader decrypts a stream. It implements io.Reader and io.WriterTo. It
// returns a segment's plaintext only after that segment's tag has verified,
// so whatever it has returned is authentic. Truncation, reordering or
// tampering ends the stream with ErrNotAuthentic, never with io.EOF. It is not
// safe for concurrent use.
//
// Segments are read into a ring of slots, each into a slot of its own, so
// every copy is aligned. A segment is opened once the next one has been read
// (or the source has ended), because only that tells whether it is the last.
// With concurrency, WriteTo keeps several segments in flight.
type Reader struct {
	src    io.Reader
	keys   *stream.Keys
	aad    []byte // in keys
	seg    int
	stride int
	lanes  int
	slots  int
	ring   []byte // slots × stride

	// Per slot: the segment's ciphertext size, counter and last flag, and
	// after opening its plaintext (in place) or failure.
	size []int
	ctr  []uint32
	last []bool
	pt   [][]byte
	bad  []bool

	rd     uint64 // segments read
	sub    uint64 // segments opened or handed to the crew
	dl     uint64 // next segment to return
	eof    bool   // the source has ended
	rerr   error  // a read error, returned when its segment is needed
	done   bool   // the final segment has been returned
	cur    []byte // what is left of the segment being returned
	crew   *crew  // during WriteTo with concurrency
	err    error  // set once; io.EOF after the final segment
	keyARN string
	cache  *Cache      // the Decryptor's, if the data key came from it
	entry  *cacheEntry // charged with the bytes released
}

// KeyARN returns the master key that decrypted the data key.
func (r *Reader) KeyARN() string { return r.keyARN }

// String describes the Reader without its buffers or keys.
func (r *Reader) String() string {
	return fmt.Sprintf("envelope.Reader{segment size %d, key %s}", r.seg, r.keyARN)
}

// GoString is String, so %#v prints no buffer or key either.
func (r *Reader) GoString() string { return r.String() }

func (r *Reader) slot(c uint64) int { return int(c % uint64(r.slots)) }

// Read returns decrypted plaintext.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if len(r.cur) > 0 {
			n := copy(p, r.cur)
			r.cur = r.cur[n:]
			return n, nil
		}
		if r.err != nil {
			return 0, r.err
		}
		r.advance()
	}
}

// WriteTo writes the rest of the plaintext to w, straight from the Reader's
// slots. With concurrency it opens several segments at once.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	if r.lanes > 1 && r.err == nil && r.crew == nil {
		r.crew = newCrew(r, r.lanes, r.slots)
		defer func() {
			r.crew.stop()
			r.crew = nil
		}()
	}
	var total int64
	for {
		if len(r.cur) > 0 {
			n, err := w.Write(r.cur)
			total += int64(n)
			r.cur = r.cur[n:]
			if err != nil {
				return total, err
			}
			continue
		}
		if r.err == io.EOF {
			return total, nil
		}
		if r.err != nil {
			return total, r.err
		}
		r.advance()
	}
}

// advance makes the next segment's plaintext current, or sets r.err.
func (r *Reader) advance() {
	if r.done {
		r.err = io.EOF
		return
	}
	if err := r.pump(); err != nil {
		r.err = err
		return
	}
	s := r.slot(r.dl)
	if r.crew != nil {
		r.crew.wait(s)
	}
	if r.bad[s] {
		r.err = notAuthentic("a segment does not authenticate (tampered, truncated or reordered)")
		return
	}
	r.cur = r.pt[s]
	if r.entry != nil {
		r.cache.charge(r.entry, uint64(len(r.cur)))
	}
	r.dl++
	r.done = r.last[s]
}

// pump reads and opens segments until segment dl is opened (or queued), and
// with a crew keeps reading ahead while slots are free.
func (r *Reader) pump() error {
	for r.sub <= r.dl {
		switch {
		case r.ready(r.sub):
			r.open(r.sub)
		case r.eof:
			return notAuthentic("message ends before its final segment")
		default:
			if err := r.readOne(); err != nil {
				return err
			}
		}
	}
	if r.crew != nil {
		for !r.eof && r.rerr == nil && r.rd-r.dl < uint64(r.slots) {
			r.readOne() // an error is kept in r.rerr for when it matters
			for r.ready(r.sub) {
				r.open(r.sub)
			}
		}
	}
	return nil
}

// ready reports whether segment c is read and known to be final or not.
func (r *Reader) ready(c uint64) bool {
	return c < r.rd && (c+1 < r.rd || r.eof)
}

// readOne reads segment rd into its slot.
func (r *Reader) readOne() error {
	if r.rerr != nil {
		return r.rerr
	}
	if r.rd >= format.MaxSegments {
		// Segment 2^32-1 may be a full final segment, so the source must
		// end here; one more byte is a 2^32+1st segment.
		var b [1]byte
		switch n, err := io.ReadFull(r.src, b[:]); {
		case n == 0 && err == io.EOF:
			r.eof = true
			return nil
		case n == 0:
			r.rerr = err
		default:
			r.rerr = fmt.Errorf("%w: %w: more than 2^32 segments", ErrFormat, ErrLimit)
		}
		return r.rerr
	}
	s := r.slot(r.rd)
	n, err := io.ReadFull(r.src, r.ring[s*r.stride:(s+1)*r.stride])
	switch err {
	case nil, io.EOF, io.ErrUnexpectedEOF:
		if n > 0 {
			r.size[s] = n
			r.rd++
		}
		r.eof = err != nil
		return nil
	default:
		r.rerr = err
		return err
	}
}

// open opens segment c, or hands it to the crew.
func (r *Reader) open(c uint64) {
	s := r.slot(c)
	r.ctr[s], r.last[s] = uint32(c), r.eof && c == r.rd-1
	r.sub++
	if r.crew == nil {
		r.do(0, s)
		return
	}
	r.crew.submit(s)
}

// do opens the segment in slot s in place.
func (r *Reader) do(lane, s int) {
	if r.last[s] && r.size[s] == segmentOverhead && r.ctr[s] > 0 {
		// An empty final segment after data: every tag may verify, but it
		// is not the encoding of any plaintext (FORMAT.md §5.3).
		r.pt[s], r.bad[s] = nil, true
		return
	}
	ct := r.ring[s*r.stride : s*r.stride+r.size[s]]
	pt, err := r.keys.Open(lane, ct[:0], ct, r.ctr[s], r.last[s], r.aad)
	r.pt[s], r.bad[s] = pt, err != nil
}
