package share_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// benchOrg is an organisation of accounts members spread over six folders
// (apps and five sub-folders), and keys keys in the Security account's
// instance, on the real clock with latency injected into every call.
func benchOrg(b *testing.B, accounts, keys int, latency time.Duration) (*org, *share.Client) {
	b.Helper()
	lz := &landingZone{}
	lz.cloud = fakecloud.New(fakecloud.Options{Seed: 5, LogLimit: -1})
	lz.mgmt = lz.cloud.NewAccount("management")
	rd, err := lz.cloud.NewResourceDirectory(lz.mgmt)
	if err != nil {
		b.Fatal(err)
	}
	lz.rd = rd
	g := &org{landingZone: lz}
	lz.apps = rd.Root().NewFolder("apps")
	folders := []*fakecloud.Folder{lz.apps}
	for _, name := range []string{"prod", "dev", "test", "stage", "sandbox"} {
		folders = append(folders, lz.apps.NewFolder(name))
	}
	g.prod = folders[1]
	lz.security = rd.Root().NewMember("security")
	for i := 0; i < accounts; i++ {
		lz.members = append(lz.members, folders[i%len(folders)].NewMember(fmt.Sprintf("app-%d", i)))
	}
	lz.instance = lz.security.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: accounts + 10})
	for i := 0; i < keys; i++ {
		k, err := lz.instance.NewKey(fakecloud.KeyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		g.keys = append(g.keys, k)
	}
	if lz.pipeline, err = lz.mgmt.NewUser("pipeline", "AdministratorAccess"); err != nil {
		b.Fatal(err)
	}
	lz.cloud.Faults().Add(fakecloud.Fault{Latency: latency})
	c, err := share.New(lz.cloud.Config(lz.pipeline.Credentials(), "cn-hangzhou"))
	if err != nil {
		b.Fatal(err)
	}
	return g, c
}

// orgFigures are the measurements of one organisation-scale run.
type orgFigures struct {
	plan, apply, reapply, onboard       time.Duration
	planCalls, applyCalls, onboardCalls int
	keyWrites, reapplyWrites            int
	onboardWrites                       int
	marshal                             time.Duration
	planBytes                           int
}

// runOrg plans and applies a manifest granting every key to apps and its
// sub-folders, applies it again, then onboards one new account.
func runOrg(b *testing.B, accounts, keys int) orgFigures {
	b.Helper()
	g, c := benchOrg(b, accounts, keys, 20*time.Millisecond)
	m := g.manifest(`{"folders": [{"folder": "apps", "subfolders": true}]}`)
	ctx := context.Background()
	var f orgFigures

	seq := g.lastSeq()
	start := time.Now()
	p, err := c.PlanManifest(ctx, m, share.ManifestOptions{})
	if err != nil {
		b.Fatal(err)
	}
	f.plan = time.Since(start)
	f.planCalls = g.lastSeq() - seq
	if len(p.Accounts) != accounts {
		b.Fatalf("plan selects %d accounts, want %d", len(p.Accounts), accounts)
	}
	// The seal of a plan is a SHA-256 of its JSON, taken by PlanManifest
	// and again by ApplyManifest: the marshal is most of that cost.
	start = time.Now()
	data, err := json.Marshal(p)
	if err != nil {
		b.Fatal(err)
	}
	f.marshal, f.planBytes = time.Since(start), len(data)

	seq = g.lastSeq()
	start = time.Now()
	if _, err := c.ApplyManifest(ctx, p); err != nil {
		b.Fatal(err)
	}
	f.apply = time.Since(start)
	f.applyCalls = g.lastSeq() - seq
	f.keyWrites = g.writes(seq)["SetKeyPolicy"]

	seq = g.lastSeq()
	start = time.Now()
	again, err := c.PlanManifest(ctx, m, share.ManifestOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.ApplyManifest(ctx, again); err != nil {
		b.Fatal(err)
	}
	f.reapply = time.Since(start)
	for _, n := range g.writes(seq) {
		f.reapplyWrites += n
	}

	newcomer := g.prod.NewMember("newcomer")
	seq = g.lastSeq()
	start = time.Now()
	ob, err := c.Onboard(ctx, m, newcomer.ID)
	if err != nil {
		b.Fatal(err)
	}
	f.onboard = time.Since(start)
	f.onboardCalls = g.lastSeq() - seq
	f.onboardWrites = g.writes(seq)["SetKeyPolicy"]
	if len(ob.Account.Keys) != keys {
		b.Fatalf("onboarded with %d keys, want %d", len(ob.Account.Keys), keys)
	}
	return f
}

func (f orgFigures) report(b *testing.B) {
	b.ReportMetric(f.plan.Seconds(), "plan-s")
	b.ReportMetric(f.marshal.Seconds(), "plan-marshal-s")
	b.ReportMetric(float64(f.planBytes), "plan-json-bytes")
	b.ReportMetric(f.apply.Seconds(), "apply-s")
	b.ReportMetric(f.reapply.Seconds(), "reapply-s")
	b.ReportMetric(f.onboard.Seconds(), "onboard-s")
	b.ReportMetric(float64(f.planCalls), "plan-calls")
	b.ReportMetric(float64(f.applyCalls), "apply-calls")
	b.ReportMetric(float64(f.keyWrites), "keypolicy-writes")
	b.ReportMetric(float64(f.reapplyWrites), "reapply-writes")
	b.ReportMetric(float64(f.onboardCalls), "onboard-calls")
	b.ReportMetric(float64(f.onboardWrites), "onboard-writes")
}

// BenchmarkManifestOrg is the target organisation: 20 keys × 300 member
// accounts in 6 folders, 20 ms of latency on every call (real time).
// Targets: plan ≤ 10 s, apply ≤ 30 s, one key-policy write per key, no
// write on the second apply, onboarding ≤ 1 s in O(keys) calls.
func BenchmarkManifestOrg(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := runOrg(b, 300, 20)
		f.report(b)
		b.StartTimer()
	}
}

// BenchmarkManifestGrowth shows how calls and wall time grow with the
// number of accounts (10 to 300) and keys (1 to 20).
func BenchmarkManifestGrowth(b *testing.B) {
	for _, keys := range []int{1, 5, 20} {
		for _, accounts := range []int{10, 50, 100, 300} {
			b.Run(fmt.Sprintf("keys=%d/accounts=%d", keys, accounts), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					f := runOrg(b, accounts, keys)
					f.report(b)
					b.StartTimer()
				}
			})
		}
	}
}
