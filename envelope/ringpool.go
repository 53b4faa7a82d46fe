package envelope

import "sync"

// ringPool keeps the rings of parallel Writers and Readers for reuse. Such a
// ring is several segments, megabytes at 1 MiB segments, and the runtime
// zeroes every new one on the caller's core while the other cores wait: at
// 1 MiB segments on two cores that was 8–9% of a stream's wall time
// (BenchmarkTable, par2 rows, 0.82 of raw GCM against 0.91–0.96 with
// reuse). A ring goes back holding no plaintext: a Reader's wiped, a
// Writer's wiped or holding only the ciphertext it sealed in place (see
// Writer.Close). Whoever takes a ring writes each byte before reading it,
// as with a new one. Sequential rings (one segment) are not pooled: they
// stay small enough to allocate.
type ringPool struct {
	mu    sync.Mutex
	pools map[int]*sync.Pool // by ring length
}

// maxRingPools caps the distinct ring lengths pooled: segment sizes come
// from the messages read, and a stream of odd sizes must not grow the map.
const maxRingPools = 8

var rings ringPool

// get returns a ring of n bytes, zeroed or holding ciphertext.
func (p *ringPool) get(n int) []byte {
	p.mu.Lock()
	sp := p.pools[n]
	p.mu.Unlock()
	if sp != nil {
		if b, ok := sp.Get().(*[]byte); ok {
			return *b
		}
	}
	return make([]byte, n)
}

// put takes back a ring that holds no plaintext and that its owner no
// longer uses.
func (p *ringPool) put(b []byte) {
	p.mu.Lock()
	sp := p.pools[len(b)]
	if sp == nil && len(p.pools) < maxRingPools {
		if p.pools == nil {
			p.pools = make(map[int]*sync.Pool)
		}
		sp = new(sync.Pool)
		p.pools[len(b)] = sp
	}
	p.mu.Unlock()
	if sp != nil {
		sp.Put(&b)
	}
}
