package envelope

import (
	"sync"
	"sync/atomic"
)

// batchJob is work on the segments of a batch: do(lane, j) handles segment j
// with lane's cipher. Writers and Readers implement it on themselves, with
// the batch described in their fields, so that a batch costs no allocation.
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

// batchSegments is the number of segments a parallel Writer or Reader
// handles per batch: about parallelBatchBytes, so that starting the
// goroutines is amortised, but 4 to 64 segments per lane.
func batchSegments(lanes, seg int) int {
	if lanes <= 1 {
		return 1
	}
	return min(max(lanes*minSegmentsPerLane, parallelBatchBytes/seg), lanes*maxSegmentsPerLane)
}

const (
	parallelBatchBytes = 4 << 20
	minSegmentsPerLane = 4
	maxSegmentsPerLane = 64
)
