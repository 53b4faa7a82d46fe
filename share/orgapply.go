package share

import (
	"context"
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// OrgResult says what ApplyManifest (or RevokeManifest, Onboard) did: per
// key its policy write, per principal its RAM steps. It marshals to JSON.
type OrgResult struct {
	Keys       []OrgKeyResult    `json:"keys"`
	Principals []RecipientResult `json:"principals"`
}

// OrgKeyResult is one key's outcome.
type OrgKeyResult struct {
	Key       string          `json:"key"`
	KeyPolicy KeyPolicyResult `json:"keyPolicy"`
	// Granted and Removed are the principals the key policy now grants and
	// no longer grants because of this apply; Held back are those left out
	// because their own side failed.
	Granted  []string `json:"granted,omitempty"`
	Removed  []string `json:"removed,omitempty"`
	HeldBack []string `json:"heldBack,omitempty"`
}

// Writes counts the key-policy writes of the apply.
func (r *OrgResult) Writes() int {
	n := 0
	for _, k := range r.Keys {
		n += k.KeyPolicy.Writes
	}
	return n
}

// Err returns nil if everything was done, else an *ApplyError.
func (r *OrgResult) Err() error {
	var errs []error
	for _, k := range r.Keys {
		if k.KeyPolicy.err != nil {
			errs = append(errs, fmt.Errorf("key %s: %w", k.Key, k.KeyPolicy.err))
		}
	}
	for _, p := range r.Principals {
		if p.err != nil {
			errs = append(errs, p.err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &ApplyError{OrgResult: r, errs: errs}
}

// ApplyManifest makes the changes of a manifest's plan. It takes only a
// plan that PlanManifest (or Onboard, RevokeManifest) returned, unchanged:
// one edited afterwards, built by hand or decoded from JSON is refused with
// a *SpecError (field "plan") before any call, as Apply refuses such a
// Plan; a plan with problems is refused with its *PreflightError. The
// recipient side goes first (a key policy may only name principals that
// exist), Options.Concurrency principals at a time; then each key that
// changes gets one confirmed read-modify-write of its policy, several keys
// at once, naming only the principals whose side is ready; last, with
// Prune, the RAM policies of principals no key grants any more are
// removed. Keys whose policy already says what the plan wants are not
// written, so applying a manifest already in effect writes nothing.
func (c *Client) ApplyManifest(ctx context.Context, p *OrgPlan) (*OrgResult, error) {
	if p == nil {
		return nil, noPlan()
	}
	if err := checkSeal(p, p.seal, "PlanManifest, Onboard or RevokeManifest"); err != nil {
		return nil, err
	}
	for _, kp := range p.Keys {
		if err := sameRegion(kp.Key.ARN, c.Region()); err != nil {
			return nil, err
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return c.applyManifest(ctx, p)
}

// applyManifest is ApplyManifest for a plan this package just made.
func (c *Client) applyManifest(ctx context.Context, p *OrgPlan) (*OrgResult, error) {
	res := &OrgResult{Keys: make([]OrgKeyResult, len(p.Keys)), Principals: make([]RecipientResult, len(p.Principals))}
	for i, pr := range p.Principals {
		res.Principals[i] = RecipientResult{Principal: pr.Principal, Account: pr.Account}
	}
	run := func(cleanup bool) {
		parallel(ctx, c.opts.Concurrency, len(p.Principals), func(i int) {
			pr := p.Principals[i]
			if pr.Cleanup != cleanup || len(pr.Steps) == 0 {
				return
			}
			rr := &res.Principals[i]
			acct, err := c.account(ctx, pr.Account, pr.Recipient.AccessRole)
			var failed error
			rr.Steps, failed = c.runSteps(ctx, acct, err, pr.Principal, pr.Steps)
			if failed != nil {
				rr.err = fmt.Errorf("recipient %s: %w", pr.Principal, failed)
				rr.Error = failed.Error()
			}
		})
	}
	run(false)
	failed := map[string]bool{}
	for i, rr := range res.Principals {
		if rr.err != nil {
			failed[strings.ToLower(p.Principals[i].Principal)] = true
		}
	}

	parallel(ctx, c.keyConcurrency(), len(p.Keys), func(i int) {
		kp := p.Keys[i]
		kr := &res.Keys[i]
		kr.Key = kp.Key.ARN
		if !kp.KeyPolicy.NeedsWrite() {
			kr.KeyPolicy = KeyPolicyResult{Status: StatusAlreadyDone}
			return
		}
		key, err := arn.Parse(kp.Key.ARN)
		if err != nil {
			kr.KeyPolicy = KeyPolicyResult{Status: StatusFailed, err: err, Error: err.Error()}
			return
		}
		var ready []Recipient
		for _, r := range kp.Recipients {
			if failed[strings.ToLower(r.PrincipalARN().String())] {
				kr.HeldBack = append(kr.HeldBack, r.PrincipalARN().String())
				continue
			}
			ready = append(ready, r)
		}
		var removed []arn.ARN
		for _, s := range kp.Pruned {
			if a, err := arn.Parse(s); err == nil {
				removed = append(removed, a)
			}
		}
		owner, err := c.account(ctx, key.AccountID, "")
		if err != nil {
			kr.KeyPolicy = KeyPolicyResult{Status: StatusFailed, err: err, Error: err.Error()}
			return
		}
		kr.KeyPolicy = c.writeKeyPolicy(ctx, owner, key, ready, func(d *policy.Document) (*policy.Document, error) {
			d, err := grantAll(d, key.AccountID, ready)
			if err != nil || len(removed) == 0 {
				return d, err
			}
			return policy.RemoveCrossAccountUsers(d, key.AccountID, removed...)
		})
		if kr.KeyPolicy.err == nil {
			for _, r := range ready {
				kr.Granted = append(kr.Granted, r.PrincipalARN().String())
			}
			kr.Removed = kp.Pruned
		}
	})
	if err := ctx.Err(); err != nil {
		for i := range res.Keys {
			if res.Keys[i].KeyPolicy.Status == "" {
				res.Keys[i].Key = p.Keys[i].Key.ARN
				res.Keys[i].KeyPolicy = KeyPolicyResult{Status: StatusNotAttempted, err: err, Error: err.Error()}
			}
		}
		return res, res.Err()
	}

	// The RAM side of a revoke goes last, and only once every key policy
	// has let go: a policy removed first would leave a grant that still
	// half-works.
	keysOK := true
	for _, kr := range res.Keys {
		keysOK = keysOK && kr.KeyPolicy.err == nil
	}
	if keysOK {
		run(true)
	} else {
		for i, pr := range p.Principals {
			if pr.Cleanup && len(pr.Steps) > 0 {
				for _, st := range pr.Steps {
					res.Principals[i].Steps = append(res.Principals[i].Steps, StepResult{Step: st, Status: StatusNotAttempted})
				}
			}
		}
	}
	for i, pr := range p.Principals {
		rr := &res.Principals[i]
		rr.Done = rr.err == nil && (!pr.Cleanup || keysOK)
		rr.Granted = !pr.Cleanup && rr.err == nil
	}
	return res, res.Err()
}

// OnboardResult is what Onboard found and did for one account.
type OnboardResult struct {
	Account OrgAccount `json:"account"`
	Plan    *OrgPlan   `json:"plan"`
	Result  *OrgResult `json:"result"`
}

// Onboard gives one account every key the manifest's selectors give it,
// as account vending needs right after the account joins its folder. It is
// cheap: the account's folder comes from GetAccount and the folder names
// the manifest uses are walked, never the whole directory; no other
// account's RAM side is read; each key it gets costs one key-policy read
// (and one confirmed write if it lacks the grant). It is idempotent, and
// grants of other accounts are never changed. An account the manifest
// does not select gets nothing (Account.Keys is empty), which is not an
// error.
func (c *Client) Onboard(ctx context.Context, m *Manifest, account string) (*OnboardResult, error) {
	if err := arn.ValidateAccountID(account); err != nil {
		return nil, &SpecError{Problems: []SpecProblem{{Field: "account", Value: account, Reason: reasonOf(err), Err: err}}}
	}
	if err := m.validate(c.Region()); err != nil {
		return nil, err
	}
	sel, err := c.readMember(ctx, m, account)
	if err != nil {
		return nil, err
	}
	out := &OnboardResult{Account: OrgAccount{Account: account}}
	if oa := sel.accounts[account]; oa != nil {
		out.Account = *oa
	}
	c.emit(ctx, Event{Phase: "plan", Account: account, Message: fmt.Sprintf("onboarding: the manifest gives it %d key(s)", len(out.Account.Keys))})
	p, err := c.planSelection(ctx, m, sel, ManifestOptions{onboarding: true})
	if err != nil {
		return nil, err
	}
	for i := range p.Keys {
		p.Keys[i].Stale = nil // the other accounts were not resolved: nothing is known about them
	}
	p.seal = sealOf(p)
	out.Plan = p
	if err := p.Err(); err != nil {
		return out, err
	}
	res, err := c.applyManifest(ctx, p)
	out.Result = res
	return out, err
}
