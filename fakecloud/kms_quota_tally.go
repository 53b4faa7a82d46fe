package fakecloud

import (
	"time"

	"github.com/kmsshare/kmsshare/policy"
)

// foreignTally caches, per instance, the foreign accounts each key's
// policy names and how many keys name each account, so that a quota check
// costs O(keys + the changed key's principals) instead of re-reading every
// principal of every key (issue 13). An entry is valid while the key's
// latest policy is the document it was computed from: a policy write
// stores a new document, so it invalidates the entry (policy documents are
// never modified in place). Keys are never removed from an instance; a
// deleted key keeps its entry and is left out of the counts by state
// (quotaCounted, liveCounted), as the recount did. Only holders of the
// exclusive lock change it (checkQuota, changeInstance).
type foreignTally struct {
	keys  map[*key]foreignSet
	names map[string]int // account → number of keys (any state) naming it
	// last is the set most recently computed for a proposed document
	// (checkQuota), reused when that document is then written.
	last foreignSet
}

// list returns doc's foreign accounts, computed once for the document
// just checked and then written.
func (t *foreignTally) list(doc *policy.Document, owner string) []string {
	if t.last.doc != doc || doc == nil {
		t.last = foreignSet{doc: doc, accts: foreignList(doc, owner)}
	}
	return t.last.accts
}

type foreignSet struct {
	doc   *policy.Document
	accts []string
}

// foreignList is the accounts doc's grants count against the quota
// (policy.ForeignAccounts, as foreignAccounts), sorted.
func foreignList(doc *policy.Document, owner string) []string {
	return policy.ForeignAccounts(doc, owner)
}

// inSync reports whether the tally holds every key of the instance at its
// latest policy, without changing it.
func (t *foreignTally) inSync(inst *instance) bool {
	if t.keys == nil || len(t.keys) != len(inst.keys) {
		return false
	}
	for _, k := range inst.keys {
		if e, ok := t.keys[k]; !ok || e.doc != k.policy.latest() {
			return false
		}
	}
	return true
}

// sync brings the tally up to date with the instance's keys and returns
// the counts, before the update, of the accounts whose count it changed.
func (t *foreignTally) sync(inst *instance) (prior map[string]int) {
	if t.keys == nil {
		t.keys, t.names = map[*key]foreignSet{}, map[string]int{}
	}
	prior = map[string]int{}
	bump := func(a string, d int) {
		if _, ok := prior[a]; !ok {
			prior[a] = t.names[a]
		}
		if t.names[a] += d; t.names[a] <= 0 {
			delete(t.names, a)
		}
	}
	for _, k := range inst.keys {
		d := k.policy.latest()
		e, ok := t.keys[k]
		if ok && e.doc == d {
			continue
		}
		for _, a := range e.accts {
			bump(a, -1)
		}
		e = foreignSet{doc: d, accts: t.list(d, inst.account.id)}
		for _, a := range e.accts {
			bump(a, 1)
		}
		t.keys[k] = e
	}
	return prior
}

// usage answers, for one instance state, how many distinct accounts the
// counted keys name and whether one account is among them. Keys left out
// (by state) are subtracted from the tally in an overlay.
type usage struct {
	t     *foreignTally
	delta map[string]int
}

// newUsage counts the keys for which counted is true, with change's set
// replaced by add (change may be a key not yet in the instance; nil for
// none).
func (t *foreignTally) newUsage(inst *instance, counted func(*key) bool, change *key, add []string) usage {
	u := usage{t: t, delta: map[string]int{}}
	seen := false
	for _, k := range inst.keys {
		in := counted(k)
		if k == change {
			seen = true
			if in {
				for _, a := range add {
					u.delta[a]++
				}
			}
			in = false
		}
		if !in {
			for _, a := range t.keys[k].accts {
				u.delta[a]--
			}
		}
	}
	if change != nil && !seen {
		for _, a := range add {
			u.delta[a]++
		}
	}
	return u
}

func (u usage) has(a string) bool { return u.t.names[a]+u.delta[a] > 0 }

// size is the number of distinct accounts named by counted keys.
func (u usage) size() int {
	n := len(u.t.names)
	for a, d := range u.delta {
		before := u.t.names[a]
		switch after := before + d; {
		case before > 0 && after <= 0:
			n--
		case before <= 0 && after > 0:
			n++
		}
	}
	return n
}

// quotaCounted reports whether k's policy counts towards the access
// management quota at now: live keys, and deleted ones until the release
// delay after their deletion date.
func (c *Cloud) quotaCounted(now time.Time) func(*key) bool {
	return func(k *key) bool { return !k.gone(now) || now.Before(k.deleteDate.Add(c.quotaRelease)) }
}

// liveCounted reports whether k is a live key at now.
func liveCounted(now time.Time) func(*key) bool {
	return func(k *key) bool { return !k.gone(now) }
}
