package share

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// VerifyResult is the verification of one recipient.
type VerifyResult struct {
	Principal string        `json:"principal"`
	Account   string        `json:"account"`
	Outcome   Outcome       `json:"outcome"`
	Attempts  int           `json:"attempts"`
	Elapsed   time.Duration `json:"elapsed"`
	// Checked lists the operations performed as the recipient, e.g.
	// "DescribeKey", "GenerateDataKey", "Decrypt".
	Checked []string `json:"checked,omitempty"`
	// Static lists the granted actions that were only checked against the
	// key policy and the recipient's RAM policies, because no harmless call
	// exercises them or the principal cannot be acted as. That they are
	// allowed does not prove the change has propagated.
	Static []string `json:"static,omitempty"`
	Detail string   `json:"detail,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// VerifyReport is the verification of a spec.
type VerifyReport struct {
	Key     string         `json:"key"`
	Revoke  bool           `json:"revoke,omitempty"`
	Results []VerifyResult `json:"results"`
}

// OK reports whether every recipient verified. A recipient verified
// statically counts (nothing more can be checked for it), though only an
// OK outcome proves the share is in effect; see Outcome.
func (r *VerifyReport) OK() bool {
	for _, v := range r.Results {
		if !v.Outcome.success() {
			return false
		}
	}
	return true
}

// Err returns nil if every recipient verified, else a *VerifyError.
func (r *VerifyReport) Err() error {
	if r.OK() {
		return nil
	}
	return &VerifyError{Report: r}
}

// Verify checks, from each recipient's own identity, that the share works:
// it assumes the recipient's role (through the account's access role) and
// makes a harmless call for each granted action that has one: DescribeKey
// with the key ARN, GenerateDataKey, Decrypt of the result, and Encrypt of a
// few bytes. Until they
// pass it polls with backoff (Options.VerifyInterval doubling to a minute)
// up to Options.VerifyTimeout, because changes take a while to propagate.
// When the cloud refuses, it reads both policies to say why: denied by the
// key policy, denied by the recipient's RAM policy, or (both allow) not yet
// propagated. The granted actions no call exercises are checked against
// both policies (VerifyResult.Static). A recipient is OK only if a call was
// made: one without any such action, and the principals that cannot be
// acted as (the ECS disk role, RAM users), are verified statically, at the
// first attempt, which does not prove the change has propagated. Progress
// is reported through Options.Progress and Options.Logger.
func (c *Client) Verify(ctx context.Context, spec *Spec) (*VerifyReport, error) {
	return c.verify(ctx, spec, false)
}

// VerifyRevoked checks that the spec's recipients can no longer use the key,
// polling like Verify until the refusal has propagated. Every harmless call
// is tried, whatever the spec granted, and every key user action is checked
// against the key policy as it reads now: a recipient that any statement
// still allows anything, including one this library does not own (which a
// revoke leaves in place), is OutcomeStillGranted, and Detail names the
// statements.
func (c *Client) VerifyRevoked(ctx context.Context, spec *Spec) (*VerifyReport, error) {
	return c.verify(ctx, spec, true)
}

func (c *Client) verify(ctx context.Context, spec *Spec, revoked bool) (*VerifyReport, error) {
	if err := spec.Validate(c.Region()); err != nil {
		return nil, err
	}
	key := spec.KeyARN()
	rep := &VerifyReport{Key: key.String(), Revoke: revoked, Results: make([]VerifyResult, len(spec.Recipients))}
	parallel(ctx, c.opts.Concurrency, len(spec.Recipients), func(i int) {
		rep.Results[i] = c.verifyRecipient(ctx, key, spec.Recipients[i], revoked)
	})
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

func (c *Client) verifyRecipient(ctx context.Context, key arn.ARN, r Recipient, revoked bool) VerifyResult {
	start := c.opts.Clock.Now()
	deadline := start.Add(c.opts.VerifyTimeout)
	wait := c.backoff(c.opts.VerifyInterval, max(c.opts.VerifyInterval, time.Minute))
	res := VerifyResult{Principal: r.PrincipalARN().String(), Account: r.Account}
	errorsInARow := 0
	for {
		res.Attempts++
		ck := c.checkOnce(ctx, key, r, revoked)
		err := ck.err
		res.Outcome, res.Checked, res.Static, res.Detail, res.Error = ck.outcome, ck.checked, ck.static, ck.detail, ""
		if err != nil {
			res.Error = err.Error()
		}
		now := c.opts.Clock.Now()
		res.Elapsed = now.Sub(start)
		if ck.invisible && res.Elapsed >= c.opts.VisibilityWait {
			res.Outcome = OutcomeRecipientRoleMissing
			res.Detail = fmt.Sprintf("%s exists in RAM but STS still refuses it as missing after %s", res.Principal, res.Elapsed.Round(time.Second))
		}
		c.emit(ctx, Event{Phase: "verify", Account: r.Account, Principal: res.Principal, Outcome: res.Outcome,
			Attempt: res.Attempts, Message: verifyMessage(res), Err: err})
		if res.Outcome == OutcomeError {
			errorsInARow++
		} else {
			errorsInARow = 0
		}
		// A check that keeps failing (say, the role's trust does not admit
		// us) is not propagation: give up after a few tries, not at the
		// deadline.
		if res.Outcome.final() || errorsInARow >= maxVerifyErrors || !now.Before(deadline) || ctx.Err() != nil {
			return res
		}
		d := wait(res.Attempts)
		if rest := deadline.Sub(now); d > rest {
			d = rest
		}
		if c.opts.Clock.Sleep(ctx, d) != nil {
			return res
		}
	}
}

// check is the result of one verification attempt.
type check struct {
	outcome Outcome
	checked []string // operations called as the recipient
	static  []string // granted actions checked against the policies only
	detail  string
	err     error
	// invisible: the principal exists in RAM but STS refuses it as missing
	// (eventual consistency), waited out within Options.VisibilityWait.
	invisible bool
}

// checkOnce makes one verification attempt.
func (c *Client) checkOnce(ctx context.Context, key arn.ARN, r Recipient, revoked bool) check {
	acts, err := r.actions()
	if err != nil {
		return check{outcome: OutcomeError, detail: "invalid actions", err: err}
	}
	if r.kind() == PrincipalECSDiskRole || r.kind() == PrincipalUser {
		// No call can be made as these principals: a service role, a user.
		if revoked {
			return c.explainRevoked(ctx, key, r)
		}
		o, detail, err := c.explain(ctx, key, r, acts, true)
		return check{outcome: o, static: acts, detail: detail, err: err}
	}
	s, err := c.recipientSessionOf(ctx, r)
	switch {
	case errors.Is(err, cloudapi.ErrNotFound) && revoked:
		// A deleted role uses nothing; what is left to check is that the key
		// policy no longer names it, should a role of that name come back.
		return c.explainRevoked(ctx, key, r)
	case errors.Is(err, cloudapi.ErrNotFound):
		if exists, eerr := c.principalExists(ctx, r); eerr == nil && exists {
			// RAM knows it, STS not yet: created moments ago.
			return check{outcome: OutcomeNotYetPropagated, invisible: true, err: err,
				detail: r.PrincipalARN().String() + " exists in RAM but STS does not see it yet (created moments ago); waiting"}
		}
		return check{outcome: OutcomeRecipientRoleMissing, detail: "cannot assume " + r.PrincipalARN().String() + ": it does not exist", err: err}
	case err != nil:
		return check{outcome: OutcomeError, detail: "cannot assume " + r.PrincipalARN().String(), err: err}
	}
	sess := s.clients
	// The cryptographic calls go over the recipient's network path.
	t, err := c.target(ctx, key, r)
	var crypto *alicloud.Clients
	if err == nil {
		crypto, err = c.onPath(s, t)
	}
	if err != nil {
		return check{outcome: OutcomeError, detail: "cannot set up the recipient's network path", err: err}
	}
	if revoked {
		return c.checkRevoked(ctx, sess, crypto, t, key, r)
	}
	ck := check{}
	pr := c.probe(ctx, sess, crypto, key, acts, false, &ck.checked)
	done, action, opErr := pr.usable, pr.failed, pr.err
	if opErr == nil {
		rest := slices.DeleteFunc(slices.Clone(acts), func(a string) bool { return slices.Contains(done, a) })
		if len(done) == 0 {
			// Nothing granted has a harmless call: never "ok" without one.
			ck.outcome, ck.detail, ck.err = c.explain(ctx, key, r, acts, true)
			ck.static = acts
			return ck
		}
		ck.outcome = OutcomeOK
		if len(rest) == 0 {
			return ck
		}
		// The calls show the share in effect; the actions no call exercises
		// are checked against both policies, which may still refuse them.
		switch o, detail, err := c.explain(ctx, key, r, rest, true); {
		case o == OutcomeVerifiedStatically:
			ck.static = rest
			ck.detail = fmt.Sprintf("%d more granted action(s) checked against both policies only (no harmless call exercises them)", len(rest))
		case o == OutcomeError:
			ck.detail = "the granted actions no call exercises could not be checked: " + detail
			if err != nil {
				ck.detail += ": " + err.Error()
			}
		default:
			ck.outcome, ck.detail, ck.err = o, detail, err
		}
		return ck
	}
	ck.err = opErr
	switch {
	case errors.Is(opErr, cloudapi.ErrNetwork):
		// Not a permission, and not propagation: waiting will not help.
		ck.outcome, ck.detail = OutcomeNetworkRefused, networkFix(r, t, opErr)
		return ck
	case errors.Is(opErr, cloudapi.ErrAccessDenied), errors.Is(opErr, cloudapi.ErrNotFound):
		var err error
		ck.outcome, ck.detail, err = c.explain(ctx, key, r, []string{action}, false)
		if err != nil {
			ck.err = err
		}
		if ck.outcome == OutcomeNotYetPropagated {
			// Before waiting for propagation, make sure waiting can help:
			// a path that refuses the key would refuse it after that too.
			if nerr := probeNetwork(ctx, crypto, key); nerr != nil {
				ck.outcome, ck.detail, ck.err = OutcomeNetworkRefused, networkFix(r, t, nerr), nerr
			}
		}
		return ck
	case errors.Is(opErr, cloudapi.ErrKeyState):
		ck.outcome, ck.detail = OutcomeKeyDisabled, "the key is not enabled"
		return ck
	case errors.Is(opErr, cloudapi.ErrKeyPolicyUnsupported):
		ck.outcome = OutcomeKeyNotInInstance
		return ck
	case errors.Is(opErr, cloudapi.ErrAuthentication):
		c.forget(r.PrincipalARN()) // e.g. expired credentials; assume again next time
	}
	ck.outcome, ck.detail = OutcomeError, action+" failed"
	return ck
}

// checkRevoked makes one attempt of VerifyRevoked for a principal Verify
// can act as: every harmless call is tried, whatever the spec granted (a
// grant made by hand may allow what the spec did not), and every key user
// action is checked against the key policy as it reads now.
func (c *Client) checkRevoked(ctx context.Context, sess, crypto *alicloud.Clients, t NetworkTarget, key arn.ARN, r Recipient) check {
	var checked []string
	pr := c.probe(ctx, sess, crypto, key, probeActions, true, &checked)
	usable, refusal, err := pr.usable, pr.refusal, pr.err
	if err != nil {
		if errors.Is(err, cloudapi.ErrNetwork) {
			return check{outcome: OutcomeNetworkRefused, checked: checked, detail: networkFix(r, t, err), err: err}
		}
		if errors.Is(err, cloudapi.ErrAuthentication) {
			c.forget(r.PrincipalARN())
		}
		return check{outcome: OutcomeError, checked: checked, detail: "cannot tell whether the recipient is refused", err: err}
	}
	ck := c.explainRevoked(ctx, key, r)
	ck.checked = checked
	switch {
	case ck.outcome == OutcomeRevoked && len(usable) > 0:
		// The policies no longer allow it; the cloud has not caught up.
		ck.outcome, ck.detail = OutcomeNotYetPropagated, "the recipient can still "+usable[0]+"; the revoke has not taken effect yet"
	case ck.outcome == OutcomeRevoked && ck.err == nil:
		ck.err = refusal
	}
	return ck
}
