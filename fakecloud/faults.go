package fakecloud

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Fault makes matching requests fail or slow down. Empty selectors match
// everything; probabilities are drawn from the emulator's seeded source, so
// a run with the same Seed and the same request order sees the same faults.
type Fault struct {
	Service string // "kms", "ram", "sts"; "" for all
	Action  string // "SetKeyPolicy"; "" for all
	Account string // the caller's account UID; "" for all

	// Throttle is the probability of a throttle: KMS answers 429
	// Rejected.Throttling, RAM and STS 400 Throttling.User.
	Throttle float64
	// Unavailable is the probability of a 503: KMS's
	// SerivceUnvailableTemporary (Alibaba's spelling), RAM's and STS's
	// ServiceUnavailable.
	Unavailable float64
	// Internal is the probability of a 500: KMS's InternalFailure, RAM's
	// and STS's InternalError.
	Internal float64
	Latency  time.Duration // real time added before the request is decided
	// LostResponse is the probability that the request is carried out but
	// its caller gets a 503 (as for Unavailable) anyway, as when a response is
	// lost on the way back: a retry must not assume nothing happened.
	LostResponse float64
}

func (f *Fault) matches(service, action, account string) bool {
	return (f.Service == "" || f.Service == service) &&
		(f.Action == "" || f.Action == action) &&
		(f.Account == "" || f.Account == account)
}

// Faults holds the injected faults. It is safe for concurrent use.
type Faults struct {
	mu     sync.Mutex
	rng    *rand.Rand
	next   int
	faults map[int]Fault
	order  []int
}

func newFaults(seed uint64) *Faults {
	return &Faults{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), faults: map[int]Fault{}}
}

// Add installs f and returns an ID for Remove.
func (fs *Faults) Add(f Fault) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.next++
	fs.faults[fs.next] = f
	fs.order = append(fs.order, fs.next)
	return fs.next
}

// Remove uninstalls the fault with the given ID.
func (fs *Faults) Remove(id int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	delete(fs.faults, id)
	for i, x := range fs.order {
		if x == id {
			fs.order = append(fs.order[:i], fs.order[i+1:]...)
			break
		}
	}
}

// Clear removes every fault.
func (fs *Faults) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	clear(fs.faults)
	fs.order = nil
}

// outcome is what the faults decided for one request.
type outcome struct {
	latency time.Duration
	code    string // the service's throttle, 503 or 500 code, or ""
	fault   string // the log's name for it: "throttle", "unavailable" or "internal"
	lost    bool   // run the request, then answer 503 (LostResponse)
}

// decide draws the faults for one request before it runs, so a faulted
// request changes nothing. Latencies of several matching faults add up; the
// first failure drawn wins.
func (fs *Faults) decide(service, action, account string) outcome {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var o outcome
	for _, id := range fs.order {
		f := fs.faults[id]
		if !f.matches(service, action, account) {
			continue
		}
		o.latency += f.Latency
		if f.LostResponse > 0 && fs.rng.Float64() < f.LostResponse {
			o.lost = true
		}
		if f.Throttle <= 0 && f.Unavailable <= 0 && f.Internal <= 0 {
			continue
		}
		u := fs.rng.Float64()
		if o.code != "" {
			continue // keep drawing so the sequence does not depend on earlier outcomes
		}
		switch {
		case u < f.Throttle:
			o.code, o.fault = throttleCode(service), "throttle"
		case u < f.Throttle+f.Unavailable:
			o.code, o.fault = unavailableCode(service), "unavailable"
		case u < f.Throttle+f.Unavailable+f.Internal:
			o.code, o.fault = internalCode(service), "internal"
		}
	}
	return o
}

// throttleCode is how service throttles: KMS with 429 Rejected.Throttling
// ("QPS Limit Exceeded"), RAM and STS with 400 Throttling.User.
func throttleCode(service string) string {
	if service == "kms" {
		return "Rejected.Throttling"
	}
	return "Throttling.User"
}

// unavailableCode is service's 503, in KMS with Alibaba's own spelling.
func unavailableCode(service string) string {
	if service == "kms" {
		return "SerivceUnvailableTemporary"
	}
	return "ServiceUnavailable"
}

// internalCode is service's 500.
func internalCode(service string) string {
	if service == "kms" {
		return "InternalFailure"
	}
	return "InternalError"
}
