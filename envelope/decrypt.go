package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

// Decryptor decrypts messages with the master keys it allows. Like
// Encryptor, it is read-only configuration and safe for concurrent use while
// its fields are not changed.
type Decryptor struct {
	// Keys are allowed by exact key ARN and tried first, in this order. The
	// key that decrypts the data key must be the one the message names
	// (ErrKeyMismatch otherwise).
	Keys []MasterKey

	// Discovery filters allow any key of the listed accounts and region. They
	// are tried after Keys, in order, for the encrypted data keys Keys did not
	// cover.
	Discovery []Discovery

	// MaxEncryptedKeys rejects messages with more encrypted data keys
	// before any KMS call. It bounds the work an untrusted message can cause.
	// 0 means MaxEncryptedKeys (16).
	MaxEncryptedKeys int

	// Concurrency is the number of segments opened at once. 0 or 1 means one
	// at a time.
	Concurrency int
}

func (d *Decryptor) check() error {
	if len(d.Keys) == 0 && len(d.Discovery) == 0 {
		return errors.New("envelope: Decryptor allows no keys (set Keys or Discovery)")
	}
	if err := checkMasterKeys(d.Keys, "Decryptor.Keys"); err != nil {
		return err
	}
	for _, f := range d.Discovery {
		if err := f.check(); err != nil {
			return err
		}
	}
	if d.MaxEncryptedKeys < 0 || d.MaxEncryptedKeys > MaxEncryptedKeys {
		return fmt.Errorf("envelope: MaxEncryptedKeys %d outside [0, %d]", d.MaxEncryptedKeys, MaxEncryptedKeys)
	}
	return nil
}

// contextEqual reports whether the caller's expected context is exactly the
// stored one (nil and empty are the same).
func contextEqual(stored []format.Pair, want map[string]string) bool {
	if len(stored) != len(want) {
		return false
	}
	for _, p := range stored {
		if v, ok := want[p.Key]; !ok || v != p.Value {
			return false
		}
	}
	return true
}

// opened is the result of Decryptor.open.
type opened struct {
	keys    *stream.Keys // still holding the header key; callers wipe it
	keyARN  string       // the master key that decrypted the data key
	dataKey []byte       // only if asked for; the caller wipes it
}

// open checks the context, decrypts the data key with an allowed master key,
// and verifies the key commitment and the header tag.
func (d *Decryptor) open(ctx context.Context, h *format.Parsed, encCtx map[string]string, lanes int, wantDataKey bool) (*opened, error) {
	if !contextEqual(h.Context, encCtx) {
		return nil, notAuthentic("encryption context differs from the message's")
	}
	kmsCtx := format.ContextMap(h.Context)

	arns := make([]arn.ARN, len(h.Keys))
	valid := make([]bool, len(h.Keys))
	names := make([]string, len(h.Keys))
	for i, k := range h.Keys {
		names[i] = k.ARN
		if a, err := parseKeyARN(k.ARN); err == nil {
			arns[i], valid[i] = a, true
		}
	}
	tried := make([]bool, len(h.Keys))
	var errs []error
	try := func(svc KeyService, i int) (*opened, error) {
		tried[i] = true
		k := h.Keys[i]
		dk, err := svc.Decrypt(ctx, k.ARN, k.Blob, kmsCtx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, &KeyError{KeyARN: k.ARN, Op: "Decrypt", Err: err})
			return nil, nil
		}
		defer clear(dk)
		if len(dk) != stream.DataKeySize {
			errs = append(errs, &KeyError{KeyARN: k.ARN, Op: "Decrypt",
				Err: fmt.Errorf("data key has %d bytes, want %d", len(dk), stream.DataKeySize)})
			return nil, nil
		}
		keys, err := stream.Derive(format.Suite1, dk, h.Salt[:], lanes)
		if err != nil {
			return nil, err
		}
		// Commitment first: a data key that does not match it says nothing
		// about the header, and no other EDK is tried (FORMAT.md §5.2).
		if !keys.CheckCommitment(h.Commitment[:]) {
			return nil, notAuthentic("key commitment does not match the data key")
		}
		if !keys.CheckHeaderTag(h.Authd, h.Tag[:]) {
			return nil, notAuthentic("header tag does not verify")
		}
		o := &opened{keys: keys, keyARN: k.ARN}
		if wantDataKey {
			o.dataKey = bytes.Clone(dk)
		}
		return o, nil
	}

	for _, mk := range d.Keys {
		want, _ := parseKeyARN(mk.ARN) // validated by check
		for i := range h.Keys {
			if valid[i] && !tried[i] && arns[i] == want {
				if o, err := try(mk.Service, i); o != nil || err != nil {
					return o, err
				}
			}
		}
	}
	for _, f := range d.Discovery {
		for i := range h.Keys {
			if valid[i] && !tried[i] && f.allows(arns[i]) {
				if o, err := try(f.Service, i); o != nil || err != nil {
					return o, err
				}
			}
		}
	}
	return nil, &NoKeyError{KeyARNs: names, Errors: errs}
}

// Decrypt decrypts a whole message. encCtx must equal the context the
// message was encrypted with (nil for none). Otherwise the result is
// ErrNotAuthentic, before any KMS call. On any error it returns no
// plaintext.
func (d *Decryptor) Decrypt(ctx context.Context, msg []byte, encCtx map[string]string) ([]byte, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	h, n, err := format.ParseBytes(msg, d.MaxEncryptedKeys)
	if err != nil {
		return nil, err
	}
	seg, stride := h.SegmentSize, h.SegmentSize+segmentOverhead
	body := msg[n:]
	// Check the body's shape before asking KMS for anything.
	full, rem := len(body)/stride, len(body)%stride
	m := full
	if rem > 0 {
		m++
	}
	switch {
	case len(body) == 0:
		return nil, notAuthentic("message ends before its final segment")
	case rem > 0 && rem < segmentOverhead:
		return nil, notAuthentic("final segment is shorter than a tag")
	case rem == segmentOverhead && full > 0:
		return nil, notAuthentic("empty final segment after data")
	case int64(m) > format.MaxSegments:
		return nil, fmt.Errorf("%w: %w: more than 2^32 segments", ErrFormat, ErrLimit)
	}
	o, err := d.open(ctx, h, encCtx, lanes(d.Concurrency), false)
	if err != nil {
		return nil, err
	}
	keys := o.keys
	keys.WipeHeaderKey()
	aad := format.Digest(h.Fixed)

	out := make([]byte, len(body)-m*segmentOverhead)
	var failed atomic.Bool
	forEach(keys.Lanes(), m, jobFunc(func(lane, j int) {
		ct := body[j*stride : min((j+1)*stride, len(body))]
		if _, err := keys.Open(lane, out[j*seg:j*seg], ct, uint32(j), j == m-1, aad[:]); err != nil {
			failed.Store(true)
		}
	}))
	if failed.Load() {
		clear(out)
		return nil, notAuthentic("a segment does not authenticate (tampered, truncated or reordered)")
	}
	return out, nil
}

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
	o, err := d.open(ctx, h, encCtx, lanes(d.Concurrency), false)
	if err != nil {
		return nil, err
	}
	keys, keyARN := o.keys, o.keyARN
	keys.WipeHeaderKey()
	if len(rest) > 0 {
		src = io.MultiReader(bytes.NewReader(rest), src)
	}
	batch := batchSegments(keys.Lanes(), h.SegmentSize)
	stride := h.SegmentSize + segmentOverhead
	return &Reader{
		src: src, keys: keys, aad: format.Digest(h.Fixed), seg: h.SegmentSize, stride: stride,
		batch: batch, slots: batch + 1, buf: make([]byte, (batch+1)*stride),
		lens: make([]int, batch+1), out: make([][]byte, 0, batch+1), failed: make([]bool, batch+1),
		keyARN: keyARN,
	}, nil
}

// Reader decrypts a stream. It implements io.Reader and io.WriterTo. It
// returns a segment's plaintext only after that segment's tag has verified,
// so whatever it has returned is authentic. Truncation, reordering or
// tampering ends the stream with ErrNotAuthentic, never with io.EOF. It is not
// safe for concurrent use.
type Reader struct {
	src    io.Reader
	keys   *stream.Keys
	aad    [format.DigestSize]byte
	seg    int
	stride int
	batch  int
	// buf is a ring of slots (batch+1) of stride bytes. A segment is read
	// into a slot of its own, so every copy lands aligned. The segment after
	// a batch is read ahead, to learn whether the batch ends the message,
	// and starts the next batch where it lies.
	buf     []byte
	slots   int
	start   int      // slot of the first segment of the next batch
	pending bool     // the slot at start holds a segment read ahead
	eof     bool     // the source is exhausted
	lens    []int    // ciphertext bytes of each segment of the batch
	out     [][]byte // verified plaintext of the current batch, in order
	outPos  int      // out[outPos:] are still to be returned
	cur     []byte   // what is left of the segment being returned
	next    uint64   // counter of the next segment
	failed  []bool
	err     error // set once; io.EOF after the final segment
	keyARN  string

	// The batch being opened (see do).
	jobM     int
	jobFinal bool
}

// KeyARN returns the master key that decrypted the data key.
func (r *Reader) KeyARN() string { return r.keyARN }

// String describes the Reader without its buffers or keys.
func (r *Reader) String() string {
	return fmt.Sprintf("envelope.Reader{segment size %d, key %s}", r.seg, r.keyARN)
}

// GoString is String, so %#v prints no buffer or key either.
func (r *Reader) GoString() string { return r.String() }

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
		if r.outPos < len(r.out) {
			r.cur = r.out[r.outPos]
			r.outPos++
			continue
		}
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
}

// WriteTo writes the rest of the plaintext to w, straight from the Reader's
// buffer.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
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
		if r.outPos < len(r.out) {
			r.cur = r.out[r.outPos]
			r.outPos++
			continue
		}
		if r.err == io.EOF {
			return total, nil
		}
		if r.err != nil {
			return total, r.err
		}
		r.fill()
	}
}

// fill reads and opens the next batch of segments. It sets r.out to the
// plaintexts that verified, in order, and r.err when the stream ends or
// fails, after those.
func (r *Reader) fill() {
	// Read until the batch is complete and one more segment is read ahead,
	// or the source ends.
	k := 0 // segments read: the batch's are 0 … k-1
	if r.pending {
		r.lens[0], k = r.lens[len(r.lens)-1], 1
	}
	for !r.eof && k <= r.batch {
		n, err := io.ReadFull(r.src, r.slot((r.start+k)%r.slots))
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			r.eof = true
		default:
			r.finish(err)
			return
		}
		if n > 0 {
			r.lens[k] = n
			k++
		}
	}
	m, final := k, r.eof
	if !final {
		// Segment batch (its length in lens[batch]) was read ahead: it is
		// the next batch's first.
		m = r.batch
	}
	r.pending = !final

	if m == 0 {
		r.finish(notAuthentic("message ends before its final segment"))
		return
	}
	if final {
		last := r.lens[m-1]
		if last < segmentOverhead {
			r.finish(notAuthentic("final segment is shorter than a tag"))
			return
		}
		if last == segmentOverhead && r.next+uint64(m) > 1 {
			r.finish(notAuthentic("empty final segment after data"))
			return
		}
	}
	if r.next+uint64(m) > format.MaxSegments || (!final && r.next+uint64(m) == format.MaxSegments) {
		r.finish(fmt.Errorf("%w: %w: more than 2^32 segments", ErrFormat, ErrLimit))
		return
	}
	r.out, r.outPos = r.out[:m], 0
	r.jobM, r.jobFinal = m, final
	forEach(r.keys.Lanes(), m, r)
	r.next += uint64(m)
	r.start = (r.start + m) % r.slots
	for j := 0; j < m; j++ {
		if r.failed[j] {
			r.out = r.out[:j] // segments before j verified and are released
			r.finish(notAuthentic("a segment does not authenticate (tampered, truncated or reordered)"))
			return
		}
	}
	if final {
		r.finish(io.EOF)
	}
}

// slot returns slot i of the ring.
func (r *Reader) slot(i int) []byte { return r.buf[i*r.stride : (i+1)*r.stride] }

// do opens segment j of the current batch in place.
func (r *Reader) do(lane, j int) {
	ct := r.slot((r.start + j) % r.slots)[:r.lens[j]]
	pt, err := r.keys.Open(lane, ct[:0], ct, uint32(r.next)+uint32(j), r.jobFinal && j == r.jobM-1, r.aad[:])
	r.out[j], r.failed[j] = pt, err != nil
}

// finish ends the stream with err once the verified plaintext in r.out has
// been returned.
func (r *Reader) finish(err error) {
	r.err = err
	r.pending = false
	r.keys = nil
}
