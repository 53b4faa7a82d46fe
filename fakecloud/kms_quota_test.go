package fakecloud

import (
	"fmt"
	"maps"
	"math/rand"
	"strings"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/policy"
)

// recount is the quota count as it was before foreignTally: every
// principal of every key read again (the reference for
// TestQuotaTallyMatchesRecount).
type recount struct {
	c        *Cloud
	inst     *instance
	released map[string]time.Time
}

func (r *recount) inUse(now time.Time) map[string]bool {
	set := map[string]bool{}
	for _, k := range r.inst.keys {
		if !k.gone(now) {
			foreignAccounts(k.policy.latest(), r.inst.account.id, set)
		}
	}
	return set
}

func (r *recount) used(now time.Time, change *key, doc *policy.Document) int {
	owner, set, seen := r.inst.account.id, map[string]bool{}, false
	for _, k := range r.inst.keys {
		d := k.policy.latest()
		if k == change {
			d, seen = doc, true
		}
		if k.gone(now) {
			if now.Before(k.deleteDate.Add(r.c.quotaRelease)) {
				foreignAccounts(d, owner, set)
			}
			continue
		}
		foreignAccounts(d, owner, set)
	}
	if change != nil && !seen {
		foreignAccounts(doc, owner, set)
	}
	for a, t := range r.released {
		if now.Before(t.Add(r.c.quotaRelease)) {
			set[a] = true
		}
	}
	return len(set) + len(r.inst.bound)
}

func (r *recount) change(now time.Time, f func()) {
	before := r.inUse(now)
	f()
	after := r.inUse(now)
	for a := range before {
		if !after[a] {
			r.released[a] = now
		}
	}
	for a, t := range r.released {
		if after[a] || !now.Before(t.Add(r.c.quotaRelease)) {
			delete(r.released, a)
		}
	}
}

// TestQuotaTallyMatchesRecount: with the cached foreign-account tally, a
// random sequence of policy writes, new keys, key deletions and clock
// moves gets the same quota counts, the same accept/refuse decisions and
// the same released accounts as a full recount.
func TestQuotaTallyMatchesRecount(t *testing.T) {
	t.Parallel()
	for seed := int64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewSource(seed))
			clock := NewManualClock(time0)
			c := New(Options{Clock: clock, QuotaReleaseDelay: time.Duration(rng.Intn(3)) * time.Minute})
			owner := c.NewAccount("owner")
			h := owner.NewKMSInstance(region, InstanceOptions{Quota: 4 + rng.Intn(8), VPCs: rng.Intn(2)})
			inst := h.state()
			ref := &recount{c: c, inst: inst, released: map[string]time.Time{}}
			accts := make([]string, 12)
			for i := range accts {
				accts[i] = fmt.Sprintf("1%015d", i)
			}
			randomDoc := func() *policy.Document {
				var allow, deny []string
				for _, a := range accts {
					switch rng.Intn(6) {
					case 0:
						allow = append(allow, "acs:ram::"+a+":root")
					case 1:
						deny = append(deny, "acs:ram::"+a+":role/r")
					}
				}
				allow = append(allow, "acs:ram::"+owner.ID+":*", "acs:ram::1*:*") // the owner and a pattern: never counted
				raw := keyPolicy(owner.ID, allow)
				if len(deny) > 0 {
					st := `{"Action":["kms:*"],"Effect":"Deny","Principal":{"RAM":["` + strings.Join(deny, `","`) + `"]},"Resource":["*"]}`
					raw = strings.Replace(raw, `],"Version"`, ","+st+`],"Version"`, 1)
				}
				doc, err := policy.Parse([]byte(raw))
				if err != nil {
					t.Fatal(err)
				}
				return doc
			}
			decisions, refusals := 0, 0
			for step := range 300 {
				now := clock.Now()
				switch op := rng.Intn(10); {
				case op < 6 || len(inst.keys) == 0: // SetKeyPolicy, or CreateKey
					doc := randomDoc()
					k := &key{account: inst.account, inst: inst, state: keyEnabled}
					isNew := len(inst.keys) == 0 || rng.Intn(5) == 0
					if !isNew {
						k = inst.keys[rng.Intn(len(inst.keys))]
					}
					want := ref.used(now, nil, nil)
					wantAfter := ref.used(now, k, doc)
					refuse := wantAfter > inst.quota && wantAfter > want
					e := c.checkQuota(inst, now, k, doc, func(code, detail string) *Error { return &Error{Code: code} })
					if (e != nil) != refuse {
						t.Fatalf("step %d: refused = %v, recount says %v (%d → %d of %d)", step, e != nil, refuse, want, wantAfter, inst.quota)
					}
					decisions++
					if refuse {
						refusals++
						continue
					}
					apply := func() {
						if isNew {
							k.policy = newTimeline(doc)
							inst.keys = append(inst.keys, k)
						} else {
							k.policy.set(now, doc, now)
						}
					}
					// The reference notes releases from the state around
					// the tally's own changeInstance.
					ref.change(now, func() { c.changeInstance(inst, now, apply) })
				case op < 7: // schedule a key's deletion
					k := inst.keys[rng.Intn(len(inst.keys))]
					if k.state != keyPendingDeletion {
						k.state, k.deleteDate = keyPendingDeletion, now.Add(time.Duration(rng.Intn(3))*time.Minute)
					}
				default:
					clock.Advance(time.Duration(rng.Intn(90)) * time.Second)
				}
				now = clock.Now()
				if got, want := c.quotaUsed(inst, now, nil, nil), ref.used(now, nil, nil); got != want {
					t.Fatalf("step %d: quotaUsed = %d, recount %d", step, got, want)
				}
				if !maps.Equal(inst.released, ref.released) {
					t.Fatalf("step %d: released = %v, recount %v", step, inst.released, ref.released)
				}
			}
			if decisions == refusals || refusals == 0 {
				t.Fatalf("%d decisions, %d refusals: want both kinds", decisions, refusals)
			}
		})
	}
}

// BenchmarkQuotaSetKeyPolicy is the quota work of one SetKeyPolicy (the
// check and the release bookkeeping) in an instance of 20 keys whose
// policies each name 300 foreign accounts: with the tally, and with the
// full recount it replaced.
func BenchmarkQuotaSetKeyPolicy(b *testing.B) {
	clock := NewManualClock(time0)
	c := New(Options{Clock: clock})
	owner := c.NewAccount("owner")
	inst := owner.NewKMSInstance(region, InstanceOptions{Quota: 400}).state()
	docFor := func(n int) *policy.Document {
		var ps []string
		for i := range n {
			ps = append(ps, fmt.Sprintf("acs:ram::1%015d:role/resourcedirectoryaccountaccessrole", i))
		}
		return must(policy.Parse([]byte(keyPolicy(owner.ID, ps))))
	}
	full, more := docFor(300), docFor(301)
	for range 20 {
		inst.keys = append(inst.keys, &key{account: inst.account, inst: inst, state: keyEnabled, policy: newTimeline(full)})
	}
	k := inst.keys[0]
	fail := func(code, detail string) *Error { return &Error{Code: code} }
	b.Run("tally", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			now := clock.Now()
			doc := []*policy.Document{more, full}[i%2]
			if e := c.checkQuota(inst, now, k, doc, fail); e != nil {
				b.Fatal(e)
			}
			c.changeInstance(inst, now, func() { k.policy.set(now, doc, now) })
		}
	})
	b.Run("recount", func(b *testing.B) {
		ref := &recount{c: c, inst: inst, released: map[string]time.Time{}}
		for i := 0; i < b.N; i++ {
			now := clock.Now()
			doc := []*policy.Document{more, full}[i%2]
			if before, after := ref.used(now, nil, nil), ref.used(now, k, doc); after > inst.quota && after > before {
				b.Fatal("refused")
			}
			ref.change(now, func() { k.policy.set(now, doc, now) })
		}
	})
}

// TestQuotaReadersLeaveTallyAlone: GetKmsInstanceQuotaInfos runs under the
// read lock, so concurrent calls must not update the shared tally, even
// when it is out of date (run with -race); they answer from a recount,
// and the tally is brought up to date by the next writer.
func TestQuotaReadersLeaveTallyAlone(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	inst := w.sec.NewKMSInstance(region, InstanceOptions{Quota: 10})
	k := must(inst.NewKey(KeyOptions{}))
	kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	wantCode(t, setKeyPolicy(kc, k.ID, keyPolicy(w.sec.ID, []string{"acs:ram::" + w.app1.ID + ":root"})), "")
	// A policy written behind the tally's back: it is out of date.
	doc := must(policy.Parse([]byte(keyPolicy(w.sec.ID, []string{"acs:ram::" + w.app1.ID + ":root", "acs:ram::" + w.app2.ID + ":root"}))))
	inst.locked(func(c *Cloud, st *instance) {
		key := c.keys[k.ID]
		key.policy.set(c.clock.Now(), doc, c.clock.Now())
		if st.foreign.inSync(st) {
			t.Fatal("tally in sync after a policy written behind its back")
		}
	})
	errs := make(chan error, 8)
	for range 8 {
		kc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms // an SDK client is not safe for concurrent use
		go func() {
			out, err := kc.GetKmsInstanceQuotaInfosWithContext(ctxb(), &kms.GetKmsInstanceQuotaInfosRequest{KmsInstanceId: tea.String(inst.ID), ResourceType: tea.String("vpc")}, rt)
			if err == nil && tea.Int64Value(out.Body.KmsInstanceQuotaInfos[0].UsedQuantity) != 2 {
				err = fmt.Errorf("used %d, want 2", tea.Int64Value(out.Body.KmsInstanceQuotaInfos[0].UsedQuantity))
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	inst.locked(func(_ *Cloud, st *instance) {
		if st.foreign.inSync(st) {
			t.Error("a reader updated the tally")
		}
	})
	wantCode(t, setKeyPolicy(kc, k.ID, keyPolicy(w.sec.ID, []string{"acs:ram::" + w.app2.ID + ":root"})), "")
	if n := inst.QuotaUsed(); n != 2 {
		t.Errorf("QuotaUsed = %d after the next write, want 2 (app-2, and app-1 until its release)", n)
	}
	inst.locked(func(_ *Cloud, st *instance) {
		if !st.foreign.inSync(st) {
			t.Error("tally out of date after a write")
		}
	})
}
