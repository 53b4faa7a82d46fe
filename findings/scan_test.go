package findings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/google/go-cmp/cmp"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// TestSeededOrganisation: one case of every finding, each reported
// exactly once with the right code and location, and nothing else.
func TestSeededOrganisation(t *testing.T) {
	t.Parallel()
	o := newOrg(t, true)
	rep, err := Scan(context.Background(), o.config, o.target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	name := map[string]string{}
	for n, k := range o.keys {
		name[k.ARN] = n
	}
	var got []string
	for _, f := range rep.Findings {
		where := name[f.Key]
		if where == "" {
			where = "instance " + f.Instance
			if f.Instance == o.keys["quota"].Instance.ID {
				where = "instance edge"
			}
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", f.Code, where, f.Document, pointerOf(f)))
	}
	slices.Sort(got)
	want := []string{
		"cannot-rotate asymmetric key ",
		"cross-account-admin admin key policy /Statement/1/Action/1",
		"dangling-account left key policy /Statement/1/Principal/RAM/0",
		"dangling-principal gone key policy /Statement/1/Principal/RAM/0",
		"half-grant half key policy /Statement/1/Principal/RAM/0",
		"ineffective-action ineffective key policy /Statement/1/Action/1",
		"no-deletion-protection nodp key ",
		"outside-directory outside key policy /Statement/1/Principal/RAM/0",
		"outside-trust-zone zone key policy /Statement/1/Principal/RAM/0",
		"owner-can-reshare reshare key policy /Statement/2/Principal/RAM/0",
		"quota-nearly-used instance edge instance ",
		"ram-only-grant ramonly RAM policy Custom/app-keys /Statement/1/Resource/0",
		"rotation-off norot key ",
		"shared-key-disabled disabled key ",
		"shared-key-pending-deletion pending key ",
		"wildcard-principal wild key policy /Statement/1/Principal/RAM/0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	// Every code the package knows is exercised by the seeded organisation.
	codes := map[string]bool{}
	for _, f := range rep.Findings {
		codes[f.Code] = true
		if f.Severity != ruleOf(f.Code).Severity || f.Message == "" || f.Fix == "" || f.ID == "" {
			t.Errorf("finding %+v: severity, message, fix or ID missing", f)
		}
	}
	for _, c := range Codes() {
		if !codes[c] {
			t.Errorf("code %s not seeded", c)
		}
	}
	if !rep.Fails(SeverityError) || !rep.Fails(SeveritySuggestion) {
		t.Error("Fails: the seeded organisation has error findings")
	}
}

func TestCleanOrganisation(t *testing.T) {
	t.Parallel()
	o := newOrg(t, false)
	rep, err := Scan(context.Background(), o.config, o.target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 {
		t.Errorf("clean organisation: %d findings: %+v", len(rep.Findings), rep.Findings)
	}
	if len(rep.Keys) != 3 || len(rep.Recipients) != 1 || len(rep.Principals) != 1 || !rep.Principals[0].Checked {
		t.Errorf("scan read %d keys, %d recipients, principals %+v; want 3, 1 and one checked", len(rep.Keys), len(rep.Recipients), rep.Principals)
	}
	if rep.Fails(SeveritySuggestion) {
		t.Error("Fails without findings")
	}
}

// TestAccepted: accepted findings move out of Findings with their reason,
// and an acceptance matching nothing is reported as unused.
func TestAccepted(t *testing.T) {
	t.Parallel()
	o := newOrg(t, true)
	first, err := Scan(context.Background(), o.config, o.target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var errorID string
	for _, f := range first.Findings {
		if f.Code == "dangling-principal" {
			errorID = f.ID
		}
	}
	accepted, err := ReadAcceptances(strings.NewReader(`{"accept":[
		{"code":"outside-directory","reason":"partner contract 42"},
		{"id":"` + errorID + `","reason":"role is being recreated"},
		{"code":"wildcard-principal","key":"acs:kms:cn-hangzhou:1:key/none","reason":"stale"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Scan(context.Background(), o.config, o.target, Options{Accept: accepted})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != len(first.Findings)-2 || len(rep.Accepted) != 2 || len(rep.UnusedAcceptances) != 1 {
		t.Fatalf("%d findings (from %d), %d accepted, %d unused; want -2, 2, 1", len(rep.Findings), len(first.Findings), len(rep.Accepted), len(rep.UnusedAcceptances))
	}
	for _, f := range rep.Accepted {
		if f.AcceptedBecause == "" {
			t.Errorf("accepted %s without its reason", f.Code)
		}
	}
	// The IDs are stable across scans.
	for i := range rep.Findings {
		if !slices.ContainsFunc(first.Findings, func(f Finding) bool { return f.ID == rep.Findings[i].ID }) {
			t.Errorf("finding %s has an ID the first scan did not produce", rep.Findings[i].Code)
		}
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	cloud := fakecloud.New(fakecloud.Options{Seed: 1})
	acct := cloud.NewAccount("a")
	config := cloud.Config(acct.RootCredentials(), region)
	cfg := func(string) *openapi.Config { return config }
	tests := []struct {
		name string
		t    Target
		o    Options
	}{
		{"no accounts", Target{Regions: []string{region}}, Options{}},
		{"bad account", Target{Accounts: []string{"1192853035118***"}, Regions: []string{region}}, Options{}},
		{"no regions", Target{Accounts: []string{acct.ID}}, Options{}},
		{"bad region", Target{Accounts: []string{acct.ID}, Regions: []string{"Hangzhou"}}, Options{}},
		{"bad folder", Target{Accounts: []string{acct.ID}, Regions: []string{region}, TrustFolder: "prod"}, Options{}},
		{"acceptance without reason", Target{Accounts: []string{acct.ID}, Regions: []string{region}}, Options{Accept: []Acceptance{{Code: "half-grant"}}}},
		{"acceptance of unknown code", Target{Accounts: []string{acct.ID}, Regions: []string{region}}, Options{Accept: []Acceptance{{Code: "nope", Reason: "x"}}}},
		{"bad access role", Target{Accounts: []string{acct.ID}, Regions: []string{region}}, Options{AccessRole: "a b"}},
	}
	before := cloud.Log().Count(fakecloud.Match{})
	for _, tt := range tests {
		_, err := Scan(context.Background(), cfg, tt.t, tt.o)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
		}
	}
	if after := cloud.Log().Count(fakecloud.Match{}); after != before {
		t.Errorf("bad input made %d calls", after-before)
	}
	for _, in := range []string{`{"accept":[{"code":"half-grant"}]}`, `{"accept":[{"reason":"x"}]}`, `{"accepted":[]}`, `nope`} {
		if _, err := ReadAcceptances(strings.NewReader(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ReadAcceptances(%s) = %v, want ErrInvalid", in, err)
		}
	}
}

// TestUnknownTrustFolder is refused after the directory is read, before
// any key is.
func TestUnknownTrustFolder(t *testing.T) {
	t.Parallel()
	o := newOrg(t, false)
	o.target.TrustFolder = "fd-doesnotexist"
	if _, err := Scan(context.Background(), o.config, o.target, Options{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if n := o.cloud.Log().Count(fakecloud.Match{Action: "ListKeys"}); n != 0 {
		t.Errorf("%d ListKeys calls", n)
	}
}

// TestReadOnlyAndProgress: the scan writes nothing and reports progress.
func TestReadOnlyAndProgress(t *testing.T) {
	t.Parallel()
	o := newOrg(t, true)
	mark := o.cloud.Log().Mark()
	var mu sync.Mutex
	phases := map[string]int{}
	_, err := Scan(context.Background(), o.config, o.target, Options{Concurrency: 3, Progress: func(ev Event) {
		mu.Lock()
		phases[ev.Phase]++
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range o.cloud.Log().Since(mark, fakecloud.Match{}) {
		if e.Write || !readOnly(e.Action) {
			t.Errorf("the scan called %s", e.Action)
		}
	}
	if phases["key"] != len(o.keys) || phases["directory"] != 1 || phases["principal"] == 0 {
		t.Errorf("progress events %v; want one per key (%d)", phases, len(o.keys))
	}
}

func readOnly(action string) bool {
	for _, p := range []string{"List", "Get", "Describe"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return action == "AssumeRole"
}

// TestIncomplete: a key that cannot be read is a Problem; the rest is
// still scanned.
func TestIncomplete(t *testing.T) {
	t.Parallel()
	o := newOrg(t, false)
	o.cloud.Faults().Add(fakecloud.Fault{Action: "GetKeyPolicy", Unavailable: 1})
	rep, err := Scan(context.Background(), o.config, o.target, Options{retry: cloudapi.Retry{MaxAttempts: 1}})
	var inc *IncompleteError
	if !errors.As(err, &inc) || rep == nil {
		t.Fatalf("err = %v, want *IncompleteError with a report", err)
	}
	if len(inc.Problems) != 3 || len(rep.Keys) != 3 || len(rep.Findings) != 0 {
		t.Errorf("problems %v, %d keys, %d findings; want the 3 policies unread, the 3 keys listed, no findings", inc.Problems, len(rep.Keys), len(rep.Findings))
	}
}

// TestTwoRegions: keys of every given region are scanned, each with the
// region's own configuration.
func TestTwoRegions(t *testing.T) {
	t.Parallel()
	o := newOrg(t, false)
	inst := o.sec.NewKMSInstance("cn-shanghai", fakecloud.InstanceOptions{Quota: 10})
	k, err := inst.NewKey(fakecloud.KeyOptions{})
	must(t, err)
	o.target.Regions = []string{"cn-shanghai", region}
	rep, err := Scan(context.Background(), o.config, o.target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Keys) != 4 || !slices.ContainsFunc(rep.Keys, func(x Key) bool { return x.ARN == k.ARN && x.Region == "cn-shanghai" }) {
		t.Errorf("keys %+v; want the 3 of cn-hangzhou and the one of cn-shanghai", rep.Keys)
	}
	if len(rep.Instances) != 3 {
		t.Errorf("%d instances, want 3", len(rep.Instances))
	}
}

// TestRandDrawsTheBackoff: Options.Rand draws the jitter of every retry,
// so a scan through throttling waits the same on every run (here, not at
// all: full jitter with a source that always says 0).
func TestRandDrawsTheBackoff(t *testing.T) {
	t.Parallel()
	o := newOrg(t, false)
	o.cloud.Faults().Add(fakecloud.Fault{Action: "GetKeyPolicy", Throttle: 0.5})
	var draws atomic.Int64
	rep, err := Scan(context.Background(), o.config, o.target, Options{Rand: func(n int64) int64 {
		draws.Add(1)
		return 0
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Keys) != 3 {
		t.Errorf("%d keys, want 3", len(rep.Keys))
	}
	if draws.Load() == 0 {
		t.Error("the scan retried throttled calls without drawing from Options.Rand")
	}
}
