package envelope

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

// NewReaderAt returns a Reader for the message of size bytes at the start of
// src: a file, or any source that can be read at offsets. encCtx must equal
// the message's context, as for Decrypt.
//
// Knowing where the message ends, the Reader needs no read ahead: it reads
// each segment with one ReadAt straight into the slot it is opened in, and
// the segment that ends at size is opened as the last. With Concurrency > 1,
// WriteTo has each goroutine read and open segments of its own, so that the
// reads run in parallel too (io.ReaderAt allows that) and a segment stays in
// the cache of the core that reads it. Read opens one segment at a time.
//
// A size other than the message's own fails like a truncated or extended
// message (ErrNotAuthentic, or ErrFormat when it cuts the header), never
// with a clean end; so does a source shorter than size. Other read errors
// are returned as they are.
func (d *Decryptor) NewReaderAt(ctx context.Context, src io.ReaderAt, size int64, encCtx map[string]string) (*Reader, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("envelope: NewReaderAt: nil source")
	}
	if size < 0 {
		return nil, fmt.Errorf("envelope: NewReaderAt: negative size %d", size)
	}
	h, _, err := format.Read(io.NewSectionReader(src, 0, size), d.MaxEncryptedKeys)
	if err != nil {
		return nil, err
	}
	// Check the body's shape before asking KMS for anything.
	hl := int64(len(h.Authd)) + stream.HeaderTagSize
	stride := int64(h.SegmentSize + segmentOverhead)
	body := size - hl
	full, rem := body/stride, body%stride
	segs := full
	if rem > 0 {
		segs++
	}
	switch {
	case body <= 0:
		return nil, notAuthentic("message ends before its final segment")
	case rem > 0 && rem < segmentOverhead:
		return nil, notAuthentic("final segment is shorter than a tag")
	case rem == segmentOverhead && full > 0:
		return nil, notAuthentic("empty final segment after data")
	case segs > format.MaxSegments:
		return nil, fmt.Errorf("%w: %w: more than 2^32 segments", ErrFormat, ErrLimit)
	}
	o, err := d.open(ctx, h, encCtx, lanes(d.Concurrency), 0)
	if err != nil {
		return nil, err
	}
	o.keys.WipeHeaderKey()
	o.keys.SetAAD(format.Digest(h.Fixed))
	lanes := o.keys.Lanes()
	slots := 1
	if lanes > 1 {
		slots = int(min(int64(ringSlots(lanes, int(stride))), segs))
	}
	// One slot holds the largest segment, which may be the message's only
	// one and smaller than a full segment.
	ringLen := int(min(stride, body))
	if slots > 1 {
		ringLen = slots * int(stride)
	}
	r := &Reader{
		at: src, atOff: hl, atEnd: size, segs: uint64(segs),
		keys: o.keys, aad: o.keys.AAD(), seg: h.SegmentSize, stride: int(stride),
		lanes: lanes, slots: slots, ring: newRing(slots, ringLen),
		size: make([]int, slots), ctr: make([]uint32, slots), last: make([]bool, slots),
		pt: make([][]byte, slots), bad: make([]bool, slots), from: make([][]byte, slots), fetch: make([]error, slots),
		keyARN: o.keyARN, cache: d.Cache, entry: o.entry,
	}
	r.part = r.ring
	return r, nil
}

// segSize returns the length of segment c of a message read at offsets.
func (r *Reader) segSize(c uint64) int {
	return int(min(int64(r.stride), r.atEnd-r.atOff-int64(c)*int64(r.stride)))
}

// readAt reads segment c into ct, which is segSize(c) long. A source that
// ends early is a truncated message.
func (r *Reader) readAt(ct []byte, c uint64) error {
	n, err := r.at.ReadAt(ct, r.atOff+int64(c)*int64(r.stride))
	switch {
	case n == len(ct):
		return nil // at the end of the source, ReadAt may say io.EOF too
	case err == nil, err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		return notAuthentic("message ends before its final segment")
	default:
		return err
	}
}

// advanceAt is advance for a message read at offsets: it reads segment dl
// into the first slot and opens it there.
func (r *Reader) advanceAt() {
	c := r.dl
	ct := r.ring[:r.segSize(c)]
	if err := r.readAt(ct, c); err != nil {
		r.err = err
		return
	}
	r.cur, r.err = r.openSeq(ct, c == r.segs-1, false)
}

// writeFromAt is WriteTo for a message read at offsets, with concurrency:
// the crew reads and opens each segment in its slot, while the caller writes
// out the oldest one.
func (r *Reader) writeFromAt(w io.Writer) (int64, error) {
	r.crew = newCrew(r, r.lanes, r.slots)
	defer func() {
		r.crew.stop()
		r.crew = nil
	}()
	var total int64
	r.sub = r.dl
	for !r.done {
		for r.sub < r.segs && r.sub-r.dl < uint64(r.slots) {
			s := r.slot(r.sub)
			r.size[s], r.ctr[s], r.last[s], r.fetch[s] = r.segSize(r.sub), uint32(r.sub), r.sub == r.segs-1, nil
			r.crew.submit(s)
			r.sub++
		}
		s := r.slot(r.dl)
		r.crew.wait(s)
		switch {
		case r.fetch[s] != nil:
			r.err = r.fetch[s]
		case r.bad[s]:
			r.err = notAuthentic("a segment does not authenticate (tampered, truncated or reordered)")
		}
		if r.err != nil {
			return total, r.err
		}
		pt := r.pt[s]
		r.dl++
		r.done = r.last[s]
		if r.entry != nil {
			r.cache.charge(r.entry, uint64(len(pt)))
		}
		n, err := w.Write(pt)
		total += int64(n)
		if err == nil && n < len(pt) {
			err = io.ErrShortWrite
		}
		if err != nil {
			// What is not written stays for the next Read; later
			// segments are read again from the source.
			r.cur = pt[n:]
			return total, err
		}
	}
	r.err = io.EOF
	r.release()
	return total, nil
}
