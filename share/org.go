package share

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/policy"
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
// Like a Plan, it is sealed when it is made, and ApplyManifest takes it
// only unchanged.
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

	seal seal // see seal.go: ApplyManifest takes the plan only as it was made
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

// allProblems returns every problem of the plan.
func (p *OrgPlan) allProblems() []Problem {
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
func (p *OrgPlan) Err() error { return preflightError(p.allProblems()) }

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
// quota, a recipient role missing) are the plan's Problems. The plan is
// sealed: ApplyManifest takes it only unchanged.
func (c *Client) PlanManifest(ctx context.Context, m *Manifest, opts ManifestOptions) (*OrgPlan, error) {
	if err := m.validate(c.Region()); err != nil {
		return nil, err
	}
	sel, err := c.readOrganisation(ctx, m)
	if err != nil {
		return nil, err
	}
	p, err := c.planSelection(ctx, m, sel, opts)
	if err != nil {
		return nil, err
	}
	p.seal = sealOf(p)
	return p, nil
}

// planSelection plans every key and principal of sel.
func (c *Client) planSelection(ctx context.Context, m *Manifest, sel *selection, opts ManifestOptions) (*OrgPlan, error) {
	// Who the caller is decides which accounts need a role session: ask
	// once, before the goroutines below would each ask.
	if _, err := c.callerIdentity(ctx); err != nil {
		return nil, err
	}
	p := &OrgPlan{Manifest: m.clone(), Prune: opts.Prune, Directory: sel.directory}
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
