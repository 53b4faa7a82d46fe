package share

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// KeyPolicyPlan is the owner side: the key policy now, as it will be, and the
// grants that differ.
type KeyPolicyPlan struct {
	Current *policy.Document `json:"current,omitempty"`
	Desired *policy.Document `json:"desired,omitempty"`
	Changes []policy.Change  `json:"changes"`
	// NewAccess is what Desired may allow that Current does not
	// (policy.CheckNoNewAccess); a revoke adds none.
	NewAccess []policy.NewAccess `json:"newAccess,omitempty"`
}

// NeedsWrite reports whether Apply will write the key policy.
func (k KeyPolicyPlan) NeedsWrite() bool {
	return k.Current != nil && k.Desired != nil && !policy.Equivalent(k.Current, k.Desired)
}

// KeyPolicyResult is the owner side's outcome.
type KeyPolicyResult struct {
	// Writes counts SetKeyPolicy calls: 0 when the policy already said what
	// it should, more than 1 when a write failed or another writer
	// overwrote one.
	Writes int `json:"writes"`
	// Rounds counts the writes that succeeded; more than one means another
	// writer overwrote the policy and the grants were merged again.
	Rounds int    `json:"rounds"`
	Status Status `json:"status"`
	Error  string `json:"error,omitempty"`
	err    error
}

type actionGroup struct {
	actions    []string
	principals []arn.ARN
}

// groupByActions groups recipients by their granted action set, in spec order.
func groupByActions(rs []Recipient) ([]actionGroup, error) {
	var out []actionGroup
	for _, r := range rs {
		acts, err := r.actions()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.PrincipalARN(), err)
		}
		i := slices.IndexFunc(out, func(g actionGroup) bool { return slices.Equal(g.actions, acts) })
		if i < 0 {
			out = append(out, actionGroup{actions: acts})
			i = len(out) - 1
		}
		out[i].principals = append(out[i].principals, r.PrincipalARN())
	}
	return out, nil
}

// grantAll returns d with every recipient granted its actions in the
// statements this library owns.
func grantAll(d *policy.Document, owner string, rs []Recipient) (*policy.Document, error) {
	groups, err := groupByActions(rs)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if d, err = policy.SetCrossAccountUsers(d, owner, g.actions, g.principals...); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// finishKeyPolicyPlan records the desired key policy, its diff, lint
// findings and the quota check.
func (c *Client) finishKeyPolicyPlan(ctx context.Context, owner *alicloud.Clients, key arn.ARN, p *Plan, desired *policy.Document) {
	p.KeyPolicy.Desired = desired
	p.KeyPolicy.Changes = policy.Diff(p.KeyPolicy.Current, desired)
	if p.KeyPolicy.Changes == nil {
		p.KeyPolicy.Changes = []policy.Change{}
	}
	var problems []Problem
	p.Findings, problems = lintKeyPolicy(p.KeyPolicy.Current, desired, key.AccountID, "the new key policy")
	p.Problems = append(p.Problems, problems...)
	checkNewAccess(p, key.AccountID)
	c.checkQuota(ctx, owner, key, p)
}

// checkNewAccess records, in the plan, every grant the desired key policy
// may add (policy.CheckNoNewAccess) and refuses those the plan does not
// mean: a share may add access only for its recipients, a revoke none.
func checkNewAccess(p *Plan, owner string) {
	p.KeyPolicy.NewAccess = policy.CheckNoNewAccess(p.KeyPolicy.Current, p.KeyPolicy.Desired)
	meant := map[string]bool{}
	if p.Operation == OpShare {
		for _, r := range p.Spec.Recipients {
			// RAM compares role and user names case-insensitively.
			meant[strings.ToLower("RAM "+r.PrincipalARN().String())] = true
		}
	}
	for _, n := range p.KeyPolicy.NewAccess {
		if !meant[strings.ToLower(n.Principal)] {
			p.Problems = append(p.Problems, Problem{Code: ProblemUnintendedAccess, Account: owner,
				Message: "the new key policy would grant what the " + string(p.Operation) + " does not ask for: " + n.String()})
		}
	}
}

// maxRAMPolicyBytes is the largest RAM policy document a manifest's plan
// writes (CreatePolicyVersion counts bytes, corrections.md §5; the key
// policy's limit is policy.MaxKeyPolicyBytes).
const maxRAMPolicyBytes = 6144

// writeKeyPolicy applies edit to the key policy with read-modify-write, and
// confirms it stuck. The edit must be idempotent: the changes are in place
// exactly when editing the policy again changes nothing, which is how
// overwrites by other writers are detected. named are the recipients the
// edit names: a refusal with InvalidParameter while RAM knows them all is a
// principal created moments ago that KMS does not see yet, waited out
// within Options.VisibilityWait (see visibilityWaiter).
func (c *Client) writeKeyPolicy(ctx context.Context, owner *alicloud.Clients, key arn.ARN, named []Recipient,
	edit func(*policy.Document) (*policy.Document, error)) KeyPolicyResult {
	l := c.keyLock(key.String())
	l.Lock()
	defer l.Unlock()

	var res KeyPolicyResult
	fail := func(err error) KeyPolicyResult {
		res.Status, res.err, res.Error = StatusFailed, err, err.Error()
		c.emit(ctx, Event{Phase: "apply", Account: key.AccountID, Message: "key policy not changed", Err: err})
		return res
	}
	// The longest read-modify-write seen on this key, from the start of the
	// read to the end of the write, in real time: another writer on the same
	// cloud and under the same load saves at most about that long after its
	// read, so the settle wait stretches with it (latency, throttling, a
	// busy machine).
	var maxRMW time.Duration
	settle := func() time.Duration { return settleDelay(c.opts.SettleDelay, maxRMW, c.jitter()) }
	read := func() (cur, next *policy.Document, err error) {
		if cur, err = readPolicy(ctx, owner.KMS, key.String()); err != nil {
			return nil, nil, err
		}
		next, err = edit(cur)
		return cur, next, err
	}
	visible := &visibilityWaiter{c: c, recipients: named}
	failures := 0   // consecutive retryable failures of SetKeyPolicy
	overwrites := 0 // confirmations that found the policy overwritten
	for {
		start := time.Now()
		cur, next, err := read()
		if err != nil {
			return fail(err)
		}
		switch {
		case !policy.Equivalent(cur, next):
			if res.Rounds == c.opts.KeyPolicyAttempts {
				return fail(fmt.Errorf("%w (%d rounds)", ErrLostUpdate, res.Rounds))
			}
			doc, _ := next.Marshal()
			res.Writes++
			err = owner.KMS.SetKeyPolicy(ctx, key.String(), string(doc))
			if d := time.Since(start); d > maxRMW {
				maxRMW = d
			}
			if err != nil && errors.Is(err, cloudapi.ErrInvalidParameter) {
				if werr := visible.refused(ctx, key.AccountID, err); werr != nil {
					return fail(werr)
				}
				continue
			}
			if err != nil {
				failures++
				if c.opts.Retry.Check == nil || !c.opts.Retry.Check(err) || failures >= c.opts.Retry.MaxAttempts {
					return fail(err)
				}
				// Back off, then read and merge again: what was merged a moment ago
				// may be stale by now, and the write may even have been applied.
				c.emit(ctx, Event{Phase: "apply", Account: key.AccountID, Message: "key policy write failed; reading and merging again", Err: err})
				if serr := c.opts.Retry.Sleep(ctx, c.opts.Retry.Backoff(failures)); serr != nil {
					return fail(err)
				}
				continue
			}
			failures = 0
			res.Rounds++
			if c.opts.Progress != nil || c.opts.Logger != nil { // a diff of a large policy costs tens of milliseconds
				c.emit(ctx, Event{Phase: "apply", Account: key.AccountID, Message: fmt.Sprintf("key policy written (%s)", summarize(policy.Diff(cur, next)))})
			}
		case res.Writes == 0:
			res.Status = StatusAlreadyDone
			return res
		default:
			// A write whose answer was an error took effect after all (a lost
			// response), or another writer merged our grants back in. Either
			// way it is as fresh as a write just made, and as exposed to a
			// writer that read before it: confirm it the same way.
			c.emit(ctx, Event{Phase: "apply", Account: key.AccountID, Message: "key policy already has the changes after a write; confirming"})
		}
		// Confirm twice, a settle delay apart: a writer that read the policy
		// before this write and saves after it shows up in one of the reads.
		held := true
		for i := 0; i < 2 && held; i++ {
			if err := c.opts.Clock.Sleep(ctx, settle()); err != nil {
				return fail(err)
			}
			cur, next, err = read()
			if err != nil {
				return fail(err)
			}
			held = policy.Equivalent(cur, next)
		}
		if held {
			res.Status = StatusDone
			c.emit(ctx, Event{Phase: "apply", Account: key.AccountID, Message: fmt.Sprintf("key policy confirmed after %d write(s)", res.Writes)})
			return res
		}
		overwrites++
		if overwrites >= c.opts.KeyPolicyAttempts {
			return fail(fmt.Errorf("%w (%d rounds)", ErrLostUpdate, res.Rounds))
		}
		// Back off before merging again, longer each time: writing straight
		// back races the other writer's next round in lock step.
		c.emit(ctx, Event{Phase: "apply", Account: key.AccountID, Message: "key policy was overwritten by another writer; merging again"})
		if err := c.opts.Clock.Sleep(ctx, c.opts.Retry.Backoff(overwrites)); err != nil {
			return fail(err)
		}
	}
}

// lintKeyPolicy lints desired, a key policy of owner's, and returns its
// findings and, as problems, the errors among them that current does not
// have: errors already there belong to someone else's statements; only
// errors a plan would introduce block it. what names the policy in the
// problems' messages.
func lintKeyPolicy(current, desired *policy.Document, owner, what string) ([]policy.Finding, []Problem) {
	opts := policy.LintOptions{Owner: owner}
	before := map[string]bool{}
	for _, f := range policy.Lint(current, policy.KeyPolicy, opts) {
		before[f.Code+"\x00"+f.Message] = true
	}
	findings := policy.Lint(desired, policy.KeyPolicy, opts)
	var problems []Problem
	for _, f := range findings {
		if f.Severity == policy.SeverityError && !before[f.Code+"\x00"+f.Message] {
			problems = append(problems, Problem{Code: ProblemNewLintError, Account: owner,
				Message: what + " would be wrong: " + f.String()})
		}
	}
	return findings, problems
}
