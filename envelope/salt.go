package envelope

import (
	"crypto/rand"
	"sync"
)

// saltBuffers hand out salts from crypto/rand read a page at a time. A salt
// is public (the header stores it) and must only be unpredictable and never
// used twice: a buffer is held by one goroutine between Get and Put, and
// each of its bytes leaves it once (and is zeroed as it leaves). A
// getrandom call per message was about 4% of a one-shot 1 KiB message
// (BenchmarkTable, in-process key service); a page serves 128 salts.
var saltBuffers = sync.Pool{New: func() any { return new(saltBuffer) }}

type saltBuffer struct {
	b    [4096]byte
	left int // bytes at the end of b not yet handed out
}

// readSalt fills dst (at most a page) with fresh random bytes.
func readSalt(dst []byte) {
	sb := saltBuffers.Get().(*saltBuffer)
	sb.read(dst)
	saltBuffers.Put(sb)
}

func (sb *saltBuffer) read(dst []byte) {
	if sb.left < len(dst) {
		rand.Read(sb.b[:]) // never fails since Go 1.24
		sb.left = len(sb.b)
	}
	from := len(sb.b) - sb.left
	copy(dst, sb.b[from:])
	clear(sb.b[from : from+len(dst)])
	sb.left -= len(dst)
}
