package envelope

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/envelope/internal/fakekeys"
)

// fakeClock is a settable clock for cache expiry.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newCachedFixture(t testing.TB, maxAge time.Duration, opts ...func(*CacheOptions)) (*fixture, *Cache, *fakeClock) {
	t.Helper()
	f := newFixture(t)
	clock := &fakeClock{now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
	c, err := NewCache(maxAge, append([]func(*CacheOptions){func(o *CacheOptions) { o.Now = clock.Now }}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f.enc.Cache = c
	return f, c, clock
}

func TestCacheLimits(t *testing.T) {
	t.Parallel()
	type step struct {
		advance time.Duration
		size    int
		encCtx  map[string]string
	}
	tests := []struct {
		name   string
		opts   func(*CacheOptions)
		steps  []step
		wantGD int // GenerateDataKey calls
	}{
		{"one key for many messages", nil,
			[]step{{size: 10}, {size: 10}, {size: 10}, {size: 10}}, 1},
		{"age", nil,
			[]step{{size: 1}, {advance: 59 * time.Second, size: 1}, {advance: time.Second, size: 1}, {size: 1}}, 2},
		{"messages", func(o *CacheOptions) { o.MaxMessages = 2 },
			[]step{{size: 1}, {size: 1}, {size: 1}, {size: 1}, {size: 1}}, 3},
		{"one message per key caches nothing", func(o *CacheOptions) { o.MaxMessages = 1 },
			[]step{{size: 1}, {size: 1}, {size: 1}}, 3},
		{"bytes", func(o *CacheOptions) { o.MaxBytes = 100 },
			[]step{{size: 60}, {size: 40}, {size: 1}, {size: 99}, {size: 1}}, 3},
		{"message over the byte limit gets its own key", func(o *CacheOptions) { o.MaxBytes = 100 },
			[]step{{size: 10}, {size: 101}, {size: 10}}, 2},
		{"context is part of the key", nil,
			[]step{{size: 1, encCtx: map[string]string{"t": "a"}}, {size: 1, encCtx: map[string]string{"t": "b"}},
				{size: 1, encCtx: map[string]string{"t": "a"}}, {size: 1}}, 3},
		{"least recently used goes first", func(o *CacheOptions) { o.MaxEntries = 2 },
			[]step{{size: 1, encCtx: map[string]string{"t": "a"}}, {size: 1, encCtx: map[string]string{"t": "b"}},
				{size: 1, encCtx: map[string]string{"t": "a"}}, {size: 1, encCtx: map[string]string{"t": "c"}},
				{size: 1, encCtx: map[string]string{"t": "a"}}, {size: 1, encCtx: map[string]string{"t": "b"}}}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []func(*CacheOptions)
			if tt.opts != nil {
				opts = append(opts, tt.opts)
			}
			f, _, clock := newCachedFixture(t, time.Minute, opts...)
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				pt := pattern(s.size)
				msg := mustEncrypt(t, f.enc, pt, s.encCtx)
				if got, err := f.dec.Decrypt(context.Background(), msg, s.encCtx); err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			if got := f.svc.Count(fakekeys.OpGenerateDataKey); got != tt.wantGD {
				t.Errorf("GenerateDataKey calls = %d, want %d", got, tt.wantGD)
			}
		})
	}
}

func TestCacheWithStreams(t *testing.T) {
	t.Parallel()
	f, _, _ := newCachedFixture(t, time.Minute, func(o *CacheOptions) { o.MaxBytes = 1000 })
	for i := 0; i < 3; i++ {
		w, err := f.enc.NewWriter(context.Background(), io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	if got := f.svc.Count(fakekeys.OpGenerateDataKey); got != 3 {
		t.Errorf("NewWriter (unknown size) used the cache: %d calls", got)
	}
	f.svc.ResetLog()
	for i := 0; i < 3; i++ {
		var buf bytes.Buffer
		w, err := f.enc.NewSizedWriter(context.Background(), &buf, nil, 300)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(pattern(300))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.dec.Decrypt(context.Background(), buf.Bytes(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.svc.Count(fakekeys.OpGenerateDataKey); got != 1 {
		t.Errorf("NewSizedWriter: %d GenerateDataKey calls for 900 bytes under a 1000-byte limit", got)
	}
	w, _ := f.enc.NewSizedWriter(context.Background(), io.Discard, nil, 300)
	w.Close()
	if got := f.svc.Count(fakekeys.OpGenerateDataKey); got != 2 {
		t.Errorf("the fourth 300 bytes did not get a new key: %d calls", got)
	}
}

// TestCacheConcurrentMisses checks that many goroutines missing the same
// entry at once cost one GenerateDataKey, not one each.
func TestCacheConcurrentMisses(t *testing.T) {
	t.Parallel()
	f, _, _ := newCachedFixture(t, time.Hour)
	gate := make(chan struct{})
	f.enc.Keys[0].Service = &gatedService{KeyService: f.svc, gate: gate}
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.enc.Encrypt(context.Background(), []byte("x"), nil)
			errs <- err
		}()
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.svc.Count(fakekeys.OpGenerateDataKey); got != 1 {
		t.Errorf("%d concurrent encryptions made %d GenerateDataKey calls, want 1", n, got)
	}
}

// gatedService holds GenerateDataKey until gate is closed, so that every
// goroutine reaches the cache before the first key exists.
type gatedService struct {
	KeyService
	gate chan struct{}
}

func (g *gatedService) GenerateDataKey(ctx context.Context, a string, c map[string]string) ([]byte, []byte, error) {
	<-g.gate
	return g.KeyService.GenerateDataKey(ctx, a, c)
}

func TestCacheWaiterHonoursContext(t *testing.T) {
	t.Parallel()
	f, _, _ := newCachedFixture(t, time.Hour)
	gate := make(chan struct{})
	defer close(gate)
	entered := make(chan struct{})
	f.enc.Keys[0].Service = &signalService{KeyService: &gatedService{KeyService: f.svc, gate: gate}, entered: entered}
	go f.enc.Encrypt(context.Background(), []byte("x"), nil) // holds the in-flight slot
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.enc.Encrypt(ctx, []byte("x"), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("waiter: %v", err)
	}
}

type signalService struct {
	KeyService
	entered chan struct{}
	once    sync.Once
}

func (s *signalService) GenerateDataKey(ctx context.Context, a string, c map[string]string) ([]byte, []byte, error) {
	s.once.Do(func() { close(s.entered) })
	return s.KeyService.GenerateDataKey(ctx, a, c)
}

func TestCacheWipesOnEviction(t *testing.T) {
	t.Parallel()
	f, c, clock := newCachedFixture(t, time.Minute, func(o *CacheOptions) { o.MaxMessages = 3 })
	mustEncrypt(t, f.enc, []byte("x"), nil)
	if c.Len() != 1 {
		t.Fatalf("Len = %d", c.Len())
	}
	held := cachedKeys(c)

	mustEncrypt(t, f.enc, []byte("x"), nil)
	mustEncrypt(t, f.enc, []byte("x"), nil) // third message: the key is used up
	if c.Len() != 0 || !allZero(held) {
		t.Errorf("used-up key: Len = %d, wiped = %v", c.Len(), allZero(held))
	}

	mustEncrypt(t, f.enc, []byte("x"), nil)
	held = cachedKeys(c)
	clock.Advance(time.Minute)
	mustEncrypt(t, f.enc, []byte("x"), nil) // expired: evicted on this miss
	if !allZero(held) {
		t.Error("expired key not wiped")
	}

	held = cachedKeys(c)
	c.Purge()
	if c.Len() != 0 || !allZero(held) {
		t.Error("Purge did not wipe")
	}
}

func cachedKeys(c *Cache) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [][]byte
	for _, e := range c.entries {
		out = append(out, e.m.dataKey)
	}
	return out
}

func allZero(keys [][]byte) bool {
	for _, k := range keys {
		if !bytes.Equal(k, make([]byte, len(k))) {
			return false
		}
	}
	return true
}

func TestCacheOptionsValidation(t *testing.T) {
	t.Parallel()
	if _, err := NewCache(0); err == nil {
		t.Error("zero MaxAge accepted")
	}
	if _, err := NewCache(time.Second, func(o *CacheOptions) { o.MaxEntries = -1 }); err == nil {
		t.Error("negative MaxEntries accepted")
	}
	c, err := NewCache(time.Second)
	if err != nil || c.opts.MaxMessages != DefaultCacheMaxMessages || c.opts.MaxEntries != DefaultCacheMaxEntries {
		t.Errorf("defaults: %+v, %v", c.opts, err)
	}
}

func TestCacheFailureIsNotCached(t *testing.T) {
	t.Parallel()
	f, c, _ := newCachedFixture(t, time.Hour)
	f.svc.FailOn(fakekeys.OpGenerateDataKey, arnMain, fakekeys.Denied("GenerateDataKey"))
	if _, err := f.enc.Encrypt(context.Background(), []byte("x"), nil); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("err = %v", err)
	}
	if c.Len() != 0 {
		t.Error("a failure was cached")
	}
	f.svc.FailOn(fakekeys.OpGenerateDataKey, arnMain, nil)
	mustEncrypt(t, f.enc, []byte("x"), nil)
	mustEncrypt(t, f.enc, []byte("x"), nil)
	if got := f.svc.Count(fakekeys.OpGenerateDataKey); got != 2 {
		t.Errorf("GenerateDataKey calls = %d, want 2 (one failed, one cached)", got)
	}
}
