package aliesdk

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/envelope"
)

func countCalls(f *fakeKMS, op string) int {
	n := 0
	for _, c := range f.Calls() {
		if c == op {
			n++
		}
	}
	return n
}

func TestCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	newSvc := func() *fakeKMS { return &fakeKMS{id: "cache", dataKey: bytes.Repeat([]byte{3}, 32)} }

	t.Run("messages", func(t *testing.T) {
		svc := newSvc()
		c, err := NewCache(func(o *CacheOptions) { o.MaxMessages, o.Now = 3, clock })
		if err != nil {
			t.Fatal(err)
		}
		e := &Encryptor{Keys: []envelope.MasterKey{{ARN: arnA, Service: svc}, {ARN: arnB, Service: svc}}, Cache: c}
		d := &Decryptor{Keys: e.Keys[1:]}
		for i := range 7 {
			msg, err := e.Encrypt(ctx, []byte(fmt.Sprint(i)), map[string]string{"k": "v"})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := d.Decrypt(ctx, msg, map[string]string{"k": "v"}); err != nil || string(got) != fmt.Sprint(i) {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		if n := countCalls(svc, "GenerateDataKey"); n != 3 { // 3+3+1
			t.Errorf("%d GenerateDataKey calls for 7 messages at 3 per key, want 3", n)
		}
		// Another context is another entry.
		if _, err := e.Encrypt(ctx, nil, nil); err != nil {
			t.Fatal(err)
		}
		if n := countCalls(svc, "GenerateDataKey"); n != 4 || c.Len() != 2 {
			t.Errorf("another context: %d calls, %d entries", n, c.Len())
		}
		if s := fmt.Sprintf("%v %#v", c, c); strings.Contains(s, "\x03") {
			t.Errorf("cache prints its key: %q", s)
		}
		c.Purge()
		if c.Len() != 0 {
			t.Errorf("Purge left %d entries", c.Len())
		}
	})

	t.Run("age and bytes", func(t *testing.T) {
		svc := newSvc()
		c, err := NewCache(func(o *CacheOptions) { o.MaxBytes, o.Now = 100, clock })
		if err != nil {
			t.Fatal(err)
		}
		e := &Encryptor{Keys: []envelope.MasterKey{{ARN: arnA, Service: svc}}, Cache: c}
		step := func(n int, advance time.Duration, wantCalls int) {
			t.Helper()
			now = now.Add(advance)
			if _, err := e.Encrypt(ctx, make([]byte, n), nil); err != nil {
				t.Fatal(err)
			}
			if got := countCalls(svc, "GenerateDataKey"); got != wantCalls {
				t.Errorf("after a %d-byte message: %d calls, want %d", n, got, wantCalls)
			}
		}
		step(60, 0, 1)
		step(40, 0, 1)                   // 100 bytes: at the limit
		step(1, 0, 2)                    // over it: a new key
		step(1, DefaultCacheMaxAge-1, 2) // still young
		step(1, 1, 3)                    // 60 s old: a new key
		step(101, 0, 4)                  // larger than MaxBytes: never cached
		step(1, 0, 4)                    // the entry of step 5 still serves
	})

	t.Run("entries", func(t *testing.T) {
		svc := newSvc()
		c, err := NewCache(SDKCacheDefaults, func(o *CacheOptions) { o.Now = clock })
		if err != nil {
			t.Fatal(err)
		}
		if c.o.MaxMessages != 0 || c.o.MaxBytes != 0 || c.o.MaxEntries != 10 || c.o.MaxAge != time.Minute {
			t.Errorf("SDK defaults: %+v", c.o)
		}
		e := &Encryptor{Keys: []envelope.MasterKey{{ARN: arnA, Service: svc}}, Cache: c}
		for i := range 12 {
			if _, err := e.Encrypt(ctx, nil, map[string]string{"i": fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if c.Len() != 10 {
			t.Errorf("%d entries, want 10", c.Len())
		}
		// The two least recently used (0 and 1) were evicted.
		before := countCalls(svc, "GenerateDataKey")
		for _, i := range []int{11, 2} {
			if _, err := e.Encrypt(ctx, nil, map[string]string{"i": fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Encrypt(ctx, nil, map[string]string{"i": "0"}); err != nil {
			t.Fatal(err)
		}
		if got := countCalls(svc, "GenerateDataKey") - before; got != 1 {
			t.Errorf("%d calls for two cached entries and one evicted, want 1", got)
		}
	})

	if _, err := NewCache(func(o *CacheOptions) { o.MaxAge = 0 }); err == nil {
		t.Errorf("a cache with no MaxAge")
	}
}
