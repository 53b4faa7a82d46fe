package envelope

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

// Limits and defaults of format version 1 (FORMAT.md).
const (
	DefaultSegmentSize = 64 << 10              // plaintext bytes per segment
	MinSegmentSize     = format.MinSegmentSize // 64 bytes
	MaxSegmentSize     = format.MaxSegmentSize // 16 MiB
	MaxEncryptedKeys   = format.MaxKeys        // encrypted data keys per message
	MaxContextPairs    = format.MaxContextPairs
	MaxContextBytes    = format.MaxContextBytes // pairs with their 2-byte length prefixes
	segmentOverhead    = stream.TagSize
)

// Encryptor encrypts messages under one or more master keys. Its fields are
// read, never written, by its methods, so one Encryptor may serve many
// goroutines at once as long as nobody changes its fields meanwhile.
type Encryptor struct {
	// Keys are the master keys, at least one and at most MaxEncryptedKeys.
	// KMS GenerateDataKey makes the data key under Keys[0]. Each further key
	// gets the same data key through KMS Encrypt, so that any one of them can
	// decrypt the message, for example a second region for disaster
	// recovery, or a key the recipient account owns.
	Keys []MasterKey

	// SegmentSize is the number of plaintext bytes per segment. 0 means
	// DefaultSegmentSize. A stream holds one segment in memory, or with
	// Concurrency > 1 one batch of about 4 MiB (at least 4 segments per
	// goroutine).
	SegmentSize int

	// Concurrency is the number of segments sealed at once. 0 or 1 means one
	// at a time; use runtime.GOMAXPROCS(0) to use every core. The output is
	// the same bytes either way.
	Concurrency int

	// Cache, if set, lets messages with the same master keys and encryption
	// context share a data key, within the cache's limits. It is consulted
	// only when the plaintext length is known in advance: Encrypt and
	// NewSizedWriter, not NewWriter.
	Cache *Cache

	// rand is the salt source; nil means crypto/rand. Only tests set it,
	// to make test vectors reproducible.
	rand io.Reader
}

// materials are a data key and its encrypted copies.
type materials struct {
	dataKey []byte // plaintext, 32 bytes; wiped by whoever holds it last
	keys    []format.EncryptedKey
}

func (e *Encryptor) segmentSize() int {
	if e.SegmentSize == 0 {
		return DefaultSegmentSize
	}
	return e.SegmentSize
}

func lanes(concurrency int) int {
	if concurrency < 1 {
		return 1
	}
	return min(concurrency, 256)
}

func (e *Encryptor) check() error {
	if len(e.Keys) == 0 {
		return errors.New("envelope: Encryptor has no master keys")
	}
	if len(e.Keys) > MaxEncryptedKeys {
		return fmt.Errorf("%w: %d master keys, at most %d", ErrLimit, len(e.Keys), MaxEncryptedKeys)
	}
	if err := checkMasterKeys(e.Keys, "Encryptor.Keys"); err != nil {
		return err
	}
	return format.CheckSegmentSize(e.segmentSize())
}

// segments returns the number of segments for n plaintext bytes, or an error
// if a message of that length would need too many.
func segments(n int64, seg int) (int64, error) {
	m := max(1, (n+int64(seg)-1)/int64(seg))
	if m > format.MaxSegments {
		return 0, fmt.Errorf("%w: %d bytes need %d segments of %d, at most 2^32 allowed", ErrLimit, n, m, seg)
	}
	return m, nil
}

// generate makes fresh materials: GenerateDataKey under the first key, Encrypt
// under the others. A failure under any key fails the whole call: a message
// silently missing its recovery key would be worse.
func (e *Encryptor) generate(ctx context.Context, encCtx map[string]string) (*materials, error) {
	first := e.Keys[0]
	dk, blob, err := first.Service.GenerateDataKey(ctx, first.ARN, encCtx)
	if err != nil {
		return nil, &KeyError{KeyARN: first.ARN, Op: "GenerateDataKey", Err: err}
	}
	if len(dk) != stream.DataKeySize {
		clear(dk)
		return nil, &KeyError{KeyARN: first.ARN, Op: "GenerateDataKey",
			Err: fmt.Errorf("data key has %d bytes, want %d", len(dk), stream.DataKeySize)}
	}
	m := &materials{dataKey: dk, keys: make([]format.EncryptedKey, 0, len(e.Keys))}
	m.keys = append(m.keys, format.EncryptedKey{ARN: first.ARN, Blob: blob})
	for _, k := range e.Keys[1:] {
		blob, err := k.Service.Encrypt(ctx, k.ARN, dk, encCtx)
		if err != nil {
			m.wipe()
			return nil, &KeyError{KeyARN: k.ARN, Op: "Encrypt", Err: err}
		}
		m.keys = append(m.keys, format.EncryptedKey{ARN: k.ARN, Blob: blob})
	}
	for _, k := range m.keys {
		if err := format.CheckKey(k); err != nil {
			m.wipe()
			return nil, err
		}
	}
	return m, nil
}

func (m *materials) wipe() {
	clear(m.dataKey)
	m.dataKey = nil
}

// sealer is a message whose header is ready and whose segments can be
// sealed.
type sealer struct {
	header []byte
	keys   *stream.Keys
	aad    [format.DigestSize]byte
	seg    int
}

// begin validates the call, obtains materials (from the cache when size ≥ 0
// and a cache is set) and builds the header.
func (e *Encryptor) begin(ctx context.Context, encCtx map[string]string, size int64) (*sealer, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	pairs, err := format.ContextPairs(encCtx)
	if err != nil {
		return nil, err
	}
	seg := e.segmentSize()
	if size >= 0 {
		if _, err := segments(size, seg); err != nil {
			return nil, err
		}
	}
	kmsCtx := format.ContextMap(pairs)
	var m *materials
	if e.Cache != nil && size >= 0 {
		m, err = e.Cache.materials(ctx, cacheKey(e.Keys, pairs), uint64(size), func(ctx context.Context) (*materials, error) {
			return e.generate(ctx, kmsCtx)
		})
	} else {
		m, err = e.generate(ctx, kmsCtx)
	}
	if err != nil {
		return nil, err
	}
	defer m.wipe()

	h := &format.Header{SegmentSize: seg, Context: pairs, Keys: m.keys}
	src := e.rand
	if src == nil {
		src = rand.Reader
	}
	if _, err := io.ReadFull(src, h.Salt[:]); err != nil {
		return nil, fmt.Errorf("envelope: reading a salt: %w", err)
	}
	keys, err := stream.Derive(format.Suite1, m.dataKey, h.Salt[:], lanes(e.Concurrency))
	if err != nil {
		return nil, err
	}
	h.Commitment = keys.Commitment()
	if err := h.Validate(); err != nil {
		return nil, err
	}
	s := &sealer{keys: keys, seg: seg}
	s.header = h.AppendFixed(nil)
	s.aad = format.Digest(s.header)
	s.header = h.AppendKeys(s.header)
	tag := keys.HeaderTag(s.header)
	keys.WipeHeaderKey()
	s.header = append(s.header, tag[:]...)
	return s, nil
}

// Encrypt encrypts plaintext in one call and returns the whole message. The
// encryption context (may be nil) is sent to KMS, stored in the message, and
// bound to every segment; Decrypt must be given the same context.
func (e *Encryptor) Encrypt(ctx context.Context, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	s, err := e.begin(ctx, encCtx, int64(len(plaintext)))
	if err != nil {
		return nil, err
	}
	seg, stride := s.seg, s.seg+segmentOverhead
	m := max(1, (len(plaintext)+seg-1)/seg)
	out := make([]byte, len(s.header)+len(plaintext)+m*segmentOverhead)
	body := out[copy(out, s.header):]
	forEach(s.keys.Lanes(), m, jobFunc(func(lane, j int) {
		src := plaintext[j*seg : min((j+1)*seg, len(plaintext))]
		s.keys.Seal(lane, body[j*stride:j*stride], src, uint32(j), j == m-1, s.aad[:])
	}))
	return out, nil
}

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
	s, err := e.begin(ctx, encCtx, size)
	if err != nil {
		return nil, err
	}
	if _, err := dst.Write(s.header); err != nil {
		return nil, err
	}
	batch := batchSegments(s.keys.Lanes(), s.seg)
	stride := s.seg + segmentOverhead
	return &Writer{
		dst: dst, keys: s.keys, aad: s.aad, seg: s.seg, stride: stride, batch: batch,
		buf: make([]byte, batch*stride), limit: size,
	}, nil
}

// Writer encrypts a stream. It implements io.WriteCloser and io.ReaderFrom.
// It is not safe for concurrent use.
type Writer struct {
	dst    io.Writer
	keys   *stream.Keys
	aad    [format.DigestSize]byte
	seg    int
	stride int
	batch  int    // segments per batch: 1, or see batchSegments
	buf    []byte // batch slots of stride bytes; plaintext is sealed in place
	filled int    // plaintext bytes buffered, slot by slot
	next   uint64 // counter of the next segment
	limit  int64  // declared size, or -1
	total  int64  // plaintext bytes accepted
	peek   [1]byte
	err    error // sticky
	closed bool

	// The batch being sealed (see do).
	jobSrc   []byte // whole segments straight from the caller, or nil for buf
	jobM     int    // segments in the batch
	jobLast  int    // plaintext bytes in the final segment
	jobFinal bool   // the batch ends the message
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

// Write encrypts p. Full segments are sealed as soon as the Writer knows
// they are not the last; the rest waits in the buffer until more data or
// Close.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, ErrClosed
	}
	if w.limit >= 0 && int64(len(p)) > w.limit-w.total {
		return 0, w.fail(fmt.Errorf("%w: more than the declared %d bytes written", ErrLimit, w.limit))
	}
	n := len(p)
	capacity := w.batch * w.seg
	for len(p) > 0 {
		if w.filled == capacity {
			if err := w.flush(); err != nil {
				return n - len(p), err
			}
		}
		if w.filled == 0 && len(p) > capacity {
			// Whole segments straight from p: no copy. More of p follows,
			// so none of them is the last.
			if err := w.sealFrom(p[:capacity]); err != nil {
				return n - len(p), err
			}
			p = p[capacity:]
			w.total += int64(capacity)
			continue
		}
		j, off := w.filled/w.seg, w.filled%w.seg
		k := copy(w.buf[j*w.stride+off:j*w.stride+w.seg], p)
		w.filled += k
		w.total += int64(k)
		p = p[k:]
	}
	return n, nil
}

// ReadFrom encrypts everything r yields until io.EOF, reading straight into
// the Writer's buffer. It does not Close the Writer.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	var read int64
	capacity := w.batch * w.seg
	for {
		if w.err != nil {
			return read, w.err
		}
		if w.closed {
			return read, ErrClosed
		}
		var n int
		var err error
		switch {
		case w.limit >= 0 && w.total == w.limit:
			// Declared size reached: anything more is an error.
			if n, err = r.Read(w.peek[:]); n > 0 {
				return read, w.fail(fmt.Errorf("%w: more than the declared %d bytes written", ErrLimit, w.limit))
			}
		case w.filled == capacity:
			// The buffer is full; its last segment can be sealed only once
			// it is known not to be the last of the message.
			if n, err = r.Read(w.peek[:]); n > 0 {
				if ferr := w.flush(); ferr != nil {
					return read, ferr
				}
				w.buf[0] = w.peek[0]
				w.filled = 1
			}
		default:
			j, off := w.filled/w.seg, w.filled%w.seg
			room := w.buf[j*w.stride+off : j*w.stride+w.seg]
			if w.limit >= 0 && int64(len(room)) > w.limit-w.total {
				room = room[:w.limit-w.total]
			}
			n, err = r.Read(room)
			w.filled += n
		}
		read += int64(n)
		w.total += int64(n)
		if err == io.EOF {
			return read, nil
		}
		if err != nil {
			return read, err
		}
	}
}

// do seals segment j of the current batch into its slot of buf, from the
// slot itself (in place) or from jobSrc.
func (w *Writer) do(lane, j int) {
	n, final := w.seg, w.jobFinal && j == w.jobM-1
	if final {
		n = w.jobLast
	}
	var src []byte
	if w.jobSrc != nil {
		src = w.jobSrc[j*w.seg : j*w.seg+n]
	} else {
		src = w.buf[j*w.stride : j*w.stride+n]
	}
	w.keys.Seal(lane, w.buf[j*w.stride:j*w.stride], src, uint32(w.next)+uint32(j), final, w.aad[:])
}

// sealBatch seals m segments (from src, or in place when src is nil) and
// writes them out.
func (w *Writer) sealBatch(src []byte, m, last int, final bool) error {
	n := w.next + uint64(m)
	if n > format.MaxSegments || (!final && n == format.MaxSegments) {
		return w.fail(fmt.Errorf("%w: message would need more than 2^32 segments", ErrLimit))
	}
	w.jobSrc, w.jobM, w.jobLast, w.jobFinal = src, m, last, final
	forEach(w.keys.Lanes(), m, w)
	w.jobSrc = nil
	w.next = n
	return w.write(w.buf[:(m-1)*w.stride+last+segmentOverhead])
}

// flush seals and writes a full buffer; the caller knows more data follows.
func (w *Writer) flush() error {
	w.filled = 0
	return w.sealBatch(nil, w.batch, w.seg, false)
}

// sealFrom seals a batch of full, non-final segments straight from p.
func (w *Writer) sealFrom(p []byte) error {
	return w.sealBatch(p, w.batch, w.seg, false)
}

func (w *Writer) write(b []byte) error {
	if _, err := w.dst.Write(b); err != nil {
		return w.fail(err)
	}
	return nil
}

// Close seals the final segment and writes it. It does not close the
// destination. The message is incomplete, and fails to decrypt, without it.
// Calling Close again returns the first result.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	m := max(1, (w.filled+w.seg-1)/w.seg)
	err := w.sealBatch(nil, m, w.filled-(m-1)*w.seg, true)
	clear(w.buf)
	w.buf, w.keys = nil, nil
	return err
}
