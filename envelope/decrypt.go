package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	// cover. Each key ARN a message offers is first resolved with the
	// filter's KeyResolver (KMS DescribeKey), so a discovery filter needs
	// kms:DescribeKey as well as kms:Decrypt on the keys it finds.
	Discovery []Discovery

	// MaxEncryptedKeys rejects messages with more encrypted data keys
	// before any KMS call. It bounds the work an untrusted message can cause.
	// 0 means MaxEncryptedKeys (16).
	MaxEncryptedKeys int

	// Cache, if set, keeps the data keys this Decryptor gets from KMS, so
	// that messages sharing a data key (as an Encryptor with a Cache makes
	// them) cost one KMS Decrypt between them, within the cache's limits on
	// age, messages and plaintext bytes. Entries are keyed by the message's
	// encrypted data keys and encryption context; the key commitment and
	// header tag are still checked for every message. A Reader charges its
	// bytes to the entry as it releases them. Opt-in, like Encryptor.Cache;
	// one Cache may serve both sides.
	Cache *Cache

	// Concurrency is the number of goroutines that open segments: 0 or 1
	// means the caller's only. Decrypt uses them for the whole message, a
	// Reader in WriteTo (which io.Copy uses); Read opens one segment at a
	// time. A Reader holds one segment in memory (a small message in
	// memory: its own size), or with Concurrency > 1 two to eight per
	// goroutine (eight while they take at most 1 MiB), up to 64 MiB. The
	// segment size is the message writer's choice, at most 16 MiB.
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

// opened is the result of Decryptor.open and unwrap (a value: one
// allocation less per message).
type opened struct {
	keys    *stream.Keys // still holding the header key; callers wipe it
	keyARN  string       // the master key that decrypted the data key
	dataKey []byte       // only if asked for; the caller wipes it
	entry   *cacheEntry  // the cache entry the data key came from, if any
}

// open checks the caller's context against the message's, then unwraps. n
// is the plaintext length if known (one-shot), else 0: a Reader charges its
// bytes to the cache as it releases them.
func (d *Decryptor) open(ctx context.Context, h *format.Parsed, encCtx map[string]string, lanes int, n uint64) (opened, error) {
	if !contextEqual(h.Context, encCtx) {
		return opened{}, notAuthentic("encryption context differs from the message's")
	}
	return d.unwrap(ctx, h, format.ContextMap(h.Context), lanes, false, n)
}

// unwrap decrypts the data key with an allowed master key, sending kmsCtx
// (the message's context) to KMS, or takes it from the Decryptor's Cache,
// and verifies the key commitment and the header tag.
func (d *Decryptor) unwrap(ctx context.Context, h *format.Parsed, kmsCtx map[string]string, lanes int, wantDataKey bool, n uint64) (opened, error) {
	// The data key (a copy of a cache entry's, or this message's own) and
	// the master key that decrypted it, in variables rather than materials:
	// without a cache they stay on the stack.
	var (
		dataKey []byte
		keyARN  string
		entry   *cacheEntry
		err     error
		copied  [stream.DataKeySize]byte
	)
	if d.Cache != nil {
		var r cached
		r, err = d.Cache.lookup(ctx, decryptCacheKey(h.Keys, h.Context), n, &copied, func(ctx context.Context) (*materials, error) {
			dk, a, err := d.decryptDataKey(ctx, h, kmsCtx)
			if err != nil {
				return nil, err
			}
			return &materials{dataKey: dk, keyARN: a}, nil
		})
		switch {
		case err != nil:
		case !d.allows(r.keyARN):
			// Another Decryptor, trusting other keys, filled the entry: this
			// one must not use a key it would not have asked KMS for.
			clear(copied[:])
		default:
			dataKey, keyARN, entry = copied[:], r.keyARN, r.entry
		}
	}
	if dataKey == nil && err == nil {
		dataKey, keyARN, err = d.decryptDataKey(ctx, h, kmsCtx)
	}
	if err != nil {
		return opened{}, err
	}
	defer clear(dataKey)
	keys, err := stream.Derive(format.Suite1, dataKey, h.Salt[:], lanes)
	if err != nil {
		return opened{}, err
	}
	// Commitment first: a data key that does not match it says nothing
	// about the header, and no other EDK is tried (FORMAT.md §5.2).
	if !keys.CheckCommitment(h.Commitment[:]) {
		keys.WipeHeaderKey()
		return opened{}, notAuthentic("key commitment does not match the data key")
	}
	if !keys.CheckHeaderTag(h.Authd, h.Tag[:]) {
		keys.WipeHeaderKey()
		return opened{}, notAuthentic("header tag does not verify")
	}
	o := opened{keys: keys, keyARN: keyARN, entry: entry}
	if wantDataKey {
		o.dataKey = bytes.Clone(dataKey)
	}
	return o, nil
}

// allows reports whether the Decryptor trusts a key ARN: listed in Keys, or
// admitted by a discovery filter.
func (d *Decryptor) allows(keyARN string) bool {
	// The usual case, the same text as a listed key (which check has
	// parsed), needs no parsing.
	for _, mk := range d.Keys {
		if mk.ARN == keyARN {
			return true
		}
	}
	a, err := parseKeyARN(keyARN)
	if err != nil {
		return false
	}
	for _, mk := range d.Keys {
		if want, _ := parseKeyARN(mk.ARN); want == a {
			return true
		}
	}
	for _, f := range d.Discovery {
		if f.allows(a) {
			return true
		}
	}
	return false
}

// decryptDataKey asks the key services for the data key: each allowed EDK in
// the Decryptor's order, until one returns a key of the right size. It
// returns the key and the ARN of the master key that decrypted it.
func (d *Decryptor) decryptDataKey(ctx context.Context, h *format.Parsed, kmsCtx map[string]string) ([]byte, string, error) {
	// A parsed header holds at most MaxEncryptedKeys EDKs: the bookkeeping
	// fits on the stack.
	var (
		arns                 [MaxEncryptedKeys]arn.ARN
		parsed, valid, tried [MaxEncryptedKeys]bool
		errs                 []error
	)
	// An EDK's ARN is parsed only when it is compared by more than its text.
	arnOf := func(i int) (arn.ARN, bool) {
		if !parsed[i] {
			a, err := parseKeyARN(h.Keys[i].ARN)
			arns[i], valid[i], parsed[i] = a, err == nil, true
		}
		return arns[i], valid[i]
	}
	// try returns the data key, nil to go on to the next EDK, or an error
	// that ends the search.
	try := func(svc KeyService, i int) ([]byte, error) {
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
		if len(dk) != stream.DataKeySize {
			clear(dk)
			errs = append(errs, &KeyError{KeyARN: k.ARN, Op: "Decrypt",
				Err: fmt.Errorf("data key has %d bytes, want %d", len(dk), stream.DataKeySize)})
			return nil, nil
		}
		return dk, nil
	}

	for _, mk := range d.Keys {
		var want *arn.ARN
		for i := range h.Keys {
			if tried[i] {
				continue
			}
			// The same text is the same valid ARN (check validated mk.ARN).
			match := h.Keys[i].ARN == mk.ARN
			if !match {
				if want == nil {
					w, _ := parseKeyARN(mk.ARN) // validated by check
					want = &w
				}
				a, ok := arnOf(i)
				match = ok && a == *want
			}
			if match {
				if dk, err := try(mk.Service, i); dk != nil || err != nil {
					return dk, h.Keys[i].ARN, err
				}
			}
		}
	}
	for _, f := range d.Discovery {
		for i := range h.Keys {
			a, ok := arnOf(i)
			if !ok || tried[i] || !f.allows(a) {
				continue
			}
			// The message chose this ARN. Confirm that the account it names
			// really holds the key before trusting Decrypt's answer, which
			// names the key only by its bare ID.
			if err := confirmKey(ctx, f.Service, a); err != nil {
				if ctx.Err() != nil {
					return nil, "", ctx.Err()
				}
				tried[i] = true
				errs = append(errs, &KeyError{KeyARN: h.Keys[i].ARN, Op: "DescribeKey", Err: err})
				continue
			}
			if dk, err := try(f.Service, i); dk != nil || err != nil {
				return dk, h.Keys[i].ARN, err
			}
		}
	}
	names := make([]string, len(h.Keys))
	for i, k := range h.Keys {
		names[i] = k.ARN
	}
	return nil, "", &NoKeyError{KeyARNs: names, Errors: errs}
}

// errNoResolver refuses discovery through a key service that cannot resolve
// key ARNs.
var errNoResolver = fmt.Errorf("the key service cannot confirm which account holds a key (it does not implement KeyResolver), so it cannot be used for discovery: %w", ErrKeyMismatch)

// confirmKey checks that the key ARN a message names exists as named: same
// account, region and key ID. Decrypt's KeyId check alone does not suffice
// here: it compares bare key IDs, and with discovery the attacker writes the
// whole ARN, so a key of theirs relabelled with a trusted account would pass
// it. With Keys the ARN is the caller's, and a forger would need a key of
// their own with the trusted key's ID, which KMS assigns (we assume key IDs
// are unique across accounts; not verified against Alibaba documentation).
func confirmKey(ctx context.Context, svc KeyService, claimed arn.ARN) error {
	r, ok := svc.(KeyResolver)
	if !ok {
		return errNoResolver
	}
	got, err := r.ResolveKey(ctx, claimed.String())
	if err != nil {
		return err
	}
	if a, err := parseKeyARN(got); err != nil || a != claimed {
		return fmt.Errorf("the message names %s, but the key service knows it as %s: %w", claimed, got, ErrKeyMismatch)
	}
	return nil
}

// Decrypt decrypts a whole message. encCtx must equal the context the
// message was encrypted with (nil for none). Otherwise the result is
// ErrNotAuthentic, before any KMS call. On any error it returns no
// plaintext.
func (d *Decryptor) Decrypt(ctx context.Context, msg []byte, encCtx map[string]string) ([]byte, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	// The allowed ARNs (the first few, on the stack) spare the parser a
	// copy of a message's ARN that is one of them.
	var arns [4]string
	known := arns[:0]
	for _, k := range d.Keys[:min(len(d.Keys), len(arns))] {
		known = append(known, k.ARN)
	}
	h, n, err := format.ParseBytesKnown(msg, d.MaxEncryptedKeys, known)
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
	o, err := d.open(ctx, h, encCtx, lanes(d.Concurrency), uint64(len(body)-m*segmentOverhead))
	if err != nil {
		return nil, err
	}
	keys := o.keys
	keys.WipeHeaderKey()
	keys.SetAAD(format.Digest(h.Fixed))
	aad := keys.AAD()

	out := make([]byte, len(body)-m*segmentOverhead)
	ok := true
	if keys.Lanes() > 1 && m > 1 {
		ok = openAll(keys, out, body, seg, m)
	} else {
		for j := range m {
			ct := body[j*stride : min((j+1)*stride, len(body))]
			if _, err := keys.Open(0, out[j*seg:j*seg], ct, uint32(j), j == m-1, aad); err != nil {
				ok = false
				break
			}
		}
	}
	if !ok {
		clear(out)
		return nil, notAuthentic("a segment does not authenticate (tampered, truncated or reordered)")
	}
	return out, nil
}

// openAll opens the m segments of body into out on every lane of keys and
// reports whether all authenticated. It is Decrypt's parallel path, apart so
// that the sequential one allocates no closure.
func openAll(keys *stream.Keys, out, body []byte, seg, m int) bool {
	stride := seg + segmentOverhead
	var failed atomic.Bool
	forEach(keys.Lanes(), m, jobFunc(func(lane, j int) {
		ct := body[j*stride : min((j+1)*stride, len(body))]
		if _, err := keys.Open(lane, out[j*seg:j*seg], ct, uint32(j), j == m-1, keys.AAD()); err != nil {
			failed.Store(true)
		}
	}))
	return !failed.Load()
}
