package share_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// org is an emulated organisation: a management account with a pipeline
// user, a resource directory with folders apps, apps/prod, apps/dev and
// data, members in them, and a Security account holding keys in one KMS
// instance.
type org struct {
	*landingZone
	prod, dev, data *fakecloud.Folder
	keys            []*fakecloud.Key
}

type orgOptions struct {
	keys                  int // default 3
	apps, prod, dev, data int // members per folder
	quota                 int // default 50
	realClock             bool
}

func newOrg(t testing.TB, o orgOptions) *org {
	t.Helper()
	lz := &landingZone{}
	opts := fakecloud.Options{Seed: 11}
	if !o.realClock {
		lz.clock = fakecloud.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		opts.Clock = lz.clock
	}
	lz.cloud = fakecloud.New(opts)
	lz.mgmt = lz.cloud.NewAccount("management")
	rd, err := lz.cloud.NewResourceDirectory(lz.mgmt)
	if err != nil {
		t.Fatal(err)
	}
	lz.rd = rd
	g := &org{landingZone: lz}
	lz.apps = rd.Root().NewFolder("apps")
	g.prod = lz.apps.NewFolder("prod")
	g.dev = lz.apps.NewFolder("dev")
	g.data = rd.Root().NewFolder("data")
	lz.security = rd.Root().NewMember("security")
	for _, f := range []struct {
		folder *fakecloud.Folder
		n      int
	}{{lz.apps, o.apps}, {g.prod, o.prod}, {g.dev, o.dev}, {g.data, o.data}} {
		for i := 0; i < f.n; i++ {
			m := f.folder.NewMember(fmt.Sprintf("%s-%d", f.folder.Name, i))
			if f.folder != g.data {
				lz.members = append(lz.members, m)
			}
		}
	}
	quota := o.quota
	if quota == 0 {
		quota = 50
	}
	lz.instance = lz.security.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: quota})
	n := o.keys
	if n == 0 {
		n = 3
	}
	for i := 0; i < n; i++ {
		k, err := lz.instance.NewKey(fakecloud.KeyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		g.keys = append(g.keys, k)
	}
	lz.key = g.keys[0]
	if lz.pipeline, err = lz.mgmt.NewUser("pipeline", "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	return g
}

// manifest grants the org's keys to what sel selects.
func (g *org) manifest(sel string) *share.Manifest {
	var keys []string
	for _, k := range g.keys {
		keys = append(keys, k.ARN)
	}
	data, _ := json.Marshal(keys)
	m, err := share.ParseManifest([]byte(`{"version": 1, "grants": [{"keys": ` + string(data) + `, "recipients": ` + sel + `}]}`))
	if err != nil {
		panic(err)
	}
	return m
}

// setForeignStatement adds a statement this library does not own to a
// key's policy, as the Security account's administrator would by hand.
func (g *org) setForeignStatement(t *testing.T, key *fakecloud.Key, grantee string) string {
	t.Helper()
	d, err := policy.Parse([]byte(key.PolicyDocument()))
	if err != nil {
		t.Fatal(err)
	}
	st := policy.Statement{Sid: "break-glass", Effect: policy.Allow,
		Principal: &policy.Principal{RAM: policy.List(arn.RAMRole(grantee, "auditor").String())},
		Action:    policy.List("kms:DescribeKey"), Resource: policy.Scalar("*")}
	d.Statement = append(d.Statement, st)
	raw, _ := d.Marshal()
	c, err := kms.NewClient(g.cloud.Config(g.security.RootCredentials(), "cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetKeyPolicyWithContext(context.Background(), &kms.SetKeyPolicyRequest{KeyId: tea.String(key.ID),
		Policy: tea.String(string(raw)), PolicyName: tea.String("default")}, &dara.RuntimeOptions{}); err != nil {
		t.Fatal(err)
	}
	return foreignStatement(t, key)
}

// foreignStatement returns the break-glass statement of the key's policy
// as its canonical JSON.
func foreignStatement(t *testing.T, key *fakecloud.Key) string {
	t.Helper()
	d, err := policy.Parse([]byte(key.PolicyDocument()))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Statement {
		if s.Sid == "break-glass" {
			one := &policy.Document{Version: d.Version, Statement: []policy.Statement{s}}
			raw, _ := one.Marshal()
			return string(raw)
		}
	}
	return ""
}

func keySpec(key *fakecloud.Key, accounts ...*fakecloud.Account) *share.Spec {
	s := &share.Spec{Key: key.ARN}
	for _, a := range accounts {
		s.Recipients = append(s.Recipients, share.Recipient{Account: a.ID})
	}
	return s
}

// TestManifestLandingZone is W1 at organisation scale: three keys granted
// to folder apps with its sub-folders; apply, verify from each member; a
// new member onboarded; a member moved out and pruned, then refused; the
// others untouched; a foreign statement intact throughout.
func TestManifestLandingZone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newOrg(t, orgOptions{apps: 2, prod: 2, dev: 1, data: 1})
	foreign := g.setForeignStatement(t, g.keys[0], g.cloud.Account(g.security.ID).ID)
	c := g.client(t)
	m := g.manifest(`{"folders": [{"folder": "apps", "subfolders": true}]}`)

	// Plan: the five members of apps and below, with their folders.
	p, err := c.PlanManifest(ctx, m, share.ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Accounts) != 5 || len(p.Keys) != 3 || len(p.Principals) != 5 || p.Err() != nil {
		t.Fatalf("plan: %d accounts, %d keys, %d principals, err %v", len(p.Accounts), len(p.Keys), len(p.Principals), p.Err())
	}
	folders := map[string]bool{}
	for _, a := range p.Accounts {
		folders[a.Folder] = true
		if len(a.Keys) != 3 || !strings.HasPrefix(a.Path, g.rd.ID+"/") {
			t.Errorf("account %+v", a)
		}
	}
	for _, want := range []string{"Root/apps", "Root/apps/prod", "Root/apps/dev"} {
		if !folders[want] {
			t.Errorf("no account shown in folder %s (have %v)", want, folders)
		}
	}
	text := p.String()
	if !strings.Contains(text, "Root/apps/prod") {
		t.Errorf("the printed plan does not show folder paths:\n%s", text)
	}

	seq := g.lastSeq()
	res, err := c.ApplyManifest(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if w := g.writes(seq); w["SetKeyPolicy"] != 3 || res.Writes() != 3 {
		t.Fatalf("apply wrote %v (result %d key-policy writes), want one SetKeyPolicy per key", w, res.Writes())
	}
	// The RD access role holds AdministratorAccess: no RAM change is needed.
	if w := g.writes(seq); len(w) != 1 {
		t.Errorf("writes beyond the key policies: %v", w)
	}

	// Verify from each member.
	reports, err := c.VerifyManifest(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if !r.OK() || len(r.Results) != 5 {
			t.Fatalf("verify %s: %+v", r.Key, r.Results)
		}
	}

	// A second apply writes nothing.
	seq = g.lastSeq()
	p2, err := c.PlanManifest(ctx, m, share.ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p2.Changes() {
		t.Fatalf("second plan has changes:\n%s", p2)
	}
	if _, err := c.ApplyManifest(ctx, p2); err != nil {
		t.Fatal(err)
	}
	if w := g.writes(seq); len(w) != 0 {
		t.Fatalf("second apply wrote %v", w)
	}

	// A new account joins apps/prod and is onboarded: one key-policy write
	// per key, nothing read of any other account's RAM side, no listing of
	// the directory.
	newcomer := g.prod.NewMember("prod-new")
	seq = g.lastSeq()
	ob, err := c.Onboard(ctx, m, newcomer.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ob.Account.Keys) != 3 || ob.Account.FolderID != g.prod.ID || ob.Result.Writes() != 3 {
		t.Fatalf("onboard: %+v, %d writes", ob.Account, ob.Result.Writes())
	}
	for _, e := range g.cloud.Log().Entries(fakecloud.Match{}) {
		if e.Seq <= seq {
			continue
		}
		if e.Service == "ram" && e.CallerAccount != newcomer.ID {
			t.Errorf("onboarding touched the RAM side of %s: %s", e.CallerAccount, e.Action)
		}
		if e.Action == "ListAccounts" || e.Action == "ListAccountsForParent" {
			t.Errorf("onboarding listed the directory: %s", e.Action)
		}
	}
	seq = g.lastSeq()
	if ob, err = c.Onboard(ctx, m, newcomer.ID); err != nil || ob.Result.Writes() != 0 {
		t.Fatalf("second onboard: %v, %+v", err, ob)
	}
	if w := g.writes(seq); len(w) != 0 {
		t.Fatalf("second onboard wrote %v", w)
	}
	rep, err := c.Verify(ctx, keySpec(g.keys[2], newcomer))
	if err != nil || !rep.OK() {
		t.Fatalf("verify the newcomer: %v %+v", err, rep)
	}
	// An account outside every grant gets nothing.
	if ob, err := c.Onboard(ctx, m, g.cloud.Account(g.security.ID).ID); err != nil || len(ob.Account.Keys) != 0 {
		t.Fatalf("onboard the security account: %v %+v", err, ob)
	}

	// One member moves to data: without prune it stays granted (and is
	// shown as stale); with prune it is removed and refused.
	moved := g.members[2] // in prod
	if err := g.data.AddMember(moved); err != nil {
		t.Fatal(err)
	}
	keep, err := c.PlanManifest(ctx, m, share.ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	movedRole := arn.RAMRole(moved.ID, arn.ResourceDirectoryAccessRoleName).String()
	for _, k := range keep.Keys {
		if k.KeyPolicy.NeedsWrite() || len(k.Stale) != 1 || !strings.EqualFold(k.Stale[0], movedRole) {
			t.Fatalf("plan without prune, key %s: write %v, stale %v", k.Key.ARN, k.KeyPolicy.NeedsWrite(), k.Stale)
		}
	}
	if inv, err := c.InventoryManifest(ctx, m); err != nil || !inv.Drifted() || len(inv.Summary[2].Extra) != 1 || !strings.EqualFold(inv.Summary[2].Extra[0], movedRole) {
		t.Fatalf("inventory before the prune: %v %+v", err, inv)
	}
	seq = g.lastSeq()
	pruned, err := c.PlanManifest(ctx, m, share.ManifestOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.ApplyManifest(ctx, pruned)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range res.Keys {
		if len(k.Removed) != 1 || !strings.EqualFold(k.Removed[0], movedRole) {
			t.Fatalf("prune of %s removed %v, want %s", k.Key, k.Removed, movedRole)
		}
	}
	if w := g.writes(seq); w["SetKeyPolicy"] != 3 || len(w) != 1 {
		t.Fatalf("prune wrote %v", w)
	}
	for _, k := range g.keys {
		rep, err := c.VerifyRevoked(ctx, keySpec(k, moved))
		if err != nil || !rep.OK() {
			t.Fatalf("the moved account is not refused key %s: %v %+v", k.ID, err, rep)
		}
	}
	// Others untouched, and the foreign statement intact.
	reports, err = c.VerifyManifest(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if !r.OK() || len(r.Results) != 5 { // 4 original members left, and the newcomer
			t.Fatalf("verify after prune %s: %+v", r.Key, r.Results)
		}
	}
	if got := foreignStatement(t, g.keys[0]); got != foreign || got == "" {
		t.Fatalf("foreign statement changed:\n%s\nwant\n%s", got, foreign)
	}

	// A member that leaves the directory is pruned too.
	gone := g.members[0]
	if err := g.rd.RemoveMember(gone); err != nil {
		t.Fatal(err)
	}
	if pruned, err = c.PlanManifest(ctx, m, share.ManifestOptions{Prune: true}); err != nil {
		t.Fatal(err)
	}
	if res, err = c.ApplyManifest(ctx, pruned); err != nil {
		t.Fatal(err)
	}
	if res.Writes() != 3 {
		t.Fatalf("prune of a departed member: %d writes, want 3", res.Writes())
	}
	if rep, err := c.VerifyRevoked(ctx, keySpec(g.keys[1], gone)); err != nil || !rep.OK() {
		t.Fatalf("the departed account is not refused: %v %+v", err, rep)
	}

	// Inventory over the manifest: no drift left.
	inv, err := c.InventoryManifest(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	// No drift: the break-glass statement names the owner's own role.
	if len(inv.Summary) != 3 || inv.Drifted() || inv.Summary[1].Accounts != 4 {
		t.Errorf("inventory: %+v", inv.Summary)
	}
	if !strings.Contains(inv.String(), "3 key(s), 0 with drift") {
		t.Errorf("inventory text:\n%s", inv)
	}

	// Revoke over the manifest: every member refused, the foreign
	// statement still there.
	if _, _, err := c.RevokeManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	for _, k := range g.keys {
		if rep, err := c.VerifyRevoked(ctx, keySpec(k, g.members[1], newcomer)); err != nil || !rep.OK() {
			t.Fatalf("after revoke: %v %+v", err, rep)
		}
	}
	if got := foreignStatement(t, g.keys[0]); got != foreign {
		t.Fatalf("revoke changed the foreign statement")
	}
}

// TestBadManifests: every bad manifest fails before any write, naming the
// place of the problem.
func TestBadManifests(t *testing.T) {
	t.Parallel()
	g := newOrg(t, orgOptions{apps: 2, data: 1})
	c := g.client(t)
	k := g.keys[0].ARN
	masked := g.members[0].ID[:12] + "****"
	cases := []struct {
		name, manifest, place, reason string
		static                        bool // ParseManifest refuses it
	}{
		{"unknown folder name", `{"version":1,"grants":[{"keys":["` + k + `"],"recipients":{"folders":[{"folder":"apps/nope"}]}}]}`,
			"grants[0].recipients.folders[0].folder", `has no folder "nope"`, false},
		{"unknown folder ID", `{"version":1,"grants":[{"keys":["` + k + `"],"recipients":{"folders":[{"folder":"fd-doesnotexist"}]}}]}`,
			"grants[0].recipients.folders[0].folder", "not in resource directory", false},
		{"disagreeing grants", `{"version":1,"grants":[{"keys":["` + k + `"],"recipients":{"folders":[{"folder":"apps"}]}},` +
			`{"keys":["` + k + `"],"recipients":{"accounts":["` + g.members[1].ID + `"]},"actions":["kms:Decrypt"]}]}`,
			"grants[1]", "differently from grants[0]", false},
		{"masked ID", `{"version":1,"grants":[{"keys":["` + k + `"],"recipients":{"accounts":["` + masked + `"]}}]}`,
			"grants[0].recipients.accounts[0]", "masks", true},
		{"unknown field", `{"version":1,"grants":[{"keys":["` + k + `"],"recipients":{"folder":[{"folder":"apps"}]}}]}`,
			"grants[0].recipients.folder", "unknown field", true},
		{"matching nothing", `{"version":1,"grants":[{"keys":["` + k + `"],"recipients":{"folders":[{"folder":"data"}],"exclude":{"folders":[{"folder":"data"}]}}}]}`,
			"grants[0].recipients", "matches no account", false},
		{"wrong version", `{"version":2,"grants":[{"keys":["` + k + `"],"recipients":{"directory":true}}]}`,
			"version", "unsupported", true},
		{"administrator action", `{"version":1,"grants":[{"keys":["` + k + `"],"recipients":{"directory":true},"actions":["kms:DeleteKey"]}]}`,
			"grants[0].actions", "administrator", true},
	}
	for _, tc := range cases {
		seq := g.lastSeq()
		m, err := share.ParseManifest([]byte(tc.manifest))
		if tc.static {
			checkSpecError(t, tc.name, err, tc.place, tc.reason)
			continue
		}
		if err != nil {
			t.Fatalf("%s: ParseManifest: %v", tc.name, err)
		}
		_, err = c.PlanManifest(context.Background(), m, share.ManifestOptions{})
		checkSpecError(t, tc.name, err, tc.place, tc.reason)
		if tc.name == "disagreeing grants" {
			_, err := c.Onboard(context.Background(), m, g.members[1].ID)
			checkSpecError(t, tc.name+" (onboard)", err, tc.place, tc.reason)
		}
		if w := g.writes(seq); len(w) != 0 {
			t.Errorf("%s: writes were made: %v", tc.name, w)
		}
	}
}

func checkSpecError(t *testing.T, name string, err error, place, reason string) {
	t.Helper()
	var se *share.SpecError
	if !errors.As(err, &se) || !errors.Is(err, share.ErrInvalidSpec) {
		t.Errorf("%s: got %v, want a *SpecError", name, err)
		return
	}
	for _, p := range se.Problems {
		if p.Field == place && strings.Contains(p.String(), reason) {
			return
		}
	}
	t.Errorf("%s: %v does not name %s with %q", name, err, place, reason)
}

// TestManifestFromSpec: a single-key spec is a manifest of one grant per
// recipient, and ParseManifest reads either form.
func TestManifestFromSpec(t *testing.T) {
	t.Parallel()
	g := newOrg(t, orgOptions{apps: 2})
	spec := fmt.Sprintf(`{"key": %q, "recipients": [{"account": %q}, {"account": %q, "principal": "role", "name": "app", "actions": ["kms:Decrypt"]}]}`,
		g.keys[0].ARN, g.members[0].ID, g.members[1].ID)
	m, err := share.ParseManifest([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Grants) != 2 || m.Grants[1].Name != "app" || m.Grants[1].Recipients.Accounts[0] != g.members[1].ID {
		t.Fatalf("manifest of a spec: %+v", m)
	}
	c := g.client(t)
	p, err := c.PlanManifest(context.Background(), m, share.ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ApplyManifest(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// The spec's own plan now sees nothing to do.
	s, _ := share.ParseSpec([]byte(spec), "")
	if sp := mustPlan(t, c, s); sp.KeyPolicy.NeedsWrite() {
		t.Fatalf("the spec still wants a key policy change after its manifest was applied")
	}
}

// TestManifestLimits: a key policy over 32,768 bytes and a quota overrun
// are plan problems naming the key and how many accounts fit.
func TestManifestLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("key policy size", func(t *testing.T) {
		t.Parallel()
		g := newOrg(t, orgOptions{keys: 1, prod: 600, quota: 1000})
		p, err := share.New(g.cloud.Config(g.pipeline.Credentials(), "cn-hangzhou"), func(o *share.Options) { o.Clock = manualClock{g.clock} })
		if err != nil {
			t.Fatal(err)
		}
		plan, err := p.PlanManifest(ctx, g.manifest(`{"folders": [{"folder": "apps/prod"}]}`), share.ManifestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var found *share.Problem
		var pe *share.PreflightError
		if !errors.As(plan.Err(), &pe) {
			t.Fatalf("plan.Err() = %v", plan.Err())
		}
		for _, pr := range pe.Problems {
			if pr.Code == share.ProblemKeyPolicyTooLarge {
				found = &pr
			}
		}
		var fits int
		if found != nil {
			_, after, _ := strings.Cut(found.Message, "about ")
			fmt.Sscanf(after, "%d", &fits)
		}
		if found == nil || !strings.Contains(found.Message, g.keys[0].ARN) || fits < 400 || fits > 560 {
			t.Fatalf("problems %v", pe.Problems)
		}
		if _, err := p.ApplyManifest(ctx, plan); !errors.Is(err, share.ErrPreflight) {
			t.Fatalf("apply of a plan over the limit: %v", err)
		}
	})
	t.Run("quota", func(t *testing.T) {
		t.Parallel()
		g := newOrg(t, orgOptions{keys: 2, prod: 5, quota: 3})
		c := g.client(t)
		plan, err := c.PlanManifest(ctx, g.manifest(`{"folders": [{"folder": "apps", "subfolders": true}]}`), share.ManifestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Instances) != 1 || plan.Instances[0].Fits != 3 || len(plan.Instances[0].New) != 5 {
			t.Fatalf("instances %+v", plan.Instances)
		}
		err = plan.Err()
		if !errors.Is(err, share.ErrQuotaExceeded) || !strings.Contains(err.Error(), "only 3 fit") || !strings.Contains(err.Error(), g.keys[1].ARN) {
			t.Fatalf("plan error %v", err)
		}
	})
}

// TestManifestRAMSplit: an application role that gets many keys gets them
// through kmsshare-org policies split within RAM's 6,144-byte limit;
// removing keys from the manifest with prune shrinks them.
func TestManifestRAMSplit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newOrg(t, orgOptions{keys: 120, apps: 2, quota: 10})
	c := g.client(t)
	m := g.manifest(`{"accounts": ["` + g.members[0].ID + `"]}`)
	m.Grants[0].Principal, m.Grants[0].Name = share.PrincipalRole, "app"
	p, err := c.PlanManifest(ctx, m, share.ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Principals) != 1 {
		t.Fatalf("principals %+v", p.Principals)
	}
	var creates int
	for _, st := range p.Principals[0].Steps {
		if st.Action == share.StepCreatePolicy {
			creates++
			raw, _ := st.Document.Marshal()
			if len(raw) > policy.MaxPermissionChars {
				t.Errorf("policy %s is %d bytes", st.Policy, len(raw))
			}
		}
	}
	if creates < 2 {
		t.Fatalf("120 keys in %d policies; want a split", creates)
	}
	if _, err := c.ApplyManifest(ctx, p); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Verify(ctx, &share.Spec{Key: g.keys[119].ARN, Recipients: []share.Recipient{{Account: g.members[0].ID, Principal: share.PrincipalRole, Name: "app"}}})
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	// Idempotent.
	if p2, err := c.PlanManifest(ctx, m, share.ManifestOptions{}); err != nil || p2.Changes() {
		t.Fatalf("second plan: %v\n%s", err, p2)
	}
	// The last 110 keys go to another account instead, with prune: the
	// first account keeps one policy (a new version), the others are
	// detached and deleted; the second gets its own.
	m.Grants = append(m.Grants, m.Grants[0])
	m.Grants[1].Keys = m.Grants[0].Keys[10:]
	m.Grants[1].Recipients = share.Selector{Accounts: []string{g.members[1].ID}}
	m.Grants[0].Keys = m.Grants[0].Keys[:10]
	p3, err := c.PlanManifest(ctx, m, share.ManifestOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	seq := g.lastSeq()
	if _, err := c.ApplyManifest(ctx, p3); err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for _, e := range g.cloud.Log().Entries(fakecloud.Match{Action: "DeletePolicy", Status: 200}) {
		if e.Seq > seq && e.TargetAccount == g.members[0].ID {
			deleted++
		}
	}
	if w := g.writes(seq); deleted != creates-1 || w["CreatePolicyVersion"] != 1 || w["SetKeyPolicy"] != 110 {
		t.Fatalf("moving 110 keys wrote %v, %d policies deleted in the first account", w, deleted)
	}
	// A manifest does not touch what its org policies allow for keys it
	// does not name: with only the first ten keys left, nothing changes.
	m.Grants = m.Grants[:1]
	if p4, err := c.PlanManifest(ctx, m, share.ManifestOptions{Prune: true}); err != nil || p4.Changes() {
		t.Fatalf("a manifest of fewer keys plans changes: %v\n%s", err, p4)
	}
}

// TestManifestSelectors: folders by name and by ID, with and without
// sub-folders, the whole directory, exclusions of accounts and folders,
// explicit accounts outside the directory, and the key owner left out.
func TestManifestSelectors(t *testing.T) {
	t.Parallel()
	g := newOrg(t, orgOptions{keys: 1, apps: 2, prod: 2, dev: 1, data: 2})
	outsider := g.cloud.NewAccount("outsider")
	c := g.client(t)
	apps, prod, dev := g.members[:2], g.members[2:4], g.members[4:5]
	ids := func(as ...[]*fakecloud.Account) []string {
		var out []string
		for _, a := range as {
			for _, m := range a {
				out = append(out, m.ID)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name, sel string
		want      []string
	}{
		{"folder by name, members only", `{"folders": [{"folder": "apps"}]}`, ids(apps)},
		{"folder by name with sub-folders", `{"folders": [{"folder": "apps", "subfolders": true}]}`, ids(apps, prod, dev)},
		{"nested name", `{"folders": [{"folder": "apps/prod"}]}`, ids(prod)},
		{"folder by ID", `{"folders": [{"folder": "` + g.dev.ID + `"}]}`, ids(dev)},
		{"exclusions", `{"folders": [{"folder": "apps", "subfolders": true}], "exclude": {"accounts": ["` + apps[0].ID + `"], "folders": [{"folder": "apps/prod"}]}}`,
			ids(apps[1:], dev)},
		{"whole directory without the key owner", `{"directory": true, "exclude": {"folders": [{"folder": "data"}]}}`,
			append(ids(apps, prod, dev), g.mgmt.ID)},
		{"explicit accounts, one outside the directory", `{"accounts": ["` + outsider.ID + `", "` + dev[0].ID + `"]}`, []string{outsider.ID, dev[0].ID}},
	} {
		p, err := c.PlanManifest(context.Background(), g.manifest(tc.sel), share.ManifestOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := map[string]bool{}
		for _, a := range p.Accounts {
			got[a.Account] = true
			if a.Account == g.security.ID {
				t.Errorf("%s: the key's owner is selected", tc.name)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: selected %d accounts, want %d", tc.name, len(got), len(tc.want))
		}
		for _, w := range tc.want {
			if !got[w] {
				t.Errorf("%s: %s not selected", tc.name, w)
			}
		}
	}
}
