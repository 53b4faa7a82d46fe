package envelope

import "sync"

// forEach calls fn(lane, j) for every j in [0, m), on up to lanes goroutines
// (the caller's included), and returns when all calls are done. Lane k handles
// j = k, k+lanes, k+2·lanes, … so each lane's cipher is used by one goroutine
// only. No goroutine outlives the call.
func forEach(lanes, m int, fn func(lane, j int)) {
	if lanes > m {
		lanes = m
	}
	if lanes <= 1 {
		for j := 0; j < m; j++ {
			fn(0, j)
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(lanes - 1)
	for k := 1; k < lanes; k++ {
		go func() {
			defer wg.Done()
			for j := k; j < m; j += lanes {
				fn(k, j)
			}
		}()
	}
	for j := 0; j < m; j += lanes {
		fn(0, j)
	}
	wg.Wait()
}
