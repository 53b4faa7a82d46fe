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
	mem := inMemory(src)
	if sk, ok := mem.(io.Seeker); ok && len(rest) > 0 {
		// Give the bytes read past the header back to the source, so that
		// WriteTo finds the whole body there: the first segment is then
		// opened from memory too, not from a copy.
		if _, err := sk.Seek(-int64(len(rest)), io.SeekCurrent); err == nil {
			rest = nil
		}
	}
	body := int64(-1) // the body's length, if the source tells
	if l, ok := src.(interface{ Len() int }); ok {
		body = int64(len(rest)) + int64(l.Len())
	}
	src = format.NoStall(src)
	if len(rest) > 0 {
		src = io.MultiReader(bytes.NewReader(rest), src)
	}
	lanes := o.keys.Lanes()
	stride := h.SegmentSize + segmentOverhead
	slots := ringSlots(lanes, stride)
	ringLen := slots * stride
	if lanes == 1 {
		// Sequential: one slot, and one byte more that tells whether the
		// segment in it is the last. One segment's buffer stays in the
		// cache even at 1 MiB, where two would not.
		slots, ringLen = 1, stride+1
		if body >= 0 && body < int64(stride) {
			// A small message in memory: a slot of its size, not a
			// segment's. (advanceSeq grows it if the source has more.)
			ringLen = int(body) + 1
		}
	}
	r := &Reader{
		src: src, mem: mem, rest: rest, keys: o.keys, aad: o.keys.AAD(), seg: h.SegmentSize, stride: stride,
		lanes: lanes, slots: slots, ring: newRing(slots, ringLen),
		size: make([]int, slots), ctr: make([]uint32, slots), last: make([]bool, slots),
		pt: make([][]byte, slots), bad: make([]bool, slots), from: make([][]byte, slots), keyARN: o.keyARN,
		cache: d.Cache, entry: o.entry,
	}
	if lanes == 1 {
		r.part = r.ring
	}
	if mem != nil && body > 0 {
		// The source says where the message ends, so writeFromMemory
		// knows the final segment when it sees it, without a byte after.
		r.final = uint64((body - 1) / int64(stride))
		r.finalLen = int(body - int64(r.final)*int64(stride))
	}
	return r, nil
}

// Reader decrypts a stream. It implements io.Reader and io.WriterTo. It
// returns a segment's plaintext only after that segment's tag has verified,
// so whatever it has returned is authentic. Truncation, reordering or
// tampering ends the stream with ErrNotAuthentic, never with io.EOF. It is not
// safe for concurrent use.
//
// Without concurrency a segment is read, with the byte after it, into one
// slot and opened there; that byte, or the end of the source, tells whether
// the segment is the last. One slot stays in the cache where a ring of two
// 1 MiB segments would not. From a message in memory (a *bytes.Reader or
// *bytes.Buffer), WriteTo opens segments straight from the source's bytes.
// With concurrency, segments go into a ring of slots, each into a slot of
// its own, and WriteTo keeps several in flight. From NewReaderAt, each
// segment is read with one ReadAt into the slot it is opened in, and the
// message's size says which segment is the last.
type Reader struct {
	src    io.Reader // rest, then the caller's source
	mem    memSource // the caller's source, if it holds the message in memory
	rest   []byte    // body bytes the header parser read ahead; src starts with them
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
	from [][]byte // ciphertext in the caller's memory, opened out of place into the slot

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

	// A source read at offsets (NewReaderAt): segment c starts at
	// atOff + c·stride, and the one that ends at atEnd is the last.
	at    io.ReaderAt
	atOff int64
	atEnd int64
	segs  uint64
	fetch []error // per slot: the read error of its segment, with a crew

	// Sequential state: the segment being assembled in part[:have] (the
	// ring, without concurrency), and the byte after a released full
	// segment, which starts the next one.
	part    []byte
	have    int
	carry   byte
	carried bool

	wiping bool // do wipes slots instead of opening them (release)

	// For writeFromMemory, when the source tells the body's length: the
	// final segment's counter and length (finalLen 0: unknown).
	final    uint64
	finalLen int
}

// newRing returns a Reader's ring: from the pool when it has several
// slots.
func newRing(slots, n int) []byte {
	if slots > 1 {
		return rings.get(n)
	}
	return make([]byte, n)
}

// release wipes the ring of a Reader that has returned its final segment,
// with the crew when one is running, and gives it back to the pool. Only
// rings from the pool are wiped: a sequential Reader's ring is left to the
// collector, as before.
func (r *Reader) release() {
	if r.slots <= 1 || r.ring == nil {
		return
	}
	if r.crew != nil {
		r.wiping = true
		for s := range r.slots {
			r.crew.submit(s)
		}
		for s := range r.slots {
			r.crew.wait(s)
		}
		r.wiping = false
	} else {
		clear(r.ring)
	}
	rings.put(r.ring)
	r.ring = nil
	if r.at == nil && r.part != nil {
		// writeFromMemory's slot for a segment cut off by the end of a
		// chunk: it held the final segment.
		clear(r.part)
		rings.put(r.part)
		r.part = nil
	}
}

// memSource is a source that holds the message in memory and hands it out
// by WriteTo without copying: *bytes.Reader and *bytes.Buffer.
type memSource interface {
	io.Reader
	io.WriterTo
}

func inMemory(src io.Reader) memSource {
	switch s := src.(type) {
	case *bytes.Reader:
		return s
	case *bytes.Buffer:
		return s
	}
	return nil
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
// slots. With concurrency it opens several segments at once. When the source
// holds the message in memory (a *bytes.Reader or *bytes.Buffer), segments
// are opened straight from it, without copying them first.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	if r.at != nil && r.slots > 1 && r.err == nil && len(r.cur) == 0 && !r.done {
		return r.writeFromAt(w)
	}
	if r.mem != nil && r.err == nil && r.rd == 0 && r.dl == 0 && r.have == 0 && len(r.cur) == 0 {
		return r.writeFromMemory(w)
	}
	if r.lanes > 1 && r.at == nil && r.err == nil && r.crew == nil {
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
		r.release()
		return
	}
	if r.at != nil {
		r.advanceAt()
		return
	}
	if r.lanes == 1 {
		r.advanceSeq()
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

// do opens the segment in slot s in place, reading it first from a source
// read at offsets.
func (r *Reader) do(lane, s int) {
	if r.wiping {
		clear(r.ring[s*r.stride : min((s+1)*r.stride, len(r.ring))])
		return
	}
	if r.at != nil {
		if err := r.readAt(r.ring[s*r.stride:s*r.stride+r.size[s]], uint64(r.ctr[s])); err != nil {
			r.pt[s], r.fetch[s] = nil, err
			return
		}
	}
	if r.last[s] && r.size[s] == segmentOverhead && r.ctr[s] > 0 {
		// An empty final segment after data: every tag may verify, but it
		// is not the encoding of any plaintext (FORMAT.md §5.3).
		r.pt[s], r.bad[s] = nil, true
		return
	}
	ct := r.from[s]
	if ct == nil {
		ct = r.ring[s*r.stride : s*r.stride+r.size[s]]
	}
	pt, err := r.keys.Open(lane, r.ring[s*r.stride:s*r.stride], ct, r.ctr[s], r.last[s], r.aad)
	r.pt[s], r.bad[s] = pt, err != nil
}

// advanceSeq is advance without concurrency: it reads the next segment and
// one byte more into the single slot, and opens it in place.
func (r *Reader) advanceSeq() {
	r.resume()
	for r.have <= r.stride && !r.eof {
		if r.have == len(r.ring) {
			r.grow()
		}
		n, err := r.src.Read(r.ring[r.have:])
		r.have += n
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			r.err = err
			return
		}
	}
	last := r.eof && r.have <= r.stride
	r.cur, r.err = r.openSeq(r.ring[:min(r.have, r.stride)], last, !last)
}

// grow gives a slot sized to a small message room for a whole segment and
// the byte after it, in case the source has more than it said.
func (r *Reader) grow() {
	r.ring = append(r.ring, make([]byte, r.stride+1-len(r.ring))...)
	r.part = r.ring
}

// resume starts the next segment with the byte carried over from the last.
func (r *Reader) resume() {
	if r.carried {
		r.ring[0], r.have, r.carried = r.carry, 1, false
	}
}

// openSeq opens segment dl, whose ciphertext is ct, into the slot (in place
// when ct is the slot), and returns its plaintext. With carry, the byte after
// the segment, at ring[stride], starts the next one.
func (r *Reader) openSeq(ct []byte, last, carry bool) ([]byte, error) {
	c := r.dl
	switch {
	case len(ct) == 0:
		return nil, notAuthentic("message ends before its final segment")
	case !last && c >= format.MaxSegments-1:
		return nil, fmt.Errorf("%w: %w: more than 2^32 segments", ErrFormat, ErrLimit)
	case last && len(ct) == segmentOverhead && c > 0:
		// An empty final segment after data: every tag may verify, but it
		// is not the encoding of any plaintext (FORMAT.md §5.3).
		return nil, notAuthentic("a segment does not authenticate (tampered, truncated or reordered)")
	}
	if carry {
		r.carry, r.carried = r.part[r.stride], true
	}
	pt, err := r.keys.Open(0, r.part[:0], ct, uint32(c), last, r.aad)
	if err != nil {
		return nil, notAuthentic("a segment does not authenticate (tampered, truncated or reordered)")
	}
	r.have = 0
	r.dl++
	r.sub = r.dl
	r.done = last
	if r.entry != nil {
		r.cache.charge(r.entry, uint64(len(pt)))
	}
	return pt, nil
}

// writeFromMemory is WriteTo for a message in memory, before any of its body
// was read: the source hands its bytes to a sink, which opens every segment
// that has more bytes after it straight from them into the slot, and
// buffers only what the end of a chunk cuts off.
func (r *Reader) writeFromMemory(w io.Writer) (int64, error) {
	s := &memSink{r: r, w: w}
	if r.lanes > 1 {
		// Whole segments go to the crew, opened from the source into the
		// ring; one that a chunk's end cuts off waits in a slot of its own
		// (part, taken when needed).
		r.crew = newCrew(r, r.lanes, r.slots)
		defer func() {
			r.crew.stop()
			r.crew = nil
			clear(r.from) // hold no reference to the source's memory
		}()
	}
	var err error
	if len(r.rest) > 0 {
		_, err = s.Write(r.rest)
		r.rest = nil
	}
	if err == nil {
		_, err = r.mem.WriteTo(s)
	}
	if err == nil && !r.done {
		r.eof = true
		var pt []byte
		if pt, err = r.openSeq(r.part[:r.have], true, false); err == nil {
			err = s.emit(pt)
		}
	}
	if err != nil {
		if r.err == nil {
			r.err = err
		}
		return s.n, err
	}
	r.err = io.EOF
	r.release()
	return s.n, nil
}

// memSink receives a message body from its source's WriteTo.
type memSink struct {
	r *Reader
	w io.Writer
	n int64 // plaintext bytes written to w
}

func (s *memSink) emit(pt []byte) error {
	n, err := s.w.Write(pt)
	s.n += int64(n)
	if err == nil && n < len(pt) {
		err = io.ErrShortWrite
	}
	return err
}

// Write opens the segments in p. A segment is not the last when at least
// one byte follows it; the bytes of one that p ends too early to tell about
// wait in part for the next Write, or for the end of the source. With a
// crew, whole segments are queued and all are written out before Write
// returns, so that nothing holds on to p.
func (s *memSink) Write(p []byte) (int, error) {
	r := s.r
	n := len(p)
	for len(p) > 0 {
		var ct []byte
		last := false
		switch {
		case r.finalLen > 0 && r.sub > r.final:
			// Bytes after the final segment the source's length named: the
			// source had more than it said.
			return n - len(p), notAuthentic("data after the final segment")
		case r.finalLen > 0 && r.have == 0 && r.sub == r.final && len(p) >= r.finalLen:
			// The final segment, known by the source's length: opened
			// straight from p like the others, by the crew if there is one.
			ct, p, last = p[:r.finalLen], p[r.finalLen:], true
			if r.crew != nil {
				if err := s.queue(ct, true); err != nil {
					return n - len(p), err
				}
				continue
			}
		case r.have == 0 && len(p) > r.stride && r.crew != nil:
			if err := s.queue(p[:r.stride], false); err != nil {
				return n - len(p), err
			}
			p = p[r.stride:]
			continue
		case r.have == r.stride: // a full segment waited, and more follows
			ct = r.part[:r.stride]
		case r.have == 0 && len(p) > r.stride: // opened out of place, from p
			ct, p = p[:r.stride], p[r.stride:]
		default:
			if r.part == nil {
				r.part = rings.get(r.stride) // with a crew; else part is the ring
			}
			if r.have == len(r.part) {
				r.grow()
			}
			k := copy(r.part[r.have:min(r.stride, len(r.part))], p)
			r.have += k
			p = p[k:]
			continue
		}
		if err := s.drain(); err != nil {
			return n - len(p), err
		}
		pt, err := r.openSeq(ct, last, false)
		if err == nil {
			err = s.emit(pt)
		}
		if err != nil {
			return n - len(p), err
		}
	}
	return n - len(p), s.drain()
}

// queue hands segment sub to the crew, writing out the oldest queued
// segment first if every slot is taken. Unless it is the last, more bytes
// follow it.
func (s *memSink) queue(ct []byte, last bool) error {
	r := s.r
	if r.sub >= format.MaxSegments || (!last && r.sub >= format.MaxSegments-1) {
		return fmt.Errorf("%w: %w: more than 2^32 segments", ErrFormat, ErrLimit)
	}
	if r.sub-r.dl >= uint64(r.slots) {
		if err := s.retire(); err != nil {
			return err
		}
	}
	i := r.slot(r.sub)
	r.from[i], r.size[i], r.ctr[i], r.last[i] = ct, len(ct), uint32(r.sub), last
	r.crew.submit(i)
	r.sub++
	return nil
}

// retire waits for the oldest queued segment and writes it out.
func (s *memSink) retire() error {
	r := s.r
	i := r.slot(r.dl)
	r.crew.wait(i)
	r.from[i] = nil
	r.dl++
	if r.bad[i] {
		return notAuthentic("a segment does not authenticate (tampered, truncated or reordered)")
	}
	if r.entry != nil {
		r.cache.charge(r.entry, uint64(len(r.pt[i])))
	}
	r.done = r.last[i]
	return s.emit(r.pt[i])
}

// drain writes out every queued segment, up to the first failure. (The
// crew finishes what is left when it stops; nothing more is written.)
func (s *memSink) drain() error {
	for s.r.dl < s.r.sub {
		if err := s.retire(); err != nil {
			return err
		}
	}
	return nil
}
