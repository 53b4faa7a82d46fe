package fakecloud

import (
	"sync"
	"time"
)

// Entry is one request as the emulator saw it. It holds no secrets: no
// access key secret, token, plaintext or ciphertext.
type Entry struct {
	Seq           int       // 1, 2, … in the order requests finished
	Time          time.Time // emulator time when the request was decided
	Service       string    // "kms", "ram" or "sts"
	Action        string    // "SetKeyPolicy"
	CallerAccount string    // UID of the caller's account; "" if authentication failed
	Caller        string    // the caller's ARN (root, user, assumed-role) or service principal
	TargetAccount string    // account owning the target (key, role), where known
	Status        int       // HTTP status; 0 if the caller gave up during injected latency
	Code          string    // error code, "" on success
	RequestID     string
	Fault         string // "throttle", "unavailable", "lost-response" or "latency" when a fault was injected
	// Write is set for operations that change KMS or RAM state
	// (SetKeyPolicy, CreateRole, AttachPolicyToRole, …), whether or not
	// they succeeded. STS calls are not writes.
	Write bool
}

// Match selects log entries. Zero fields match anything.
type Match struct {
	Service       string
	Action        string
	CallerAccount string
	Caller        string
	TargetAccount string
	Status        int
	Code          string
	// Failed selects only entries with an error (Status ≥ 400).
	Failed bool
	// Writes selects only operations that change KMS or RAM state.
	Writes bool
}

func (m Match) matches(e *Entry) bool {
	return (m.Service == "" || m.Service == e.Service) &&
		(m.Action == "" || m.Action == e.Action) &&
		(m.CallerAccount == "" || m.CallerAccount == e.CallerAccount) &&
		(m.Caller == "" || m.Caller == e.Caller) &&
		(m.TargetAccount == "" || m.TargetAccount == e.TargetAccount) &&
		(m.Status == 0 || m.Status == e.Status) &&
		(m.Code == "" || m.Code == e.Code) &&
		(!m.Failed || e.Status >= 400) &&
		(!m.Writes || e.Write)
}

// DefaultLogLimit is how many entries the log keeps by default.
const DefaultLogLimit = 100_000

// Log is the emulator's request log. It keeps the most recent entries (see
// Options.LogLimit); queries see only those. It is safe for concurrent use.
type Log struct {
	mu      sync.Mutex
	entries []Entry
	seq     int
	limit   int // ≤ 0: unlimited
}

func (l *Log) add(e Entry) {
	l.mu.Lock()
	l.seq++
	e.Seq = l.seq
	l.entries = append(l.entries, e)
	// Trim in batches so that adding stays O(1) amortized.
	if l.limit > 0 && len(l.entries) >= l.limit+l.limit/4+1 {
		n := copy(l.entries, l.entries[len(l.entries)-l.limit:])
		clear(l.entries[n:])
		l.entries = l.entries[:n]
	}
	l.mu.Unlock()
}

// Entries returns a copy of the entries matching m, oldest first.
func (l *Log) Entries(m Match) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Entry
	for i := range l.entries {
		if m.matches(&l.entries[i]) {
			out = append(out, l.entries[i])
		}
	}
	return out
}

// Count returns how many entries match m.
func (l *Log) Count(m Match) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for i := range l.entries {
		if m.matches(&l.entries[i]) {
			n++
		}
	}
	return n
}

// Mark returns a position in the log; Since(mark, m) counts only what came
// after it, so a test can assert on one phase ("zero writes on re-apply").
func (l *Log) Mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// Since returns the entries after mark that match m.
func (l *Log) Since(mark int, m Match) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Entry
	for i := range l.entries {
		if l.entries[i].Seq > mark && m.matches(&l.entries[i]) {
			out = append(out, l.entries[i])
		}
	}
	return out
}

// Reset empties the log. Sequence numbers keep counting.
func (l *Log) Reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}
