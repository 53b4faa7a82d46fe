package envelope

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// batchJob is work on segments: do(lane, j) handles segment (or slot) j with
// lane's cipher. Writers and Readers implement it on themselves, with the
// work described in their fields, so that it costs no allocation.
type batchJob interface {
	do(lane, j int)
}

// jobFunc adapts a function, for one-shot calls where an allocation per
// message does not matter.
type jobFunc func(lane, j int)

func (f jobFunc) do(lane, j int) { f(lane, j) }

// forEach runs job.do(lane, j) for every j in [0, m), on up to lanes
// goroutines (the caller's included), and returns when all calls are done.
// Goroutine k uses lane k only, so no lane's cipher is shared. Segments are
// handed out one at a time, so a goroutine that starts late takes fewer. No
// goroutine outlives the call.
func forEach(lanes, m int, job batchJob) {
	if lanes > m {
		lanes = m
	}
	if lanes <= 1 {
		for j := 0; j < m; j++ {
			job.do(0, j)
		}
		return
	}
	forEachParallel(lanes, m, job)
}

// forEachParallel is forEach's parallel path, in a function of its own so
// that the variables its goroutines capture escape only here, and the
// sequential path allocates nothing.
func forEachParallel(lanes, m int, job batchJob) {
	var next atomic.Int64
	work := func(lane int) {
		for {
			j := int(next.Add(1) - 1)
			if j >= m {
				return
			}
			job.do(lane, j)
		}
	}
	var wg sync.WaitGroup
	wg.Add(lanes - 1)
	for k := 1; k < lanes; k++ {
		go func() {
			defer wg.Done()
			work(k)
		}()
	}
	work(0)
	wg.Wait()
}

// crew runs job.do(lane, slot) for slots the caller submits, on lanes-1
// helper goroutines and, while it waits, the caller itself (lane 0). It
// lives for one bulk call (Writer.Write of a large slice, Writer.ReadFrom,
// Reader.WriteTo): the helpers seal or open later segments while the caller
// writes out or reads earlier ones, instead of all meeting at a barrier after
// every batch, with the cores idle during the caller's I/O. (Starting the
// goroutines is not the cost: go plus a WaitGroup wait for two took about
// 0.5 µs on a 2-core VM.) stop ends it; no goroutine outlives the call.
type crew struct {
	job    batchJob
	work   chan int
	done   []atomic.Bool   // by slot: set once the slot's segment is processed
	signal []chan struct{} // by slot: a helper's "done" for a caller that blocked
	wg     sync.WaitGroup
}

func newCrew(job batchJob, lanes, slots int) *crew {
	c := &crew{job: job, work: make(chan int, slots), done: make([]atomic.Bool, slots), signal: make([]chan struct{}, slots)}
	for i := range c.signal {
		c.signal[i] = make(chan struct{}, 1)
	}
	c.wg.Add(lanes - 1)
	for k := 1; k < lanes; k++ {
		go c.help(k)
	}
	return c
}

func (c *crew) help(lane int) {
	defer c.wg.Done()
	for s := range c.work {
		c.job.do(lane, s)
		c.done[s].Store(true)
		select {
		case c.signal[s] <- struct{}{}:
		default: // a token is already there
		}
	}
}

// submit queues slot s. The caller never has more slots outstanding than
// the channel holds, so it does not block.
func (c *crew) submit(s int) {
	c.done[s].Store(false)
	c.work <- s
}

// spinFor is how long wait yields before it blocks: long enough to cover a
// helper finishing a segment or two (a 1 MiB segment takes about 0.25 ms)
// without the latency of waking a parked goroutine, short enough not to burn
// a core for long when a busy machine has descheduled the helper's thread.
const spinFor = time.Millisecond

// wait returns once slot s is processed. Meanwhile the caller processes
// queued slots itself, or yields a while, and then blocks.
func (c *crew) wait(s int) {
	var since time.Time
	for spins := 0; !c.done[s].Load(); spins++ {
		select {
		case t := <-c.work:
			c.job.do(0, t)
			c.done[t].Store(true)
			since = time.Time{}
		default:
			if since.IsZero() {
				since = time.Now()
			}
			if spins%64 != 0 || time.Since(since) < spinFor {
				runtime.Gosched()
				continue
			}
			// Only the caller submits, so no new work can appear while it
			// blocks. A token may be stale (from an earlier use of the
			// slot); the loop checks done again.
			<-c.signal[s]
		}
	}
}

// stop lets the helpers finish what is queued and waits for them.
func (c *crew) stop() {
	close(c.work)
	c.wg.Wait()
}

// ringSlots is the number of segment slots a Writer or Reader keeps: two
// when sequential (one segment plus one read ahead), and when parallel two
// per lane, or up to eight per lane while the ring stays within ringTarget.
// Small segments need the deeper queue: at 64 KiB a segment takes the time
// of a few hand-overs between goroutines, and eight slots for two lanes
// reached 0.85 of raw GCM on two goroutines where sixteen reached 0.9. Large
// ones do not, and every slot more is memory the cores write through the
// cache: at 1 MiB, a ring of sixteen reached 0.80, eight 0.88–0.92 and four
// 0.92–0.98 of raw GCM on two goroutines (BenchmarkTable, same runs). The
// ring is capped at maxRingBytes (but never below two slots): a message's
// writer chooses its segment size, up to 16 MiB, and must not be able to
// make a Reader allocate much more.
func ringSlots(lanes, stride int) int {
	if lanes <= 1 {
		return 2
	}
	n := max(2*lanes, min(8*lanes, ringTarget/stride))
	return max(2, min(n, maxRingBytes/stride))
}

const (
	ringTarget   = 1 << 20
	maxRingBytes = 64 << 20
)
