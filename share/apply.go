package share

import (
	"context"
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/policy"
)

// Result says what Apply did, step by step. It marshals to JSON.
type Result struct {
	Operation  Operation         `json:"operation"`
	Key        string            `json:"key"`
	Recipients []RecipientResult `json:"recipients"`
	KeyPolicy  KeyPolicyResult   `json:"keyPolicy"`
	Network    *NetworkResult    `json:"network,omitempty"` // the VPC bindings, if the plan had any
}

// RecipientResult is what happened for one recipient.
type RecipientResult struct {
	Principal string       `json:"principal"`
	Account   string       `json:"account"`
	Steps     []StepResult `json:"steps,omitempty"`
	// Done says whether this recipient's part of the plan is complete and
	// confirmed: its steps ran and the key policy now says what the plan
	// asked (the grant is in it after a share, gone after a revoke).
	Done bool `json:"done"`
	// Granted says whether the key policy grants this principal after
	// Apply, as far as Apply confirmed it: true after a successful share,
	// false after a successful revoke.
	Granted bool   `json:"granted"`
	Error   string `json:"error,omitempty"`
	err     error
}

// Err returns nil if everything was done, else an *ApplyError.
func (r *Result) Err() error {
	var errs []error
	for _, rr := range r.Recipients {
		if rr.err != nil {
			errs = append(errs, rr.err)
		}
	}
	if r.KeyPolicy.err != nil {
		errs = append(errs, r.KeyPolicy.err)
	}
	if r.Network != nil && r.Network.err != nil {
		errs = append(errs, r.Network.err)
	}
	if len(errs) == 0 {
		return nil
	}
	return &ApplyError{Result: r, errs: errs}
}

// ApplyError is returned when Apply, ApplyManifest or ApplyRole did only
// part of a plan. The result it holds says exactly what was and was not
// done: Result for Apply, OrgResult for ApplyManifest (also from Onboard
// and RevokeManifest), RoleResult for ApplyRole; the other two are nil.
// Applying again (or planning and applying again) is safe. It matches
// ErrIncomplete and the underlying errors.
type ApplyError struct {
	Result     *Result
	OrgResult  *OrgResult
	RoleResult *RoleResult
	errs       []error
}

func (e *ApplyError) Error() string {
	switch {
	case e.OrgResult != nil:
		return "share: manifest incomplete: " + e.joined()
	case e.RoleResult != nil:
		return fmt.Sprintf("share: role %s in account %s incomplete: %s", e.RoleResult.Role, e.RoleResult.Account, e.joined())
	case e.Result == nil:
		return "share: apply incomplete: " + e.joined()
	}
	var parts []string
	for _, rr := range e.Result.Recipients {
		if rr.err != nil {
			parts = append(parts, rr.Principal+": "+rr.Error)
		}
	}
	if e.Result.KeyPolicy.err != nil {
		parts = append(parts, "key policy: "+e.Result.KeyPolicy.Error)
	}
	if n := e.Result.Network; n != nil && n.err != nil {
		parts = append(parts, "VPC bindings: "+n.Error)
	}
	return fmt.Sprintf("share: %s of %s incomplete: %s", e.Result.Operation, e.Result.Key, strings.Join(parts, "; "))
}

// joined is the failures' texts, one after the other.
func (e *ApplyError) joined() string {
	parts := make([]string, len(e.errs))
	for i, err := range e.errs {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

// Is matches ErrIncomplete.
func (e *ApplyError) Is(target error) bool { return target == ErrIncomplete }

// Unwrap returns the errors of the failed steps.
func (e *ApplyError) Unwrap() []error { return e.errs }

// Apply makes the changes of a plan. It takes only a plan that Plan or
// PlanRevoke returned, unchanged: the plan is sealed when it is made, and a
// plan edited afterwards (directly or through a copy), built by hand or
// decoded from JSON is refused with a *SpecError (field "plan", matching
// ErrInvalidSpec) before any API call. A plan with problems is refused
// with its *PreflightError, also before any API call.
//
// Sharing works recipient side first, because a key policy may only name
// principals that exist (SetKeyPolicy refuses others with InvalidParameter):
// each recipient's steps run in order, Options.Concurrency recipients at a
// time, and are idempotent. The owner side then makes one read-modify-write
// of the key policy for all recipients whose side is ready, changing only
// the statements this library owns, and confirms the write by reading it
// back after Options.SettleDelay; if another writer overwrote it, the grants
// are merged again into what that writer saved and written again, up to
// Options.KeyPolicyAttempts rounds. Revoking works owner side first.
//
// On a partial failure the result says per step what was done and what was
// not, and the error is an *ApplyError; running Apply again (the plan keeps
// its seal) or Plan and Apply again is safe.
func (c *Client) Apply(ctx context.Context, p *Plan) (*Result, error) {
	if p == nil {
		return nil, noPlan()
	}
	if err := checkSeal(p, p.seal, "Plan or PlanRevoke"); err != nil {
		return nil, err
	}
	if err := sameRegion(p.Spec.Key, c.Region()); err != nil {
		return nil, err
	}
	return c.apply(ctx, p)
}

// apply is Apply for a plan this package just made.
func (c *Client) apply(ctx context.Context, p *Plan) (*Result, error) {
	if err := p.Err(); err != nil {
		return nil, err
	}
	key := p.Spec.KeyARN()
	res := &Result{Operation: p.Operation, Key: p.Key.ARN, Recipients: make([]RecipientResult, len(p.Recipients))}
	for i, rp := range p.Recipients {
		res.Recipients[i] = RecipientResult{Principal: rp.Principal, Account: rp.Recipient.Account}
	}
	owner, err := c.account(ctx, key.AccountID, "")
	if err != nil {
		return nil, err
	}
	switch p.Operation {
	case OpShare:
		c.applyRecipients(ctx, p, res)
		var ready []Recipient
		var idx []int
		for i, rr := range res.Recipients {
			if rr.err == nil {
				ready = append(ready, p.Recipients[i].Recipient)
				idx = append(idx, i)
			}
		}
		if len(ready) > 0 {
			res.KeyPolicy = c.writeKeyPolicy(ctx, owner, key, ready, func(d *policy.Document) (*policy.Document, error) {
				return grantAll(d, key.AccountID, ready)
			})
			for _, i := range idx {
				res.Recipients[i].Granted = res.KeyPolicy.err == nil
				res.Recipients[i].Done = res.KeyPolicy.err == nil
			}
		} else {
			res.KeyPolicy = KeyPolicyResult{Status: StatusNotAttempted}
		}
		if np := p.Network; np != nil && len(np.Bind) > 0 {
			nr := c.bindVPCs(ctx, owner, key.AccountID, np.InstanceID, np.Bind)
			res.Network = &nr
		}
	case OpRevoke:
		principals := p.Spec.principalARNs()
		res.KeyPolicy = c.writeKeyPolicy(ctx, owner, key, nil, func(d *policy.Document) (*policy.Document, error) {
			return policy.RemoveCrossAccountUsers(d, key.AccountID, principals...)
		})
		for i := range res.Recipients {
			res.Recipients[i].Granted = res.KeyPolicy.err != nil // still granted if the removal failed
		}
		if res.KeyPolicy.err == nil {
			c.applyRecipients(ctx, p, res)
			for i := range res.Recipients {
				res.Recipients[i].Done = res.Recipients[i].err == nil
			}
		}
	default:
		return nil, fmt.Errorf("share: unknown operation %q", p.Operation)
	}
	return res, res.Err()
}

// applyRecipients runs every recipient's steps, Concurrency recipients at a time.
func (c *Client) applyRecipients(ctx context.Context, p *Plan, res *Result) {
	parallel(ctx, c.opts.Concurrency, len(p.Recipients), func(i int) {
		rp := p.Recipients[i]
		rr := &res.Recipients[i]
		if len(rp.Steps) == 0 {
			return
		}
		acct, err := c.account(ctx, rp.Recipient.Account, rp.Recipient.AccessRole)
		if err == nil && p.Operation == OpRevoke {
			err = c.checkCreatedRoles(ctx, acct, rp.Steps)
		}
		var failed error
		rr.Steps, failed = c.runSteps(ctx, acct, err, rp.Principal, rp.Steps)
		if failed != nil {
			rr.err = fmt.Errorf("recipient %s: %w", rp.Principal, failed)
			rr.Error = failed.Error()
		}
	})
	if err := ctx.Err(); err != nil {
		for i := range res.Recipients {
			if res.Recipients[i].err == nil && len(res.Recipients[i].Steps) < len(p.Recipients[i].Steps) {
				res.Recipients[i].err, res.Recipients[i].Error = err, err.Error()
			}
		}
	}
}
