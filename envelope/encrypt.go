package envelope

import (
	"context"
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
	// DefaultSegmentSize. A Writer holds one segment in memory (a declared
	// small message: its own size), or with Concurrency > 1 two to eight per
	// goroutine (eight while they take at most 1 MiB), up to 64 MiB.
	SegmentSize int

	// Concurrency is the number of goroutines that seal segments: 0 or 1
	// means the caller's only; runtime.GOMAXPROCS(0) uses every core. The
	// output is the same bytes either way. Streams use the extra goroutines
	// in bulk calls (a Write of many segments at once, ReadFrom, which
	// io.Copy uses); they never outlive the call.
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
	keyARN  string                 // on the decrypt side: the master key that decrypted it
	one     [1]format.EncryptedKey // backs keys for the usual single master key
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
	m := new(materials)
	var err error
	m.dataKey, m.keys, err = e.generateKeys(ctx, encCtx, m.one[:0])
	if err != nil {
		return nil, err
	}
	return m, nil
}

// generateKeys is generate's work: it returns the plaintext data key and
// its encrypted copies, appended to keys. A message without a cache passes
// keys with room for one on its stack and keeps its materials there too:
// materials whose keys point into themselves, or filled through a pointer,
// would always go to the heap.
func (e *Encryptor) generateKeys(ctx context.Context, encCtx map[string]string, keys []format.EncryptedKey) ([]byte, []format.EncryptedKey, error) {
	first := e.Keys[0]
	dk, blob, err := first.Service.GenerateDataKey(ctx, first.ARN, encCtx)
	if err != nil {
		return nil, nil, &KeyError{KeyARN: first.ARN, Op: "GenerateDataKey", Err: err}
	}
	if len(dk) != stream.DataKeySize {
		clear(dk)
		return nil, nil, &KeyError{KeyARN: first.ARN, Op: "GenerateDataKey",
			Err: fmt.Errorf("data key has %d bytes, want %d", len(dk), stream.DataKeySize)}
	}
	keys = keys[:0]
	if len(e.Keys) > cap(keys) {
		keys = make([]format.EncryptedKey, 0, len(e.Keys))
	}
	keys = append(keys, format.EncryptedKey{ARN: first.ARN, Blob: blob})
	for _, k := range e.Keys[1:] {
		blob, err := k.Service.Encrypt(ctx, k.ARN, dk, encCtx)
		if err != nil {
			clear(dk)
			return nil, nil, &KeyError{KeyARN: k.ARN, Op: "Encrypt", Err: err}
		}
		keys = append(keys, format.EncryptedKey{ARN: k.ARN, Blob: blob})
	}
	for _, k := range keys {
		if err := format.CheckKey(k); err != nil {
			clear(dk)
			return nil, nil, err
		}
	}
	return dk, keys, nil
}

func (m *materials) wipe() {
	clear(m.dataKey)
	m.dataKey = nil
}

// sealer is a message whose header is ready and whose segments can be
// sealed.
type sealer struct {
	header []byte       // with room for the body, if begin was asked for it
	keys   *stream.Keys // holding the header digest (AAD)
	seg    int
	segs   int64 // segments of the message, if its size was given
}

// begin validates the call, obtains materials (from the cache when size ≥ 0
// and a cache is set) and builds the header, in a buffer with room for room
// more bytes.
func (e *Encryptor) begin(ctx context.Context, encCtx map[string]string, size int64, room int) (sealer, error) {
	if err := e.check(); err != nil {
		return sealer{}, err
	}
	pairs, err := format.ContextPairs(encCtx)
	if err != nil {
		return sealer{}, err
	}
	seg := e.segmentSize()
	var segs int64
	if size >= 0 {
		if segs, err = segments(size, seg); err != nil {
			return sealer{}, err
		}
	}
	kmsCtx := format.ContextMap(pairs)
	// The data key and its encrypted copies: from the cache (a copy of the
	// entry's key), or made for this message alone, with room for one
	// encrypted key on the stack.
	var (
		dataKey []byte
		edks    []format.EncryptedKey
		one     [1]format.EncryptedKey
		copied  [stream.DataKeySize]byte
	)
	if e.Cache != nil && size >= 0 {
		var r cached
		r, err = e.Cache.lookup(ctx, cacheKey(encryptCacheTag, e.Keys, pairs), uint64(size), &copied, func(ctx context.Context) (*materials, error) {
			return e.generate(ctx, kmsCtx)
		})
		dataKey, edks = copied[:], r.keys
	} else {
		dataKey, edks, err = e.generateKeys(ctx, kmsCtx, one[:0])
	}
	if err != nil {
		return sealer{}, err
	}
	defer clear(dataKey)

	h := format.Header{SegmentSize: seg, Context: pairs, Keys: edks}
	buf := make([]byte, 0, h.Len()+room)
	if e.rand == nil {
		readSalt(h.Salt[:])
	} else {
		// A test's salt source is read into the message buffer, where the
		// fixed part will hold it: h.Salt would escape to the io.Reader.
		salt := buf[format.SaltOffset : format.SaltOffset+len(h.Salt)]
		if _, err := io.ReadFull(e.rand, salt); err != nil {
			return sealer{}, fmt.Errorf("envelope: reading a salt: %w", err)
		}
		copy(h.Salt[:], salt)
	}
	keys, err := stream.Derive(format.Suite1, dataKey, h.Salt[:], lanes(e.Concurrency))
	if err != nil {
		return sealer{}, err
	}
	h.Commitment = keys.Commitment()
	if err := h.Validate(); err != nil {
		return sealer{}, err
	}
	s := sealer{keys: keys, seg: seg, segs: segs}
	s.header = h.AppendFixed(buf)
	keys.SetAAD(format.Digest(s.header))
	s.header = format.AppendPad(h.AppendKeys(s.header))
	tag := keys.HeaderTag(s.header)
	keys.WipeHeaderKey()
	s.header = append(s.header, tag[:]...)
	return s, nil
}

// Encrypt encrypts plaintext in one call and returns the whole message. The
// encryption context (may be nil) is sent to KMS, stored in the message, and
// bound to every segment; Decrypt must be given the same context.
func (e *Encryptor) Encrypt(ctx context.Context, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	seg := e.segmentSize()
	m, err := segments(int64(len(plaintext)), max(seg, 1))
	if err != nil {
		if cerr := e.check(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	s, err := e.begin(ctx, encCtx, int64(len(plaintext)), len(plaintext)+int(m)*segmentOverhead)
	if err != nil {
		return nil, err
	}
	hl := len(s.header)
	out := s.header[:hl+len(plaintext)+int(m)*segmentOverhead]
	if s.keys.Lanes() > 1 && m > 1 {
		sealAll(s.keys, out[hl:], plaintext, seg, int(m))
		return out, nil
	}
	body, stride := out[hl:], seg+segmentOverhead
	for j := range int(m) {
		src := plaintext[j*seg : min((j+1)*seg, len(plaintext))]
		s.keys.Seal(0, body[j*stride:j*stride], src, uint32(j), j == int(m)-1, s.keys.AAD())
	}
	return out, nil
}

// sealAll seals the m segments of plaintext into body on every lane of keys.
// It is Encrypt's parallel path, apart so that the sequential one allocates
// no closure.
func sealAll(keys *stream.Keys, body, plaintext []byte, seg, m int) {
	stride := seg + segmentOverhead
	forEach(keys.Lanes(), m, jobFunc(func(lane, j int) {
		src := plaintext[j*seg : min((j+1)*seg, len(plaintext))]
		keys.Seal(lane, body[j*stride:j*stride], src, uint32(j), j == m-1, keys.AAD())
	}))
}
