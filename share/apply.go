package share

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
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

// Status is the outcome of one step.
type Status string

// Step outcomes.
const (
	StatusDone         Status = "done"          // the change was made
	StatusAlreadyDone  Status = "already-done"  // the cloud already had it (e.g. created concurrently)
	StatusFailed       Status = "failed"        // the change was attempted and failed
	StatusNotAttempted Status = "not-attempted" // an earlier failure stopped it
)

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

// StepResult is the outcome of one recipient-side step.
type StepResult struct {
	Step   Step   `json:"step"`
	Status Status `json:"status"`
	Error  string `json:"error,omitempty"`
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

// ApplyError is returned when Apply did only part of a plan. Its Result says
// exactly what was and was not done; Apply is safe to run again. It matches
// ErrIncomplete and the underlying errors.
type ApplyError struct {
	Result *Result
	errs   []error
}

func (e *ApplyError) Error() string {
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

// Is matches ErrIncomplete.
func (e *ApplyError) Is(target error) bool { return target == ErrIncomplete }

// Unwrap returns the errors of the failed steps.
func (e *ApplyError) Unwrap() []error { return e.errs }

// Apply makes the changes of a plan. A plan with problems is refused with
// its *PreflightError before any API call, and so is, with a *SpecError, a
// plan that Plan or PlanRevoke could not have made for its own Spec (say,
// one edited after it was stored as JSON): the spec must validate and the
// recipients and their steps must follow from it.
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
// not, and the error is an *ApplyError; running Apply (or Plan and Apply)
// again is safe.
func (c *Client) Apply(ctx context.Context, p *Plan) (*Result, error) {
	if err := c.checkPlan(p); err != nil {
		return nil, err
	}
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

// runSteps makes steps in order with acct (or fails them all with acctErr,
// the error of entering their account or of a check before them), stopping
// at the first failure; the steps after it are reported as not attempted.
func (c *Client) runSteps(ctx context.Context, acct *alicloud.Clients, acctErr error, principal string, steps []Step) ([]StepResult, error) {
	out := make([]StepResult, 0, len(steps))
	failed := acctErr
	for _, st := range steps {
		if failed != nil {
			out = append(out, StepResult{Step: st, Status: StatusNotAttempted})
			continue
		}
		status, err := c.runStep(ctx, acct, st)
		sr := StepResult{Step: st, Status: status}
		if err != nil {
			sr.Error = err.Error()
			failed = fmt.Errorf("%s: %w", st, err)
		}
		out = append(out, sr)
		c.emit(ctx, Event{Phase: "apply", Account: st.Account, Principal: principal, Message: st.String() + ": " + string(status), Err: err})
	}
	return out, failed
}

// consistencyRetry also retries "not found": RAM entities are invisible
// for a while right after they are created.
func (c *Client) consistencyRetry(ctx context.Context, st Step) cloudapi.Retry {
	return c.consistencyRetryOn(ctx, st, func(err error) bool { return errors.Is(err, cloudapi.ErrNotFound) })
}

// consistencyRetryOn retries what check accepts, within
// Options.VisibilityWait, reporting each wait as a progress event. Only
// that: each call already retries what the retry policy retries
// (throttling, 5xx), and retrying that here too would multiply the
// attempts.
func (c *Client) consistencyRetryOn(ctx context.Context, st Step, check func(error) bool) cloudapi.Retry {
	r := c.opts.Retry
	start := c.opts.Clock.Now()
	r.MaxAttempts = 1 << 20 // bounded by VisibilityWait below
	r.Backoff = c.visibilityBackoff()
	r.Check = func(err error) bool {
		return check(err) && c.opts.Clock.Now().Sub(start) < c.opts.VisibilityWait
	}
	r.Sleep = func(ctx context.Context, d time.Duration) error {
		if rest := start.Add(c.opts.VisibilityWait).Sub(c.opts.Clock.Now()); d > rest {
			d = rest
		}
		c.emit(ctx, Event{Phase: "apply", Account: st.Account, Message: fmt.Sprintf(
			"%s: RAM does not show the change of a moment ago yet (eventual consistency); waiting %s", st, d.Round(time.Millisecond))})
		return c.opts.Clock.Sleep(ctx, d)
	}
	return r
}

// runStep makes one recipient-side change, treating "already so" answers as
// success.
func (c *Client) runStep(ctx context.Context, acct *alicloud.Clients, st Step) (Status, error) {
	doc := ""
	if st.Document != nil {
		doc = st.Document.String()
	}
	var err error
	switch st.Action {
	case StepCreateRole:
		_, err = acct.RAM.CreateRole(ctx, st.Role, st.Description, doc, st.MaxSession)
		if errors.Is(err, cloudapi.ErrAlreadyExists) {
			return StatusAlreadyDone, nil
		}
	case StepUpdateTrust:
		err = c.consistencyRetry(ctx, st).Do(ctx, func(ctx context.Context) error { return acct.RAM.UpdateRoleTrust(ctx, st.Role, doc) })
	case StepCreatePolicy:
		err = acct.RAM.CreatePolicy(ctx, st.Policy, st.Description, doc)
		if errors.Is(err, cloudapi.ErrAlreadyExists) {
			// Created meanwhile: make sure it says what it should.
			if _, err = acct.RAM.CreateDefaultPolicyVersion(ctx, st.Policy, doc); err == nil {
				return StatusAlreadyDone, nil
			}
		}
	case StepCreatePolicyVersion:
		_, err = acct.RAM.CreateDefaultPolicyVersion(ctx, st.Policy, doc)
	case StepAttachPolicy:
		err = c.consistencyRetry(ctx, st).Do(ctx, func(ctx context.Context) error {
			if st.User {
				return acct.RAM.AttachPolicyToUser(ctx, st.PolicyType, st.Policy, st.Role)
			}
			return acct.RAM.AttachPolicyToRole(ctx, st.PolicyType, st.Policy, st.Role)
		})
		if errors.Is(err, cloudapi.ErrAlreadyExists) {
			return StatusAlreadyDone, nil
		}
	case StepDetachPolicy:
		if st.User {
			err = acct.RAM.DetachPolicyFromUser(ctx, st.PolicyType, st.Policy, st.Role)
		} else {
			err = acct.RAM.DetachPolicyFromRole(ctx, st.PolicyType, st.Policy, st.Role)
		}
		if errors.Is(err, cloudapi.ErrNotFound) {
			return StatusAlreadyDone, nil
		}
	case StepDeletePolicy:
		// A detach from a role a moment ago may not be visible yet: RAM then
		// answers DeleteConflict.Role.Policy, which Terraform retries too.
		err = c.consistencyRetryOn(ctx, st, func(err error) bool { return isCode(err, deleteConflictRolePolicy) }).Do(ctx, func(ctx context.Context) error {
			return acct.RAM.DeletePolicy(ctx, st.Policy)
		})
		if errors.Is(err, cloudapi.ErrNotFound) {
			return StatusAlreadyDone, nil
		}
	case StepDeleteRole:
		// RAM may briefly still see attachments just removed.
		err = c.consistencyRetryOn(ctx, st, func(err error) bool { return errors.Is(err, cloudapi.ErrConflict) }).Do(ctx, func(ctx context.Context) error {
			return acct.RAM.DeleteRole(ctx, st.Role)
		})
		if errors.Is(err, cloudapi.ErrNotFound) {
			return StatusAlreadyDone, nil
		}
	default:
		err = fmt.Errorf("unknown step %q", st.Action)
	}
	if err != nil {
		return StatusFailed, err
	}
	return StatusDone, nil
}

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
		raw, err := owner.KMS.GetKeyPolicy(ctx, key.String())
		if err != nil {
			return nil, nil, err
		}
		if cur, err = policy.Parse([]byte(raw)); err != nil {
			return nil, nil, fmt.Errorf("the key policy cannot be parsed: %w", err)
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

// settleRoundTrips is how many of the longest read-modify-write round trips
// seen the settle delay stretches to (Options.SettleDelay).
const settleRoundTrips = 4

// settleDelay is the wait before a confirming re-read: base, or
// settleRoundTrips times the longest round trip if that is longer, plus a
// quarter to three quarters of it again from jitter, so that the window is
// never shorter than promised and racing writers do not wake in lock step.
func settleDelay(base, longestRoundTrip time.Duration, jitter func(time.Duration) time.Duration) time.Duration {
	d := base
	if m := settleRoundTrips * longestRoundTrip; m > d {
		d = m
	}
	return d + jitter(d)/2
}

// summarize counts added and removed grants.
func summarize(changes []policy.Change) string {
	add, remove := 0, 0
	for _, c := range changes {
		if c.Op == policy.Added {
			add++
		} else {
			remove++
		}
	}
	return fmt.Sprintf("%d grant(s) added, %d removed", add, remove)
}

// backoff is cloudapi.Exponential with the Client's jitter: never less
// than half the nominal wait.
func (c *Client) backoff(base, ceiling time.Duration) cloudapi.Backoff {
	return cloudapi.Exponential(base, ceiling, c.jitter())
}

// jitter returns a random duration in [d/2, 3d/2) from Options.Rand, so that
// writers racing on one key do not retry in lock step.
func (c *Client) jitter() cloudapi.Jitter { return cloudapi.SpreadJitter(c.opts.Rand) }
