package envelope

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

// CacheOptions are the limits of a Cache. A cached data key is used for a
// new message only while it is younger than MaxAge, has encrypted fewer than
// MaxMessages messages, and has room for the new message's bytes within
// MaxBytes. Otherwise it is evicted and wiped, and a new one is made.
type CacheOptions struct {
	MaxAge      time.Duration // set by NewCache; must be positive
	MaxMessages uint64        // per data key; 0 means DefaultCacheMaxMessages
	MaxBytes    uint64        // plaintext bytes per data key; 0 means no limit beyond 2^63-1
	MaxEntries  int           // data keys held at once; 0 means DefaultCacheMaxEntries
	// Now is the clock; nil means time.Now. Tests replace it.
	Now func() time.Time
}

// Defaults of CacheOptions.
const (
	DefaultCacheMaxMessages = 1 << 32 // the AWS Encryption SDK's default
	DefaultCacheMaxEntries  = 64
	maxCacheBytes           = 1<<63 - 1
)

// Cache holds plaintext data keys so that messages with the same master keys
// and encryption context can share one, saving a KMS round trip per message.
// An Encryptor's entries are keyed by its master key ARNs and the context; a
// Decryptor's by a message's encrypted data keys and context, so that the
// messages an encrypting cache made share one KMS Decrypt too. Concurrent
// misses for the same entry make one KMS call between them. Plaintext data
// keys are wiped when evicted. A Cache is safe for concurrent use.
//
// Entries are not keyed by credentials. Share a Cache only between
// Encryptors and Decryptors entitled to the same keys. (A Decryptor does not
// use an entry made with a master key it does not allow.)
type Cache struct {
	opts     CacheOptions
	mu       sync.Mutex
	entries  map[[sha256.Size]byte]*cacheEntry
	lru      *list.List // of *cacheEntry, most recently used first
	inflight map[[sha256.Size]byte]chan struct{}
}

type cacheEntry struct {
	id       [sha256.Size]byte
	m        *materials
	created  time.Time
	messages uint64
	bytes    uint64
	elem     *list.Element
}

// NewCache returns a Cache whose data keys live at most maxAge.
func NewCache(maxAge time.Duration, optFns ...func(*CacheOptions)) (*Cache, error) {
	o := CacheOptions{MaxAge: maxAge}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.MaxAge <= 0 {
		return nil, errors.New("envelope: cache MaxAge must be positive")
	}
	if o.MaxMessages == 0 {
		o.MaxMessages = DefaultCacheMaxMessages
	}
	if o.MaxBytes == 0 || o.MaxBytes > maxCacheBytes {
		o.MaxBytes = maxCacheBytes
	}
	if o.MaxEntries < 0 {
		return nil, fmt.Errorf("envelope: cache MaxEntries %d is negative", o.MaxEntries)
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = DefaultCacheMaxEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Cache{
		opts:     o,
		entries:  make(map[[sha256.Size]byte]*cacheEntry),
		lru:      list.New(),
		inflight: make(map[[sha256.Size]byte]chan struct{}),
	}, nil
}

// Len returns the number of data keys held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Purge evicts and wipes every data key.
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		c.evict(e)
	}
}

// String describes the cache without its keys.
func (c *Cache) String() string {
	return fmt.Sprintf("envelope.Cache{%d entries, max age %v}", c.Len(), c.opts.MaxAge)
}

// GoString is String, so %#v prints no key either.
func (c *Cache) GoString() string { return c.String() }

// encryptCacheTag starts the id of every encryption entry.
const encryptCacheTag = "kmsshare-envelope cache v1\x00"

// cacheKey identifies materials by master key ARNs (in order) and the
// canonical encryption context, both length-prefixed. The input is built
// on the stack (it moves to the heap only past 512 bytes) and hashed in one
// call: a cached message should not pay an allocation or a hash per field.
func cacheKey(tag string, keys []MasterKey, pairs []format.Pair) [sha256.Size]byte {
	var in [512]byte
	b := append(in[:0], tag...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(keys)))
	for _, k := range keys {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k.ARN)))
		b = append(b, k.ARN...)
	}
	b = appendPairs(binary.BigEndian.AppendUint16(b, uint16(len(pairs))), pairs)
	return sha256.Sum256(b)
}

func appendPairs(b []byte, pairs []format.Pair) []byte {
	for _, p := range pairs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p.Key)))
		b = append(b, p.Key...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(p.Value)))
		b = append(b, p.Value...)
	}
	return b
}

// decryptCacheTag starts the id of every decryption entry.
const decryptCacheTag = "kmsshare-envelope decrypt cache v1\x00"

// decryptCacheKey identifies a data key on the decrypt side by everything
// that decides what KMS returns for it: the encrypted data keys (ARN and
// blob, in the message's order) and the encryption context, length-prefixed
// like cacheKey's input, and built and hashed the same way.
func decryptCacheKey(keys []format.EncryptedKey, pairs []format.Pair) [sha256.Size]byte {
	var in [512]byte
	b := append(in[:0], decryptCacheTag...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(keys)))
	for _, k := range keys {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k.ARN)))
		b = append(b, k.ARN...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(k.Blob)))
		b = append(b, k.Blob...)
	}
	b = appendPairs(binary.BigEndian.AppendUint32(b, uint32(len(pairs))), pairs)
	return sha256.Sum256(b)
}

// cached is what a lookup returns besides the data key: the encrypted
// keys and the master key that decrypted the data key (decrypt side). They
// are shared with the cache entry and never modified.
type cached struct {
	keys   []format.EncryptedKey
	keyARN string
	entry  *cacheEntry // the entry the key came from or went into; nil if none
}

// lookup returns materials for a message of n plaintext bytes, the data key
// copied into dk, from a usable entry or from gen, whose materials are then
// cached. The copy is the caller's (it wipes it): an eviction wiping the
// cached key cannot pull the key out from under a message being processed,
// and a hit allocates nothing. Only one gen runs per id at a time; other
// callers wait for it and then use its entry if the limits allow.
func (c *Cache) lookup(ctx context.Context, id [sha256.Size]byte, n uint64, dk *[stream.DataKeySize]byte, gen func(context.Context) (*materials, error)) (cached, error) {
	if n > c.opts.MaxBytes {
		m, err := gen(ctx) // this message alone is over the limit: its own key, never cached
		if err != nil {
			return cached{}, err
		}
		defer m.wipe()
		return take(m, dk, nil), nil
	}
	c.mu.Lock()
	for {
		if e := c.entries[id]; e != nil {
			if c.usable(e, n) {
				e.messages++
				e.bytes += n
				c.lru.MoveToFront(e.elem)
				r := take(e.m, dk, e)
				if e.messages >= c.opts.MaxMessages || e.bytes >= c.opts.MaxBytes {
					c.evict(e) // used up: wipe it now rather than on the next miss
				}
				c.mu.Unlock()
				return r, nil
			}
			c.evict(e)
		}
		wait, busy := c.inflight[id]
		if !busy {
			break
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return cached{}, ctx.Err()
		}
		c.mu.Lock()
	}
	done := make(chan struct{})
	c.inflight[id] = done
	c.mu.Unlock()

	m, err := gen(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inflight, id)
	close(done)
	if err != nil {
		return cached{}, err
	}
	var e *cacheEntry
	if 1 < c.opts.MaxMessages && n < c.opts.MaxBytes {
		e = c.insert(id, m, n)
	} else {
		defer m.wipe()
	}
	return take(m, dk, e), nil
}

// take copies m's data key (its makers checked its size) into dk and
// returns the rest of m.
func take(m *materials, dk *[stream.DataKeySize]byte, e *cacheEntry) cached {
	copy(dk[:], m.dataKey)
	return cached{keys: m.keys, keyARN: m.keyARN, entry: e}
}

// charge adds n plaintext bytes that a stream released to entry e, and
// evicts it once it reaches the byte limit. An entry already evicted is
// left alone.
func (c *Cache) charge(e *cacheEntry, n uint64) {
	if e == nil || n == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[e.id] != e {
		return
	}
	e.bytes += min(n, c.opts.MaxBytes-e.bytes)
	if e.bytes >= c.opts.MaxBytes {
		c.evict(e)
	}
}

func (c *Cache) usable(e *cacheEntry, n uint64) bool {
	return c.opts.Now().Sub(e.created) < c.opts.MaxAge &&
		e.messages < c.opts.MaxMessages &&
		n <= c.opts.MaxBytes-e.bytes
}

// insert adds an entry that has been used once for n bytes, after dropping
// expired entries and, if still full, the least recently used ones.
func (c *Cache) insert(id [sha256.Size]byte, m *materials, n uint64) *cacheEntry {
	now := c.opts.Now()
	for _, e := range c.entries {
		if now.Sub(e.created) >= c.opts.MaxAge {
			c.evict(e)
		}
	}
	for len(c.entries) >= c.opts.MaxEntries {
		c.evict(c.lru.Back().Value.(*cacheEntry))
	}
	e := &cacheEntry{id: id, m: m, created: now, messages: 1, bytes: n}
	e.elem = c.lru.PushFront(e)
	c.entries[id] = e
	return e
}

// evict removes an entry and wipes its data key.
func (c *Cache) evict(e *cacheEntry) {
	if c.entries[e.id] == e {
		delete(c.entries, e.id)
	}
	c.lru.Remove(e.elem)
	e.m.wipe()
}
