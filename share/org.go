package share

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/policy"
)

// Limits a manifest's plan checks before any write.
const (
	// MaxKeyPolicyBytes is the largest key policy SetKeyPolicy accepts.
	MaxKeyPolicyBytes = 32768
	// MaxRAMPolicyBytes is the largest RAM policy document
	// (CreatePolicyVersion counts bytes, corrections.md §5).
	MaxRAMPolicyBytes = 6144
)

// Problem codes of a manifest's plan.
const (
	ProblemKeyPolicyTooLarge = "key-policy-too-large"
)

// ManifestOptions tune PlanManifest.
type ManifestOptions struct {
	// Prune also removes, from each manifest key's policy, the principals
	// this library granted (statements with its Sid prefix) that the
	// manifest no longer selects, e.g. accounts that left the folder or
	// the directory, and the RAM policies it made for them. Statements it
	// did not write are never touched. Without Prune such principals are
	// listed in the plan (OrgKeyPlan.Stale) and kept.
	Prune bool

	onboarding bool // plan for one account: see planOrgKey's brief
}

// OrgPlan is what ApplyManifest will change for a whole manifest: the
// accounts its selectors resolve to (with their folder), one key-policy
// write per key that changes, the RAM side once per recipient principal
// for all the keys it gets, and the access management quota per KMS
// instance across its keys. It prints for people and marshals to JSON.
type OrgPlan struct {
	Manifest   Manifest           `json:"manifest"`
	Prune      bool               `json:"prune,omitempty"`
	Directory  string             `json:"directory,omitempty"`
	Accounts   []OrgAccount       `json:"accounts"`
	Keys       []OrgKeyPlan       `json:"keys"`
	Principals []OrgPrincipalPlan `json:"principals"`
	Instances  []InstancePlan     `json:"instances,omitempty"`
	Problems   []Problem          `json:"problems,omitempty"`
	Warnings   []Problem          `json:"warnings,omitempty"`
}

// OrgKeyPlan is the owner side of one key.
type OrgKeyPlan struct {
	Key        KeyInfo       `json:"key"`
	Recipients []Recipient   `json:"recipients"`
	KeyPolicy  KeyPolicyPlan `json:"keyPolicy"`
	// Bytes is the size of the key policy as it will be.
	Bytes int `json:"bytes,omitempty"`
	// Pruned are the principals a pruning plan removes; Stale those it
	// would remove with Prune and keeps without.
	Pruned   []string         `json:"pruned,omitempty"`
	Stale    []string         `json:"stale,omitempty"`
	Findings []policy.Finding `json:"findings,omitempty"`
	Problems []Problem        `json:"problems,omitempty"`
}

// OrgPrincipalPlan is the recipient side of one principal, for every key
// it gets: one set of RAM policies ("kmsshare-org-…", split to stay within
// RAM's size limit) covering all of them.
type OrgPrincipalPlan struct {
	Account   string    `json:"account"`
	Principal string    `json:"principal"`
	Recipient Recipient `json:"recipient"` // kind, name, access role (Actions unused)
	Keys      []string  `json:"keys,omitempty"`
	Exists    bool      `json:"exists"`
	// Cleanup says the principal is no longer granted any manifest key
	// and a pruning plan removes its RAM policies.
	Cleanup  bool      `json:"cleanup,omitempty"`
	Steps    []Step    `json:"steps,omitempty"`
	Problems []Problem `json:"problems,omitempty"`
	grants   map[string][]string
}

// InstancePlan is a KMS instance's access management quota across the
// manifest's keys in it.
type InstancePlan struct {
	ID     string   `json:"id"`
	Owner  string   `json:"owner"`
	Keys   []string `json:"keys"`
	Limit  int64    `json:"limit"`
	Used   int64    `json:"used"`
	New    []string `json:"new,omitempty"` // accounts the manifest adds to the instance
	Counts []string `json:"alreadyCounted,omitempty"`
	// Fits is how many new accounts the quota still admits.
	Fits int64 `json:"fits"`
}

// AllProblems returns every problem of the plan.
func (p *OrgPlan) AllProblems() []Problem {
	out := slices.Clone(p.Problems)
	for _, k := range p.Keys {
		out = append(out, k.Problems...)
	}
	for _, pr := range p.Principals {
		out = append(out, pr.Problems...)
	}
	return out
}

// Err returns a *PreflightError if the plan has problems, else nil.
func (p *OrgPlan) Err() error {
	if ps := p.AllProblems(); len(ps) > 0 {
		return &PreflightError{Problems: ps}
	}
	return nil
}

// Changes reports whether applying the plan changes anything.
func (p *OrgPlan) Changes() bool {
	for _, k := range p.Keys {
		if k.KeyPolicy.NeedsWrite() {
			return true
		}
	}
	for _, pr := range p.Principals {
		if len(pr.Steps) > 0 {
			return true
		}
	}
	return false
}

// keyConcurrency is how many keys are worked on at once: keys are
// independent (one writer per key policy), and a key's write spends most
// of its time in the settle waits, not in calls.
func (c *Client) keyConcurrency() int { return 4 * c.opts.Concurrency }

// PlanManifest resolves the manifest's selectors against the Resource
// Directory and plans every key and recipient. Bad input (a static error,
// an unknown folder, a selector matching nothing, two grants that disagree
// about one principal) is a *SpecError naming its place, before any
// write; conditions in the cloud that keep the manifest from applying
// (a key not enabled, a key policy over 32,768 bytes, too little instance
// quota, a recipient role missing) are the plan's Problems.
func (c *Client) PlanManifest(ctx context.Context, m *Manifest, opts ManifestOptions) (*OrgPlan, error) {
	if err := m.Validate(c.Region()); err != nil {
		return nil, err
	}
	sel, err := c.readOrganisation(ctx, m)
	if err != nil {
		return nil, err
	}
	return c.planSelection(ctx, m, sel, opts)
}

// planSelection plans every key and principal of sel.
func (c *Client) planSelection(ctx context.Context, m *Manifest, sel *selection, opts ManifestOptions) (*OrgPlan, error) {
	// Who the caller is decides which accounts need a role session: ask
	// once, before the goroutines below would each ask.
	if _, err := c.CallerIdentity(ctx); err != nil {
		return nil, err
	}
	p := &OrgPlan{Manifest: *m, Prune: opts.Prune, Directory: sel.directory}
	for _, oa := range sel.accounts {
		p.Accounts = append(p.Accounts, *oa)
	}
	sort.Slice(p.Accounts, func(i, j int) bool { return p.Accounts[i].Account < p.Accounts[j].Account })

	// The recipient side once per principal for all its keys, and the
	// owner side per key, all at once.
	byPrincipal := map[string]*OrgPrincipalPlan{}
	var order []string
	for _, key := range sel.keys {
		for _, r := range sel.recips[key.String()] {
			id := r.key() + "\x00"
			pr := byPrincipal[id]
			if pr != nil && !strings.EqualFold(pr.Recipient.AccessRole, r.AccessRole) {
				pr.Problems = append(pr.Problems, Problem{Code: ProblemRecipientReadFail, Account: r.Account, Principal: pr.Principal,
					Message: fmt.Sprintf("the manifest's grants name two access roles for this principal (%q and %q); make them agree",
						pr.Recipient.AccessRole, r.AccessRole)})
			}
			if pr == nil {
				base := r
				base.Actions = nil
				pr = &OrgPrincipalPlan{Account: r.Account, Principal: r.PrincipalARN().String(), Recipient: base, grants: map[string][]string{}}
				byPrincipal[id] = pr
				order = append(order, id)
			}
			acts, _ := r.actions()
			pr.grants[key.String()] = acts
			pr.Keys = append(pr.Keys, key.String())
		}
	}
	sort.Strings(order)
	p.Keys = make([]OrgKeyPlan, len(sel.keys))
	errs := make([]error, len(sel.keys))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		parallel(ctx, c.keyConcurrency(), len(sel.keys), func(i int) {
			p.Keys[i], errs[i] = c.planOrgKey(ctx, sel.keys[i], sel.recips[sel.keys[i].String()], opts.Prune, opts.onboarding)
		})
	}()
	manifestKeys := sel.keySet()
	parallel(ctx, c.opts.Concurrency, len(order), func(i int) {
		c.planOrgPrincipal(ctx, byPrincipal[order[i]], opts.Prune, manifestKeys)
	})
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	// With Prune, the principals dropped from every key lose their org
	// policies too, once the key policies no longer name them.
	var cleanup []*OrgPrincipalPlan
	if opts.Prune {
		seen := map[string]bool{}
		for _, kp := range p.Keys {
			for _, s := range kp.Pruned {
				r, ok := recipientOf(s)
				if !ok || seen[r.key()] {
					continue
				}
				seen[r.key()] = true
				if _, kept := findPrincipal(byPrincipal, r); !kept {
					cleanup = append(cleanup, &OrgPrincipalPlan{Account: r.Account, Principal: r.PrincipalARN().String(), Recipient: r,
						Cleanup: true, grants: map[string][]string{}})
				}
			}
		}
		sort.Slice(cleanup, func(i, j int) bool { return cleanup[i].Principal < cleanup[j].Principal })
		parallel(ctx, c.opts.Concurrency, len(cleanup), func(i int) { c.planOrgPrincipal(ctx, cleanup[i], true, manifestKeys) })
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	for _, id := range order {
		p.Principals = append(p.Principals, *byPrincipal[id])
	}
	for _, pr := range cleanup {
		p.Principals = append(p.Principals, *pr)
	}
	c.planInstances(ctx, p)
	return p, nil
}

// findPrincipal finds the plan of r's principal.
func findPrincipal(m map[string]*OrgPrincipalPlan, r Recipient) (*OrgPrincipalPlan, bool) {
	pr, ok := m[r.key()+"\x00"]
	return pr, ok
}

// recipientOf is the recipient behind a principal ARN a key policy names:
// the RD access role, another role, or a RAM user.
func recipientOf(principal string) (Recipient, bool) {
	a, err := arn.Parse(principal)
	if err != nil || a.Service != "ram" {
		return Recipient{}, false
	}
	switch a.ResourceType() {
	case "role":
		name := a.ResourceName()
		switch {
		case strings.EqualFold(name, arn.ResourceDirectoryAccessRoleName):
			return Recipient{Account: a.AccountID}, true
		case strings.EqualFold(name, ecsroles.DiskEncryptRoleName):
			return Recipient{Account: a.AccountID, Principal: PrincipalECSDiskRole}, true
		}
		return Recipient{Account: a.AccountID, Principal: PrincipalRole, Name: name}, true
	case "user":
		return Recipient{Account: a.AccountID, Principal: PrincipalUser, Name: a.ResourceName()}, true
	}
	return Recipient{}, false
}

// ownedPrincipals are the principals of the cross-account statements this
// library owns in d.
func ownedPrincipals(d *policy.Document) []string {
	set := map[string]bool{}
	for _, s := range d.Statement {
		if s.Principal != nil && s.Effect == policy.Allow && strings.HasPrefix(s.Sid, policy.SidCrossAccountUsers) {
			for _, p := range s.Principal.RAM.Values {
				set[p] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// planOrgKey reads one key and plans its policy: every recipient granted,
// and with prune the principals it no longer selects removed.
//
// brief (onboarding) lists in Changes only the changes to rs's grants.
func (c *Client) planOrgKey(ctx context.Context, key arn.ARN, rs []Recipient, prune, brief bool) (OrgKeyPlan, error) {
	kp := OrgKeyPlan{Recipients: rs}
	owner, err := c.account(ctx, key.AccountID, "")
	if err != nil {
		return kp, err
	}
	p := &Plan{Operation: OpShare}
	if err := c.readKey(ctx, owner, key, p); err != nil {
		return kp, err
	}
	kp.Key, kp.Problems = p.Key, p.Problems
	if p.KeyPolicy.Current == nil {
		return kp, nil
	}
	desired, err := grantAll(p.KeyPolicy.Current, key.AccountID, rs)
	if err != nil {
		return kp, fmt.Errorf("share: %w", err)
	}
	want := map[string]bool{}
	for _, r := range rs {
		want[r.PrincipalARN().Canonical().String()] = true
	}
	var stale []arn.ARN
	for _, s := range ownedPrincipals(p.KeyPolicy.Current) {
		a, err := arn.Parse(s)
		if err != nil || a.AccountID == key.AccountID || want[a.Canonical().String()] {
			continue
		}
		stale = append(stale, a)
		if prune {
			kp.Pruned = append(kp.Pruned, s)
		} else {
			kp.Stale = append(kp.Stale, s)
		}
	}
	if prune && len(stale) > 0 {
		if desired, err = policy.RemoveCrossAccountUsers(desired, key.AccountID, stale...); err != nil {
			return kp, fmt.Errorf("share: %w", err)
		}
	}
	kp.KeyPolicy = KeyPolicyPlan{Current: p.KeyPolicy.Current, Desired: desired}
	if brief {
		// Onboarding: only the newcomer's grants can change; diffing the
		// whole policy (every member's grants) costs more than the rest.
		ps := map[string]bool{}
		for _, r := range rs {
			ps[strings.ToLower(r.PrincipalARN().String())] = true
		}
		kp.KeyPolicy.Changes = policy.Diff(onlyPrincipals(p.KeyPolicy.Current, ps), onlyPrincipals(desired, ps))
	} else {
		kp.KeyPolicy.Changes = policy.Diff(p.KeyPolicy.Current, desired)
	}
	if kp.KeyPolicy.Changes == nil {
		kp.KeyPolicy.Changes = []policy.Change{}
	}
	if !kp.KeyPolicy.NeedsWrite() {
		return kp, nil // unchanged: nothing to lint or to measure (Inventory lints a key as it is)
	}
	// The same guard as a single-key plan: the new policy may give new
	// access only to this key's recipients.
	// Only statements the edit changed can add access, and checking whole
	// policies of hundreds of principals costs a tenth of a second a key.
	was, will := changedStatements(p.KeyPolicy.Current, desired)
	guard := &Plan{Operation: OpShare, Spec: Spec{Key: key.String(), Recipients: rs},
		KeyPolicy: KeyPolicyPlan{Current: was, Desired: will}}
	checkNewAccess(guard, key.AccountID)
	kp.KeyPolicy.NewAccess = guard.KeyPolicy.NewAccess
	kp.Problems = append(kp.Problems, guard.Problems...)
	lintOpts := policy.LintOptions{Owner: key.AccountID}
	before := map[string]bool{}
	for _, f := range policy.Lint(p.KeyPolicy.Current, policy.KeyPolicy, lintOpts) {
		before[f.Code+"\x00"+f.Message] = true
	}
	kp.Findings = policy.Lint(desired, policy.KeyPolicy, lintOpts)
	for _, f := range kp.Findings {
		if f.Severity == policy.SeverityError && !before[f.Code+"\x00"+f.Message] {
			kp.Problems = append(kp.Problems, Problem{Code: ProblemNewLintError, Account: key.AccountID,
				Message: "the new key policy of " + key.String() + " would be wrong: " + f.String()})
		}
	}
	// Limits said early: the policy's size.
	cur, _ := p.KeyPolicy.Current.Marshal()
	next, _ := desired.Marshal()
	kp.Bytes = len(next)
	if len(next) > MaxKeyPolicyBytes {
		added := len(newForeignPrincipals(p.KeyPolicy.Current, desired))
		fits := 0
		if added > 0 && len(next) > len(cur) {
			per := float64(len(next)-len(cur)) / float64(added)
			fits = max(0, int(float64(MaxKeyPolicyBytes-len(cur))/per))
		}
		kp.Problems = append(kp.Problems, Problem{Code: ProblemKeyPolicyTooLarge, Account: key.AccountID, Message: fmt.Sprintf(
			"the key policy of %s would be %d bytes, over KMS's limit of %d; of the %d principals this plan adds, about %d fit "+
				"(grant fewer accounts per key, or several keys)", key, len(next), MaxKeyPolicyBytes, added, fits)})
	}
	return kp, nil
}

// newForeignPrincipals are the RAM principals desired grants and current
// does not.
func newForeignPrincipals(current, desired *policy.Document) []string {
	have := map[string]bool{}
	for _, s := range ownedPrincipals(current) {
		have[s] = true
	}
	var out []string
	for _, s := range ownedPrincipals(desired) {
		if !have[s] {
			out = append(out, s)
		}
	}
	return out
}

// planInstances counts each KMS instance's access management quota across
// the manifest's keys in it: the accounts the manifest adds to the
// instance (an account any of its keys already names costs nothing), then,
// only if that looks too much, the accounts the instance's other keys
// already share with. An overrun is a problem naming the keys and how many
// accounts fit.
func (c *Client) planInstances(ctx context.Context, p *OrgPlan) {
	type group struct {
		owner         string
		keys          []int
		have, desired map[string]bool
	}
	groups := map[string]*group{}
	var ids []string
	for i, kp := range p.Keys {
		if kp.Key.InstanceID == "" || kp.KeyPolicy.Current == nil {
			continue
		}
		g := groups[kp.Key.InstanceID]
		if g == nil {
			g = &group{owner: kp.Key.Owner, have: map[string]bool{}, desired: map[string]bool{}}
			groups[kp.Key.InstanceID] = g
			ids = append(ids, kp.Key.InstanceID)
		}
		g.keys = append(g.keys, i)
		principalAccounts(kp.KeyPolicy.Current, kp.Key.Owner, g.have)
		principalAccounts(kp.KeyPolicy.Desired, kp.Key.Owner, g.desired)
	}
	sort.Strings(ids)
	p.Instances = make([]InstancePlan, len(ids))
	var mu sync.Mutex
	parallel(ctx, c.opts.Concurrency, len(ids), func(n int) {
		id := ids[n]
		g := groups[id]
		ip := InstancePlan{ID: id, Owner: g.owner}
		for _, i := range g.keys {
			ip.Keys = append(ip.Keys, p.Keys[i].Key.ARN)
		}
		for a := range g.desired {
			if !g.have[a] {
				ip.New = append(ip.New, a)
			}
		}
		sort.Strings(ip.New)
		warn := func(msg string, err error) {
			mu.Lock()
			p.Warnings = append(p.Warnings, Problem{Code: WarningQuotaUnchecked, Account: g.owner, Message: msg, Err: err})
			mu.Unlock()
		}
		defer func() { p.Instances[n] = ip }()
		if len(ip.New) == 0 || c.opts.SkipQuotaCheck {
			return
		}
		owner, err := c.account(ctx, g.owner, "")
		if err != nil {
			warn("cannot read instance "+id+"'s access quota; SetKeyPolicy will check it", err)
			return
		}
		q, err := owner.KMS.AccessQuota(ctx, id)
		if err != nil {
			warn("cannot read instance "+id+"'s access quota; SetKeyPolicy will check it", err)
			return
		}
		ip.Limit, ip.Used = q.Limit, q.Used
		cost := int64(len(ip.New))
		if q.Used+cost > q.Limit {
			// Some new accounts may already count through keys outside the
			// manifest: look only now, since it reads every key.
			counted, err := c.sharedByKeysOutside(ctx, owner, id, g.owner, ip.Keys)
			if err != nil {
				warn(fmt.Sprintf("instance %s's quota is %d, %d used, and the manifest adds %d accounts; keys outside the manifest "+
					"could not be counted, so SetKeyPolicy will decide", id, q.Limit, q.Used, cost), err)
				ip.Fits = max(0, q.Limit-q.Used)
				return
			}
			for _, a := range ip.New {
				if counted[a] {
					ip.Counts = append(ip.Counts, a)
				}
			}
			cost -= int64(len(ip.Counts))
		}
		ip.Fits = max(0, q.Limit-q.Used)
		if q.Used+cost > q.Limit {
			var keys []string
			for _, i := range g.keys {
				if len(newForeignAccounts(p.Keys[i].KeyPolicy.Current, p.Keys[i].KeyPolicy.Desired, g.owner)) > 0 {
					keys = append(keys, p.Keys[i].Key.ARN)
				}
			}
			mu.Lock()
			p.Problems = append(p.Problems, Problem{Code: ProblemQuota, Account: g.owner, Message: fmt.Sprintf(
				"instance %s's access management quota is %d and %d is used; keys %s would add %d more account(s), "+
					"but only %d fit (raise the quota or select fewer accounts)",
				id, q.Limit, q.Used, strings.Join(keys, ", "), cost, ip.Fits)})
			mu.Unlock()
		}
	})
}

// sharedByKeysOutside returns the other accounts that the instance's keys
// outside skip share with.
func (c *Client) sharedByKeysOutside(ctx context.Context, owner *alicloud.Clients, instance, ownerID string, skip []string) (map[string]bool, error) {
	ids, err := owner.KMS.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("share: list the keys of account %s: %w", ownerID, err)
	}
	skipIDs := map[string]bool{}
	for _, s := range skip {
		if a, err := arn.Parse(s); err == nil {
			skipIDs[a.ResourceName()] = true
		}
	}
	var mu sync.Mutex
	out := map[string]bool{}
	var firstErr error
	parallel(ctx, c.opts.Concurrency, len(ids), func(i int) {
		id := ids[i]
		if a, err := arn.Parse(id); err == nil {
			id = a.ResourceName()
		}
		if skipIDs[id] {
			return
		}
		accounts, err := c.keyAccounts(ctx, owner, id, instance, ownerID)
		mu.Lock()
		defer mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = err
		}
		for _, a := range accounts {
			out[a] = true
		}
	})
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// OrgPolicyPrefix starts the names of the RAM policies this library makes
// for a principal that receives keys through a manifest.
const OrgPolicyPrefix = "kmsshare-org-"

// OrgPolicyName is the name of the n-th (from 1) RAM policy this library
// makes in a recipient account for principal: "kmsshare-org-", eight hex
// digits of a hash of the principal, and n.
func OrgPolicyName(principal arn.ARN, n int) string {
	sum := sha256.Sum256([]byte(strings.ToLower(principal.Canonical().String())))
	return fmt.Sprintf("%s%s-%d", OrgPolicyPrefix, hex.EncodeToString(sum[:4]), n)
}

// orgPolicyIndex returns n if name is principal's n-th org policy.
func orgPolicyIndex(principal arn.ARN, name string) (int, bool) {
	prefix := strings.TrimSuffix(OrgPolicyName(principal, 1), "1")
	if !strings.HasPrefix(strings.ToLower(name), prefix) {
		return 0, false
	}
	var n int
	if _, err := fmt.Sscanf(name[len(prefix):], "%d", &n); err != nil || n < 1 || fmt.Sprint(n) != name[len(prefix):] {
		return 0, false
	}
	return n, true
}

// keyGrants reads, from the org policies this library wrote, which keys
// they allow with which actions.
func keyGrants(docs ...*policy.Document) map[string][]string {
	out := map[string][]string{}
	for _, d := range docs {
		if d == nil {
			continue
		}
		for _, s := range d.Statement {
			if s.Effect != policy.Allow {
				continue
			}
			for _, res := range s.Resource.Values {
				a, err := arn.Parse(res)
				if err != nil || a.Service != "kms" || a.ResourceType() != "key" || a.ResourceName() == "" {
					continue
				}
				out[a.String()] = slices.Clone(s.Action.Values)
			}
		}
	}
	return out
}

// orgPolicyDocs builds the RAM policies that allow grants (key ARN →
// actions), split so that each stays within MaxRAMPolicyBytes: keys in ARN
// order, as many per document as fit.
func orgPolicyDocs(grants map[string][]string) ([]*policy.Document, error) {
	keys := make([]string, 0, len(grants))
	for k := range grants {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	build := func(ks []string) (*policy.Document, int, error) {
		type group struct {
			acts []string
			keys []arn.ARN
		}
		var groups []group
		for _, k := range ks {
			a, _ := arn.Parse(k)
			acts := grants[k]
			i := slices.IndexFunc(groups, func(g group) bool { return slices.Equal(g.acts, acts) })
			if i < 0 {
				groups = append(groups, group{acts: acts})
				i = len(groups) - 1
			}
			groups[i].keys = append(groups[i].keys, a)
		}
		var out *policy.Document
		for _, g := range groups {
			d, err := policy.KeyPermission(g.acts, g.keys...)
			if err != nil {
				return nil, 0, err
			}
			if out == nil {
				out = d
			} else {
				out.Statement = append(out.Statement, d.Statement...)
			}
		}
		data, err := out.Marshal()
		return out, len(data), err
	}
	var docs []*policy.Document
	var cur []string
	var curDoc *policy.Document
	for _, k := range keys {
		d, n, err := build(append(slices.Clone(cur), k))
		if err != nil {
			return nil, err
		}
		if n > MaxRAMPolicyBytes && len(cur) > 0 {
			docs = append(docs, curDoc)
			cur = nil
			if d, n, err = build([]string{k}); err != nil {
				return nil, err
			}
		}
		if n > MaxRAMPolicyBytes {
			return nil, fmt.Errorf("the RAM policy for key %s alone is %d bytes, over RAM's limit of %d", k, n, MaxRAMPolicyBytes)
		}
		cur, curDoc = append(cur, k), d
	}
	if curDoc != nil {
		docs = append(docs, curDoc)
	}
	return docs, nil
}

// planOrgPrincipal plans one principal's RAM side for all its keys: it
// reads the principal and its policies once, finds the keys whose actions
// its other policies do not allow yet, and makes its org policies allow
// them. What the org policies allow for keys outside the manifest (another
// manifest's) is kept; for the manifest's own keys, without prune what
// they allowed before is kept too, with prune only what is granted now.
func (c *Client) planOrgPrincipal(ctx context.Context, pr *OrgPrincipalPlan, prune bool, manifestKeys map[string]bool) {
	r := pr.Recipient
	problem := func(code, msg string, err error) {
		pr.Problems = append(pr.Problems, Problem{Code: code, Account: r.Account, Principal: pr.Principal, Message: msg, Err: err})
		c.emit(ctx, Event{Phase: "plan", Account: r.Account, Principal: pr.Principal, Message: msg, Err: err})
	}
	acct, err := c.account(ctx, r.Account, r.AccessRole)
	if err != nil {
		if pr.Cleanup {
			// The key policy no longer names it, which is what revokes the
			// grant; its own account may be out of reach now it has left.
			c.emit(ctx, Event{Phase: "plan", Account: r.Account, Principal: pr.Principal,
				Message: "cannot enter the account to remove its kmsshare-org policies; they grant nothing without the key policy", Err: err})
			return
		}
		problem(ProblemUnreachable, "cannot act in the recipient account to set up and check its side", err)
		return
	}
	pp, err := c.readPrincipal(ctx, acct, r)
	if err != nil {
		problem(ProblemRecipientReadFail, "cannot read the recipient's principal and its policies", err)
		return
	}
	pr.Exists = pp.exists
	principal := r.PrincipalARN()
	name := r.roleOrUserName()
	switch {
	case pr.Cleanup && !pp.exists:
		return
	case pr.Cleanup:
	case !pp.exists:
		switch r.kind() {
		case PrincipalUser:
			problem(ProblemUserMissing, fmt.Sprintf("RAM user %s does not exist; create it first", name), nil)
			return
		case PrincipalRDAccessRole:
			problem(ProblemRoleMissing, fmt.Sprintf("%s does not exist; is the account a member of the resource directory?", name), nil)
			return
		case PrincipalECSDiskRole:
			key, _ := arn.Parse(pr.Keys[0])
			spec, serr := ecsroles.DiskEncrypt(key)
			if serr != nil {
				problem(ProblemRecipientReadFail, "cannot build the ECS disk role", serr)
				return
			}
			pr.Steps = append(pr.Steps, Step{Action: StepCreateRole, Account: r.Account, Role: spec.Name,
				Document: spec.Trust, Description: spec.Description, MaxSession: spec.MaxSessionDuration})
		case PrincipalRole:
			trust, _ := policy.TrustRAM(arn.AccountRoot(r.Account))
			pr.Steps = append(pr.Steps, Step{Action: StepCreateRole, Account: r.Account, Role: name, Document: trust,
				Description: "kmsshare: uses keys shared by manifest"})
		}
	case r.kind() != PrincipalUser:
		if step, ok := c.trustStep(r, pp.role); ok {
			pr.Steps = append(pr.Steps, step)
		}
	}
	ours := map[int]*policy.Document{}
	var others []*policy.Document
	for i, a := range pp.names {
		if n, ok := orgPolicyIndex(principal, a.Name); ok && a.Type == "Custom" {
			ours[n] = pp.docs[i]
			continue
		}
		others = append(others, pp.docs[i])
	}
	var have []*policy.Document
	for _, d := range ours {
		have = append(have, d)
	}
	want := keyGrants(have...)
	if prune {
		for k := range want {
			if _, granted := pr.grants[k]; manifestKeys[k] && !granted {
				delete(want, k)
			}
		}
	}
	for k, acts := range pr.grants {
		key, _ := arn.Parse(k)
		if len(deniedActions(r, key, acts, others...)) > 0 {
			want[k] = acts
		} else if prune {
			delete(want, k)
		}
	}
	docs, err := orgPolicyDocs(want)
	if err != nil {
		problem(ProblemRecipientReadFail, "cannot build the recipient's policies", err)
		return
	}
	for i, d := range docs {
		pname := OrgPolicyName(principal, i+1)
		if have, attached := ours[i+1]; attached {
			if !policy.Equivalent(have, d) {
				pr.Steps = append(pr.Steps, Step{Action: StepCreatePolicyVersion, Account: r.Account, Policy: pname, PolicyType: "Custom", Document: d})
			}
			continue
		}
		steps, err := customPolicySteps(ctx, acct.RAM, r.Account, pname, "kmsshare: keys shared with "+principal.String()+" by manifest", d, nil)
		if err != nil {
			problem(ProblemRecipientReadFail, "cannot read policy "+pname, err)
			return
		}
		pr.Steps = append(pr.Steps, steps...)
		pr.Steps = append(pr.Steps, Step{Action: StepAttachPolicy, Account: r.Account, Role: name,
			User: r.kind() == PrincipalUser, Policy: pname, PolicyType: "Custom"})
	}
	if prune {
		var extra []int
		for n := range ours {
			if n > len(docs) {
				extra = append(extra, n)
			}
		}
		sort.Ints(extra)
		for _, n := range extra {
			pname := OrgPolicyName(principal, n)
			pr.Steps = append(pr.Steps,
				Step{Action: StepDetachPolicy, Account: r.Account, Role: name, User: r.kind() == PrincipalUser, Policy: pname, PolicyType: "Custom"},
				Step{Action: StepDeletePolicy, Account: r.Account, Policy: pname, PolicyType: "Custom"})
		}
	}
}

// onlyPrincipals returns the Allow statements of d reduced to the RAM
// principals in ps (lower-case ARNs), for a diff of their grants alone.
func onlyPrincipals(d *policy.Document, ps map[string]bool) *policy.Document {
	out := &policy.Document{Version: d.Version}
	for _, s := range d.Statement {
		if s.Principal == nil {
			continue
		}
		var keep []string
		for _, p := range s.Principal.RAM.Values {
			if ps[strings.ToLower(p)] {
				keep = append(keep, p)
			}
		}
		if len(keep) == 0 {
			continue
		}
		out.Statement = append(out.Statement, policy.Statement{Sid: s.Sid, Effect: s.Effect, Principal: &policy.Principal{RAM: policy.List(keep...)},
			Action: s.Action, NotAction: s.NotAction, Resource: s.Resource, NotResource: s.NotResource, Condition: s.Condition})
	}
	return out
}

// principalAccounts adds to into the accounts other than owner that count
// against the access quota (policy.ForeignAccounts, which reads the
// statements directly: a policy of hundreds of principals has thousands
// of grants).
func principalAccounts(d *policy.Document, owner string, into map[string]bool) {
	for _, a := range policy.ForeignAccounts(d, owner) {
		into[a] = true
	}
}

// changedStatements returns the statements of cur that next does not have
// unchanged, and those of next that cur does not: where an edit can have
// added access. A statement whose only change is its list of RAM
// principals (as SetCrossAccountUsers makes) is reduced to the principals
// that left it (in the first) and that joined it (in the second): the
// others' access through it is unchanged. Statements are compared as
// one-statement documents.
func changedStatements(cur, next *policy.Document) (*policy.Document, *policy.Document) {
	one := func(st policy.Statement) *policy.Document {
		return &policy.Document{Version: cur.Version, Statement: []policy.Statement{st}}
	}
	in := func(st policy.Statement, d *policy.Document) bool {
		for _, o := range d.Statement {
			if o.Sid == st.Sid && policy.Equivalent(one(o), one(st)) {
				return true
			}
		}
		return false
	}
	var was, will []policy.Statement
	for _, st := range cur.Statement {
		if !in(st, next) {
			was = append(was, st)
		}
	}
	for _, st := range next.Statement {
		if !in(st, cur) {
			will = append(will, st)
		}
	}
	before := &policy.Document{Version: cur.Version}
	after := &policy.Document{Version: next.Version}
	paired := map[int]bool{} // indexes in will reduced with their old version
	for _, o := range was {
		j := slices.IndexFunc(will, func(n policy.Statement) bool { return n.Sid == o.Sid && o.Sid != "" && samePrincipalFree(o, n) })
		if j < 0 || paired[j] {
			before.Statement = append(before.Statement, o)
			continue
		}
		paired[j] = true
		n := will[j]
		left, joined := minus(o.Principal.RAM.Values, n.Principal.RAM.Values), minus(n.Principal.RAM.Values, o.Principal.RAM.Values)
		if len(left) > 0 {
			before.Statement = append(before.Statement, withRAM(o, left))
		}
		if len(joined) > 0 {
			after.Statement = append(after.Statement, withRAM(n, joined))
		}
	}
	for j, n := range will {
		if !paired[j] {
			after.Statement = append(after.Statement, n)
		}
	}
	return before, after
}

// samePrincipalFree reports whether two statements with RAM principals
// only say the same thing apart from which principals they name.
func samePrincipalFree(a, b policy.Statement) bool {
	if a.Principal == nil || b.Principal == nil || a.Principal.Service.IsSet() || b.Principal.Service.IsSet() ||
		a.Principal.Federated.IsSet() || b.Principal.Federated.IsSet() {
		return false
	}
	const stand = "acs:ram::1000000000000001:root"
	da := &policy.Document{Version: "1", Statement: []policy.Statement{withRAM(a, []string{stand})}}
	db := &policy.Document{Version: "1", Statement: []policy.Statement{withRAM(b, []string{stand})}}
	return policy.Equivalent(da, db)
}

// withRAM is st naming the RAM principals ps (and nothing else).
func withRAM(st policy.Statement, ps []string) policy.Statement {
	return policy.Statement{Sid: st.Sid, Effect: st.Effect, Principal: &policy.Principal{RAM: policy.List(ps...)},
		Action: st.Action, NotAction: st.NotAction, Resource: st.Resource, NotResource: st.NotResource, Condition: st.Condition}
}

// minus returns the values of a not in b (RAM compares names
// case-insensitively).
func minus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, v := range b {
		in[strings.ToLower(v)] = true
	}
	var out []string
	for _, v := range a {
		if !in[strings.ToLower(v)] {
			out = append(out, v)
		}
	}
	return out
}
