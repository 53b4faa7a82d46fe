package envelope

import (
	"sync"
	"testing"
)

// TestReadSaltUnique draws salts on several goroutines, across many pages,
// and checks that none repeats and none is all zeros (a byte handed out
// twice would come back zeroed).
func TestReadSaltUnique(t *testing.T) {
	t.Parallel()
	const goroutines, per = 4, 1000 // ~31 pages each
	var (
		mu   sync.Mutex
		seen = make(map[[32]byte]bool, goroutines*per)
		wg   sync.WaitGroup
	)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				var s [32]byte
				readSalt(s[:])
				mu.Lock()
				if seen[s] {
					t.Errorf("salt %x handed out twice", s)
				}
				seen[s] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if seen[[32]byte{}] {
		t.Error("a zero salt")
	}
}

// TestSaltBufferZeroesWhatItHandsOut checks that a buffer keeps no copy of
// the bytes it handed out, and refills when what is left is too short.
func TestSaltBufferZeroesWhatItHandsOut(t *testing.T) {
	t.Parallel()
	sb := new(saltBuffer)
	var s [32]byte
	for i := range len(sb.b)/len(s) + 1 {
		sb.read(s[:])
		if s == [32]byte{} {
			t.Fatalf("salt %d is zero", i)
		}
		used := len(sb.b) - sb.left
		if i < len(sb.b)/len(s) && used != (i+1)*len(s) || i == len(sb.b)/len(s) && used != len(s) {
			t.Fatalf("salt %d: %d bytes used", i, used)
		}
		for _, c := range sb.b[:used] {
			if c != 0 {
				t.Fatalf("salt %d: a handed-out byte is still in the buffer", i)
			}
		}
	}
}
