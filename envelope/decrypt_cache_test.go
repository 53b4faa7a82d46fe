package envelope

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/envelope/internal/fakekeys"
	"github.com/kmsshare/kmsshare/envelope/internal/format"
)

// sharedKeyMessages encrypts n messages of size bytes each under one data
// key (an encrypting cache with no limit that n reaches).
func sharedKeyMessages(t *testing.T, f *fixture, n, size int, encCtx map[string]string) ([][]byte, [][]byte) {
	t.Helper()
	enc, err := NewCache(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e := &Encryptor{Keys: f.enc.Keys, Cache: enc, SegmentSize: 256}
	var msgs, pts [][]byte
	for i := range n {
		pt := bytes.Repeat([]byte{byte(i)}, size)
		msgs = append(msgs, mustEncrypt(t, e, pt, encCtx))
		pts = append(pts, pt)
	}
	if got := f.svc.Count(fakekeys.OpGenerateDataKey); got != 1 {
		t.Fatalf("%d GenerateDataKey calls for messages meant to share a data key", got)
	}
	return msgs, pts
}

func TestDecryptCacheLimits(t *testing.T) {
	t.Parallel()
	ctx := map[string]string{"tenant": "acme"}
	tests := []struct {
		name     string
		opts     func(*CacheOptions)
		msgs     int
		size     int
		advance  time.Duration // after every message
		decrypts int
	}{
		{"one data key, no limit reached", nil, 12, 40, 0, 1},
		{"3 messages per key", func(o *CacheOptions) { o.MaxMessages = 3 }, 10, 40, 0, 4},
		// 40-byte messages, 100 bytes per key: two messages fit.
		{"100 bytes per key", func(o *CacheOptions) { o.MaxBytes = 100 }, 5, 40, 0, 3},
		{"a message over the byte limit is never cached", func(o *CacheOptions) { o.MaxBytes = 10 }, 3, 40, 0, 3},
		// The entry is made at t=0 and lives 1 minute: messages at 0, 25 s
		// and 50 s use it, 75 s needs a new one (75, 100, 125 s), then 150 s.
		{"age", nil, 7, 40, 25 * time.Second, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			msgs, pts := sharedKeyMessages(t, f, tt.msgs, tt.size, ctx)
			clock := &fakeClock{now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
			opts := []func(*CacheOptions){func(o *CacheOptions) { o.Now = clock.Now }}
			if tt.opts != nil {
				opts = append(opts, tt.opts)
			}
			c, err := NewCache(time.Minute, opts...)
			if err != nil {
				t.Fatal(err)
			}
			d := &Decryptor{Keys: f.dec.Keys, Cache: c}
			before := f.svc.Count(fakekeys.OpDecrypt)
			for i, msg := range msgs {
				got, err := d.Decrypt(t.Context(), msg, ctx)
				if err != nil || !bytes.Equal(got, pts[i]) {
					t.Fatalf("message %d: %v", i, err)
				}
				clock.Advance(tt.advance)
			}
			if n := f.svc.Count(fakekeys.OpDecrypt) - before; n != tt.decrypts {
				t.Errorf("%d KMS Decrypt calls for %d messages, want %d", n, tt.msgs, tt.decrypts)
			}
		})
	}
}

// TestDecryptCacheStreams: a Reader takes its data key from the cache and
// charges the bytes it releases, so the byte limit holds for streams too.
func TestDecryptCacheStreams(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	msgs, pts := sharedKeyMessages(t, f, 4, 1000, nil)
	c, err := NewCache(time.Hour, func(o *CacheOptions) { o.MaxBytes = 1500 })
	if err != nil {
		t.Fatal(err)
	}
	d := &Decryptor{Keys: f.dec.Keys, Cache: c}
	for i, msg := range msgs {
		r, err := d.NewReader(t.Context(), bytes.NewReader(msg), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, pts[i]) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	// 1000 bytes each, 1500 per key: the second stream pushes the entry
	// over its limit, so every other message needs KMS.
	if n := f.svc.Count(fakekeys.OpDecrypt); n != 2 {
		t.Errorf("%d KMS Decrypt calls for 4 streams, want 2", n)
	}
}

// TestDecryptCacheStillAuthenticates: a cached data key does not vouch for
// a message. One with the same encrypted data keys and context but another
// commitment, header or segment fails as it would without the cache.
func TestDecryptCacheStillAuthenticates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	msgs, _ := sharedKeyMessages(t, f, 2, 300, nil)
	c, err := NewCache(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	d := &Decryptor{Keys: f.dec.Keys, Cache: c}
	if _, err := d.Decrypt(t.Context(), msgs[0], nil); err != nil {
		t.Fatal(err)
	}
	_, hl, err := format.ParseBytes(msgs[1], 0)
	if err != nil {
		t.Fatal(err)
	}
	for name, off := range map[string]int{"salt": format.SaltOffset, "header tag": hl - 1, "segment": hl + 5, "tag": len(msgs[1]) - 1} {
		bad := bytes.Clone(msgs[1])
		bad[off] ^= 1
		if _, err := d.Decrypt(t.Context(), bad, nil); !errors.Is(err, ErrNotAuthentic) {
			t.Errorf("%s altered: %v", name, err)
		}
	}
	if n := f.svc.Count(fakekeys.OpDecrypt); n != 1 {
		t.Errorf("%d KMS Decrypt calls, want 1 (the rest came from the cache)", n)
	}
}

// TestDecryptCacheRespectsAllowlist: an entry made by a Decryptor that trusts
// one key is not used by a Decryptor sharing the cache that trusts another.
func TestDecryptCacheRespectsAllowlist(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	e := &Encryptor{Keys: []MasterKey{f.key(arnMain), f.key(arnRcpt)}}
	msg := mustEncrypt(t, e, []byte("for both"), nil)
	c, err := NewCache(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	main := &Decryptor{Keys: []MasterKey{f.key(arnMain)}, Cache: c}
	rcpt := &Decryptor{Keys: []MasterKey{f.key(arnRcpt)}, Cache: c}
	for _, d := range []*Decryptor{main, rcpt, rcpt} {
		if _, err := d.Decrypt(t.Context(), msg, nil); err != nil {
			t.Fatal(err)
		}
	}
	var mainCalls, rcptCalls int
	for _, call := range f.svc.Calls() {
		if call.Op == fakekeys.OpDecrypt {
			switch call.KeyARN {
			case arnMain:
				mainCalls++
			case arnRcpt:
				rcptCalls++
			}
		}
	}
	// main fills the entry; rcpt may not use a key that main's key
	// decrypted, so it asks KMS under its own key (and the cache keeps
	// main's entry, so rcpt asks each time).
	if mainCalls != 1 || rcptCalls != 2 {
		t.Errorf("Decrypt calls: %d under the main key, %d under the recipient's; want 1 and 2", mainCalls, rcptCalls)
	}
}

// TestDecryptCacheWipes: plaintext data keys held by a decrypting cache are
// zeroed when they are evicted or purged, and those the key service handed
// over are zeroed after use.
func TestDecryptCacheWipes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	msgs, _ := sharedKeyMessages(t, f, 3, 50, nil)
	keep := &keepingService{KeyService: f.svc}
	c, err := NewCache(time.Hour, func(o *CacheOptions) { o.MaxMessages = 2 })
	if err != nil {
		t.Fatal(err)
	}
	d := &Decryptor{Keys: []MasterKey{{ARN: arnMain, Service: keep}}, Cache: c}
	if _, err := d.Decrypt(t.Context(), msgs[0], nil); err != nil {
		t.Fatal(err)
	}
	held := cachedKeys(c)
	if len(held) != 1 || allZero(held) {
		t.Fatalf("cache holds %d keys after the first message", len(held))
	}
	if _, err := d.Decrypt(t.Context(), msgs[1], nil); err != nil { // second use: used up
		t.Fatal(err)
	}
	if c.Len() != 0 || !allZero(held) {
		t.Errorf("used-up key: Len = %d, wiped = %v", c.Len(), allZero(held))
	}
	if _, err := d.Decrypt(t.Context(), msgs[2], nil); err != nil {
		t.Fatal(err)
	}
	held = cachedKeys(c)
	c.Purge()
	if !allZero(held) || !keep.allWiped() {
		t.Error("Purge or the key service's copies: a plaintext data key was left in memory")
	}
}
