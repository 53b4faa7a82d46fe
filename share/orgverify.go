package share

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// RevokeManifest removes every grant the manifest makes, as its selectors
// resolve now: each key's policy loses the principals (only in the
// statements this library owns) with one confirmed write, then the
// kmsshare-org RAM policies of those principals are removed. Statements it
// did not write stay; Inventory shows them.
func (c *Client) RevokeManifest(ctx context.Context, m *Manifest) (*OrgPlan, *OrgResult, error) {
	if err := m.validate(c.Region()); err != nil {
		return nil, nil, err
	}
	sel, err := c.readOrganisation(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	p := &OrgPlan{Manifest: m.clone(), Prune: true, Directory: sel.directory}
	for _, oa := range sel.accounts {
		p.Accounts = append(p.Accounts, *oa)
	}
	sort.Slice(p.Accounts, func(i, j int) bool { return p.Accounts[i].Account < p.Accounts[j].Account })
	p.Keys = make([]OrgKeyPlan, len(sel.keys))
	errs := make([]error, len(sel.keys))
	parallel(ctx, c.keyConcurrency(), len(sel.keys), func(i int) {
		key := sel.keys[i]
		kp := OrgKeyPlan{}
		owner, err := c.account(ctx, key.AccountID, "")
		if err != nil {
			errs[i] = err
			return
		}
		plan := &Plan{Operation: OpRevoke}
		if errs[i] = c.readKey(ctx, owner, key, plan); errs[i] != nil {
			return
		}
		kp.Key = plan.Key
		if plan.KeyPolicy.Current == nil {
			kp.Problems = plan.Problems
			p.Keys[i] = kp
			return
		}
		var principals []arn.ARN
		for _, r := range sel.recips[key.String()] {
			principals = append(principals, r.PrincipalARN())
		}
		desired, err := policy.RemoveCrossAccountUsers(plan.KeyPolicy.Current, key.AccountID, principals...)
		if err != nil {
			errs[i] = err
			return
		}
		kp.KeyPolicy = KeyPolicyPlan{Current: plan.KeyPolicy.Current, Desired: desired, Changes: policy.Diff(plan.KeyPolicy.Current, desired)}
		was, will := changedStatements(plan.KeyPolicy.Current, desired)
		guard := &Plan{Operation: OpRevoke, KeyPolicy: KeyPolicyPlan{Current: was, Desired: will}}
		checkNewAccess(guard, key.AccountID) // a revoke adds no access
		kp.KeyPolicy.NewAccess, kp.Problems = guard.KeyPolicy.NewAccess, guard.Problems
		have := map[string]bool{}
		for _, s := range ownedPrincipals(plan.KeyPolicy.Current) {
			have[strings.ToLower(s)] = true
		}
		for _, a := range principals {
			if have[strings.ToLower(a.String())] {
				kp.Pruned = append(kp.Pruned, a.String())
			}
		}
		p.Keys[i] = kp
	})
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	seen := map[string]bool{}
	for _, rs := range sel.recips {
		for _, r := range rs {
			if seen[r.key()] {
				continue
			}
			seen[r.key()] = true
			base := r
			base.Actions = nil
			p.Principals = append(p.Principals, OrgPrincipalPlan{Account: r.Account, Principal: r.PrincipalARN().String(),
				Recipient: base, Cleanup: true, grants: map[string][]string{}})
		}
	}
	sort.Slice(p.Principals, func(i, j int) bool { return p.Principals[i].Principal < p.Principals[j].Principal })
	manifestKeys := sel.keySet()
	parallel(ctx, c.opts.Concurrency, len(p.Principals), func(i int) { c.planOrgPrincipal(ctx, &p.Principals[i], true, manifestKeys) })
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	p.seal = sealOf(p)
	if err := p.Err(); err != nil {
		return p, nil, err
	}
	res, err := c.applyManifest(ctx, p)
	return p, res, err
}

// keySpecs returns, per key of the selection, the single-key spec it
// amounts to.
func (sel *selection) keySpecs() []*Spec {
	out := make([]*Spec, 0, len(sel.keys))
	for _, k := range sel.keys {
		out = append(out, &Spec{Key: k.String(), Recipients: sel.recips[k.String()]})
	}
	return out
}

// VerifyManifest verifies every grant of the manifest from each
// recipient's own identity (Verify, per key, several keys at once).
func (c *Client) VerifyManifest(ctx context.Context, m *Manifest) ([]*VerifyReport, error) {
	return c.perKey(ctx, m, func(ctx context.Context, s *Spec) (*VerifyReport, error) { return c.Verify(ctx, s) })
}

func (c *Client) perKey(ctx context.Context, m *Manifest, fn func(context.Context, *Spec) (*VerifyReport, error)) ([]*VerifyReport, error) {
	return perKeyDo(c, ctx, m, fn)
}

// perKeyDo resolves the manifest and runs fn on each key's spec, several
// keys at once; the first error wins, and the reports come back in key
// order.
func perKeyDo[T any](c *Client, ctx context.Context, m *Manifest, fn func(context.Context, *Spec) (T, error)) ([]T, error) {
	if err := m.validate(c.Region()); err != nil {
		return nil, err
	}
	sel, err := c.readOrganisation(ctx, m)
	if err != nil {
		return nil, err
	}
	specs := sel.keySpecs()
	out := make([]T, len(specs))
	errs := make([]error, len(specs))
	var mu sync.Mutex
	parallel(ctx, c.opts.Concurrency, len(specs), func(i int) {
		v, err := fn(ctx, specs[i])
		mu.Lock()
		out[i], errs[i] = v, err
		mu.Unlock()
	})
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, errors.Join(errs...)
}

// OrgInventory is who can use each key of a manifest today, and the drift
// against what the manifest grants, across the organisation.
type OrgInventory struct {
	Keys    []*Inventory      `json:"keys"`
	Summary []KeyDriftSummary `json:"summary"`
}

// KeyDriftSummary is one key's line of an OrgInventory.
type KeyDriftSummary struct {
	Key string `json:"key"`
	// Accounts counts the other accounts its policy grants anything.
	Accounts int `json:"accounts"`
	// Missing are the principals the manifest grants that the key policy
	// does not (fully); Extra those the key policy grants beyond the
	// manifest (including grants made outside this library).
	Missing []string `json:"missing,omitempty"`
	Extra   []string `json:"extra,omitempty"`
}

// Drifted reports whether any key's policy differs from the manifest.
func (o *OrgInventory) Drifted() bool {
	for _, s := range o.Summary {
		if len(s.Missing) > 0 || len(s.Extra) > 0 {
			return true
		}
	}
	return false
}

// InventoryManifest reports, per key of the manifest, who can use it today
// and the drift against what the manifest grants, with a summary line per
// key.
func (c *Client) InventoryManifest(ctx context.Context, m *Manifest) (*OrgInventory, error) {
	// The manifest is validated, so each key's spec is too.
	invs, err := perKeyDo(c, ctx, m, func(ctx context.Context, s *Spec) (*Inventory, error) { return c.inventory(ctx, s.KeyARN(), s) })
	out := &OrgInventory{}
	for _, inv := range invs {
		if inv == nil {
			continue
		}
		out.Keys = append(out.Keys, inv)
		s := KeyDriftSummary{Key: inv.Key.ARN}
		for _, a := range inv.Accounts {
			if !a.Owner {
				s.Accounts++
			}
		}
		if d := inv.Drift; d != nil {
			s.Missing = grantPrincipals(d.Missing)
			s.Extra = grantPrincipals(d.Extra)
		}
		out.Summary = append(out.Summary, s)
	}
	return out, err
}

func grantPrincipals(gs []policy.Grant) []string {
	seen := map[string]bool{}
	var out []string
	for _, g := range gs {
		if !seen[g.Principal] {
			seen[g.Principal] = true
			out = append(out, g.Principal)
		}
	}
	sort.Strings(out)
	return out
}
