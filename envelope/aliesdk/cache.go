package aliesdk

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Default limits of NewCache: tighter than the SDKs' (SDKCacheDefaults).
// A cached data key encrypts at most DefaultCacheMaxMessages messages, each
// with two random 96-bit GCM nonces (header and body): 2^17 nonces keep the
// chance of a nonce collision below 2^-62, and a data key that leaks from
// memory exposes a bounded amount of data.
const (
	DefaultCacheMaxAge      = 60 * time.Second
	DefaultCacheMaxMessages = 1 << 16
	DefaultCacheMaxBytes    = 1 << 32
	DefaultCacheMaxEntries  = 10
)

// CacheOptions are the limits of a Cache. A cached data key serves a new
// message only while it is younger than MaxAge, has encrypted fewer than
// MaxMessages messages, and has room for the message within MaxBytes.
type CacheOptions struct {
	MaxAge      time.Duration
	MaxMessages uint64 // 0 means no limit
	MaxBytes    uint64 // plaintext bytes per data key; 0 means no limit
	MaxEntries  int    // data keys held at once, least recently used evicted first
	Now         func() time.Time
}

// SDKCacheDefaults sets the limits of the SDKs' caching materials manager:
// 60 s, unlimited messages and bytes, 10 entries. Pass it to NewCache for
// their behaviour.
func SDKCacheDefaults(o *CacheOptions) {
	o.MaxAge, o.MaxMessages, o.MaxBytes, o.MaxEntries = 60*time.Second, 0, 0, 10
}

// Cache holds plaintext data keys and their encrypted forms so that
// messages with the same suite, master keys and encryption context can share
// one, saving the KMS calls. Keys are wiped when evicted. It is safe for
// concurrent use. Entries are keyed by ARNs and context, not credentials:
// share a Cache only between Encryptors entitled to the same keys.
type Cache struct {
	mu      sync.Mutex
	o       CacheOptions
	entries map[string]*cacheEntry
	tick    uint64
}

type cacheEntry struct {
	key      []byte
	edks     []EncryptedKey
	created  time.Time
	messages uint64
	bytes    uint64
	used     uint64
}

// NewCache returns a Cache with the default limits, changed by optFns.
func NewCache(optFns ...func(*CacheOptions)) (*Cache, error) {
	o := CacheOptions{MaxAge: DefaultCacheMaxAge, MaxMessages: DefaultCacheMaxMessages,
		MaxBytes: DefaultCacheMaxBytes, MaxEntries: DefaultCacheMaxEntries}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.MaxAge <= 0 || o.MaxEntries <= 0 {
		return nil, fmt.Errorf("aliesdk: cache needs a positive MaxAge and MaxEntries")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Cache{o: o, entries: map[string]*cacheEntry{}}, nil
}

// String describes the cache without its keys.
func (c *Cache) String() string {
	return fmt.Sprintf("aliesdk.Cache{%d entries}", c.Len())
}

// GoString is String, so %#v prints no key either.
func (c *Cache) GoString() string { return c.String() }

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
	for k, e := range c.entries {
		clear(e.key)
		delete(c.entries, k)
	}
}

// cacheKey identifies what a data key may be shared for.
func cacheKey(s Suite, keys []string, ctx []pair) string {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(s))
	for _, k := range keys {
		b = appendU32(b, len(k))
		b = append(b, k...)
	}
	b = append(b, 0xff)
	b = append(b, ctxBytes(ctx)...)
	return string(b)
}

// get returns a copy of a usable data key for a message of n bytes, and
// counts the message against it.
func (c *Cache) get(id string, n uint64) ([]byte, []EncryptedKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	o := c.o
	if !ok || o.MaxBytes > 0 && n > o.MaxBytes { // too large for any entry: leave them
		return nil, nil, false
	}
	if o.Now().Sub(e.created) >= o.MaxAge ||
		o.MaxMessages > 0 && e.messages >= o.MaxMessages ||
		o.MaxBytes > 0 && e.bytes > o.MaxBytes-n {
		clear(e.key)
		delete(c.entries, id)
		return nil, nil, false
	}
	e.messages++
	e.bytes += n
	c.tick++
	e.used = c.tick
	return bytes.Clone(e.key), cloneKeys(e.edks), true
}

// put stores a data key after its first message of n bytes.
func (c *Cache) put(id string, key []byte, edks []EncryptedKey, n uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.o.MaxBytes > 0 && n > c.o.MaxBytes {
		return
	}
	if old, ok := c.entries[id]; ok {
		clear(old.key)
	}
	c.tick++
	c.entries[id] = &cacheEntry{key: bytes.Clone(key), edks: cloneKeys(edks), created: c.o.Now(), messages: 1, bytes: n, used: c.tick}
	for len(c.entries) > c.o.MaxEntries {
		var lru string
		var min uint64 = ^uint64(0)
		for k, e := range c.entries {
			if e.used < min {
				lru, min = k, e.used
			}
		}
		clear(c.entries[lru].key)
		delete(c.entries, lru)
	}
}

func cloneKeys(ks []EncryptedKey) []EncryptedKey {
	out := slices.Clone(ks)
	for i := range out {
		out[i].Blob = bytes.Clone(out[i].Blob)
	}
	return out
}

func sortedARNs(ks []string) []string {
	out := slices.Clone(ks)
	slices.SortFunc(out, strings.Compare)
	return out
}
