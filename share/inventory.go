package share

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// Inventory is who can use a key today, as its key policy and, where the
// caller can look, the using accounts' RAM policies say: the audit view of a
// Security account (workflow W1, "after sharing").
type Inventory struct {
	Key      KeyInfo          `json:"key"`
	Accounts []AccountAccess  `json:"accounts"` // the owner account first, then others by UID
	Denies   []policy.Grant   `json:"denies,omitempty"`
	Findings []policy.Finding `json:"findings,omitempty"` // lint of the key policy
	// Drift compares the key policy with a spec, when one is given.
	Drift *Drift `json:"drift,omitempty"`
}

// AccountAccess is one account's access to the key.
type AccountAccess struct {
	Account    string            `json:"account"`
	Owner      bool              `json:"owner,omitempty"`
	Principals []PrincipalAccess `json:"principals"`
}

// PrincipalAccess is what the key policy grants one principal, and whether
// the principal's own account allows it too.
type PrincipalAccess struct {
	Principal string `json:"principal"`
	// Actions are the actions granted outright (Allow, no Condition).
	Actions []string `json:"actions"`
	// AllActionsExcept, if set, are the exceptions of a NotAction grant:
	// the principal may do every action but these.
	AllActionsExcept []string `json:"allActionsExcept,omitempty"`
	// Conditional are grants with a Condition (or another restriction),
	// as text: whether they hold depends on the request (its network path,
	// time, encryption context).
	Conditional []string `json:"conditional,omitempty"`
	Sids        []string `json:"sids,omitempty"` // the statements that grant it
	// RAM says whether the principal's own RAM policies allow each action on
	// the key: "allowed", "partial" (some actions), "denied", "not-needed"
	// (the owner's own identities need only one side), or "unknown" with
	// RAMDetail saying why (e.g. the account could not be entered).
	RAM       string   `json:"ram"`
	RAMDenied []string `json:"ramDenied,omitempty"`
	RAMDetail string   `json:"ramDetail,omitempty"`
}

// Drift is the difference between a spec and the key policy.
type Drift struct {
	// Missing are grants the spec asks for that the key policy lacks.
	Missing []policy.Grant `json:"missing,omitempty"`
	// Extra are grants to other accounts that the key policy has and the
	// spec does not ask for (including grants made outside this library).
	Extra []policy.Grant `json:"extra,omitempty"`
}

// Empty reports whether the key policy matches the spec.
func (d *Drift) Empty() bool { return len(d.Missing) == 0 && len(d.Extra) == 0 }

// Inventory reads the key policy of key (an ARN) and reports every principal
// it grants, grouped by account, with the RAM side of each other account
// where the caller can enter it through its access role. With a spec (nil
// for none), it also reports drift: grants missing or extra.
func (c *Client) Inventory(ctx context.Context, key string, spec *Spec) (*Inventory, error) {
	k, kerr := parseKeyARN(key, c.Region())
	if kerr != nil {
		return nil, &SpecError{Problems: []SpecProblem{{Field: "key", Value: key, Reason: kerr.reason, Err: kerr.err}}}
	}
	if spec != nil {
		if spec.Key != key {
			return nil, &SpecError{Problems: []SpecProblem{{Field: "key", Value: spec.Key, Reason: "the spec is for another key than " + key}}}
		}
		if err := spec.Validate(c.Region()); err != nil {
			return nil, err
		}
	}
	return c.inventory(ctx, k, spec)
}

// inventory is Inventory for a valid key ARN and spec (nil for none).
func (c *Client) inventory(ctx context.Context, k arn.ARN, spec *Spec) (*Inventory, error) {
	owner, err := c.account(ctx, k.AccountID, "")
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := c.readKey(ctx, owner, k, &p); err != nil {
		return nil, err
	}
	inv := &Inventory{Key: p.Key}
	if p.KeyPolicy.Current == nil {
		return nil, p.Err()
	}
	kp := p.KeyPolicy.Current
	inv.Findings = policy.Lint(kp, policy.KeyPolicy, policy.LintOptions{Owner: k.AccountID})

	byPrincipal := map[string]*PrincipalAccess{}
	var order []arn.ARN
	for _, g := range policy.Grants(kp) {
		if g.PrincipalType != "RAM" {
			continue
		}
		if g.Effect == policy.Deny {
			inv.Denies = append(inv.Denies, g)
			continue
		}
		a, err := arn.ParsePattern(g.Principal)
		if err != nil {
			continue
		}
		a = a.Canonical() // role/App and role/app are one principal
		pa := byPrincipal[a.String()]
		if pa == nil {
			pa = &PrincipalAccess{Principal: a.String()}
			byPrincipal[a.String()] = pa
			order = append(order, a)
		}
		switch {
		case g.Condition != "" || g.NotResource:
			if text := g.String(); !slices.Contains(pa.Conditional, text) {
				pa.Conditional = append(pa.Conditional, text)
			}
		case g.NotAction:
			if !slices.Contains(pa.AllActionsExcept, g.Action) {
				pa.AllActionsExcept = append(pa.AllActionsExcept, g.Action)
			}
		case !slices.Contains(pa.Actions, g.Action):
			pa.Actions = append(pa.Actions, g.Action)
		}
		if g.Sid != "" && !slices.Contains(pa.Sids, g.Sid) {
			pa.Sids = append(pa.Sids, g.Sid)
		}
	}
	byAccount := map[string]int{}
	for _, a := range order {
		i, ok := byAccount[a.AccountID]
		if !ok {
			i = len(inv.Accounts)
			byAccount[a.AccountID] = i
			inv.Accounts = append(inv.Accounts, AccountAccess{Account: a.AccountID, Owner: a.AccountID == k.AccountID})
		}
		inv.Accounts[i].Principals = append(inv.Accounts[i].Principals, *byPrincipal[a.String()])
	}
	for _, aa := range inv.Accounts {
		slices.SortFunc(aa.Principals, func(x, y PrincipalAccess) int { return strings.Compare(x.Principal, y.Principal) })
	}
	slices.SortFunc(inv.Accounts, func(x, y AccountAccess) int {
		if x.Owner != y.Owner {
			if x.Owner {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Account, y.Account)
	})
	parallel(ctx, c.opts.Concurrency, len(inv.Accounts), func(i int) {
		c.inventoryRAMSide(ctx, k, &inv.Accounts[i])
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if spec != nil {
		inv.Drift = drift(kp, spec)
	}
	c.emit(ctx, Event{Phase: "inventory", Account: k.AccountID, Message: fmt.Sprintf("%d account(s) can use %s", len(inv.Accounts), k)})
	return inv, nil
}

// inventoryRAMSide fills in each principal's RAM side of one account.
func (c *Client) inventoryRAMSide(ctx context.Context, key arn.ARN, aa *AccountAccess) {
	if aa.Owner {
		for i := range aa.Principals {
			aa.Principals[i].RAM = "not-needed"
			aa.Principals[i].RAMDetail = "in the key's own account the key policy alone suffices"
		}
		return
	}
	acct, err := c.account(ctx, aa.Account, "")
	for i := range aa.Principals {
		pa := &aa.Principals[i]
		if err != nil {
			pa.RAM, pa.RAMDetail = "unknown", "cannot enter the account: "+err.Error()
			continue
		}
		a, perr := arn.Parse(pa.Principal)
		var r Recipient
		switch {
		case perr != nil:
			pa.RAM, pa.RAMDetail = "unknown", "the principal is a pattern"
			continue
		case a.IsRole():
			r = Recipient{Account: a.AccountID, Principal: PrincipalRole, Name: a.ResourceName()}
		case a.IsUser():
			r = Recipient{Account: a.AccountID, Principal: PrincipalUser, Name: a.ResourceName()}
		default:
			pa.RAM, pa.RAMDetail = "unknown", "the account decides which of its identities get the access"
			continue
		}
		pp, rerr := c.readPrincipal(ctx, acct, r)
		switch {
		case rerr != nil:
			pa.RAM, pa.RAMDetail = "unknown", rerr.Error()
			continue
		case !pp.exists:
			pa.RAM, pa.RAMDetail = "denied", "the principal does not exist"
			pa.RAMDenied = slices.Clone(pa.Actions)
			continue
		}
		if len(pa.Actions) == 0 {
			pa.RAM, pa.RAMDetail = "unknown", "only NotAction or conditional grants, which are not evaluated"
			continue
		}
		pa.RAMDenied = deniedActions(r, key, pa.Actions, pp.docs...)
		switch len(pa.RAMDenied) {
		case 0:
			pa.RAM = "allowed"
		case len(pa.Actions):
			pa.RAM = "denied"
		default:
			pa.RAM = "partial"
		}
	}
}

// drift compares the key policy's grants to other accounts with the spec's.
func drift(kp *policy.Document, spec *Spec) *Drift {
	key := spec.KeyARN()
	want, _ := policy.DefaultKeyPolicy(key.AccountID)
	if w, err := grantAll(want, key.AccountID, spec.Recipients); err == nil { // Inventory validated the spec
		want = w
	}
	d := &Drift{}
	for _, ch := range policy.Diff(kp, want) {
		g := ch.Grant
		a, err := arn.ParsePattern(g.Principal)
		if g.PrincipalType != "RAM" || g.Effect != policy.Allow || err != nil || a.AccountID == key.AccountID {
			continue // the owner's own access is not the spec's business
		}
		g.Sid = ""
		if ch.Op == policy.Added {
			d.Missing = append(d.Missing, g)
		} else {
			d.Extra = append(d.Extra, g)
		}
	}
	return d
}
