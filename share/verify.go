package share

import (
	"bytes"
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

// Outcome is the result of verifying one recipient.
type Outcome string

// Verification outcomes. OK, Revoked and VerifiedStatically are successes;
// NotYetPropagated keeps Verify polling until its deadline; the others end
// polling for that recipient, because waiting will not change them.
const (
	OutcomeOK                      Outcome = "ok"                         // the recipient used the key
	OutcomeVerifiedStatically      Outcome = "verified-statically"        // both policies allow it; the principal cannot be acted as (a service role or a user)
	OutcomeRevoked                 Outcome = "revoked"                    // the recipient is refused, as a revoke intends
	OutcomeNotYetPropagated        Outcome = "not-yet-propagated"         // both policies say yes (or no, after a revoke) but the cloud does not agree yet
	OutcomeDeniedByKeyPolicy       Outcome = "denied-by-key-policy"       // the key policy does not grant the action
	OutcomeDeniedByRecipientPolicy Outcome = "denied-by-recipient-policy" // the recipient's own RAM policies do not allow the action
	OutcomeStillGranted            Outcome = "still-granted"              // after a revoke, the key policy still grants the recipient
	OutcomeKeyDisabled             Outcome = "key-disabled"               // the key is not Enabled
	OutcomeKeyNotInInstance        Outcome = "key-not-in-instance"        // the key has no key policy
	OutcomeQuotaExceeded           Outcome = "quota-exceeded"             // the key policy lacks the recipient and the instance's quota is full
	OutcomeRecipientRoleMissing    Outcome = "recipient-role-missing"     // the recipient's role (or user) does not exist
	OutcomeError                   Outcome = "error"                      // the check itself failed; see Error
)

// Errors matched by a *VerifyError, one per failing outcome.
var (
	ErrNotYetPropagated       = errors.New("share: not yet in effect")
	ErrDeniedByKeyPolicy      = errors.New("share: denied by the key policy")
	ErrDeniedByRecipientRAM   = errors.New("share: denied by the recipient's RAM policy")
	ErrStillGranted           = errors.New("share: still granted by the key policy")
	ErrKeyDisabled            = errors.New("share: key not enabled")
	ErrKeyNotInInstance       = errors.New("share: key not in a KMS instance")
	ErrRecipientRoleMissing   = errors.New("share: recipient role or user missing")
	ErrVerificationIncomplete = errors.New("share: verification could not complete")
)

// maxVerifyErrors is how many failed checks in a row end a recipient's
// verification.
const maxVerifyErrors = 5

func (o Outcome) success() bool {
	return o == OutcomeOK || o == OutcomeVerifiedStatically || o == OutcomeRevoked
}

// final reports whether waiting cannot change the outcome.
func (o Outcome) final() bool {
	return o != OutcomeNotYetPropagated && o != OutcomeError
}

func (o Outcome) err() error {
	switch o {
	case OutcomeNotYetPropagated:
		return ErrNotYetPropagated
	case OutcomeDeniedByKeyPolicy:
		return ErrDeniedByKeyPolicy
	case OutcomeDeniedByRecipientPolicy:
		return ErrDeniedByRecipientRAM
	case OutcomeStillGranted:
		return ErrStillGranted
	case OutcomeKeyDisabled:
		return ErrKeyDisabled
	case OutcomeKeyNotInInstance:
		return ErrKeyNotInInstance
	case OutcomeQuotaExceeded:
		return ErrQuotaExceeded
	case OutcomeRecipientRoleMissing:
		return ErrRecipientRoleMissing
	case OutcomeError:
		return ErrVerificationIncomplete
	}
	return nil
}

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
	Detail  string   `json:"detail,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// VerifyReport is the verification of a spec.
type VerifyReport struct {
	Key     string         `json:"key"`
	Revoke  bool           `json:"revoke,omitempty"`
	Results []VerifyResult `json:"results"`
}

// OK reports whether every recipient verified.
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

// VerifyError lists the recipients that did not verify. It matches the
// Err* value of each failing outcome (ErrDeniedByKeyPolicy, ...).
type VerifyError struct {
	Report *VerifyReport
}

func (e *VerifyError) Error() string {
	var parts []string
	for _, v := range e.Report.Results {
		if !v.Outcome.success() {
			s := v.Principal + ": " + string(v.Outcome)
			if v.Detail != "" {
				s += " (" + v.Detail + ")"
			}
			parts = append(parts, s)
		}
	}
	return "share: verification failed: " + strings.Join(parts, "; ")
}

// Is matches the errors of the failing outcomes.
func (e *VerifyError) Is(target error) bool {
	for _, v := range e.Report.Results {
		if !v.Outcome.success() && v.Outcome.err() == target {
			return true
		}
	}
	return false
}

// Verify checks, from each recipient's own identity, that the share works:
// it assumes the recipient's role (through the account's access role) and
// calls DescribeKey with the key ARN and GenerateDataKey, then Decrypt of
// the result, as far as the granted actions allow. Until a check passes it
// polls with backoff (Options.VerifyInterval doubling to a minute) up to
// Options.VerifyTimeout, because changes take a while to propagate. When
// the cloud refuses, it reads both policies to say why: denied by the key
// policy, denied by the recipient's RAM policy, or (both allow) not yet
// propagated. Roles only a service can assume (the ECS disk role) and RAM
// users cannot be acted as; they are verified statically from both
// policies. Progress is reported through Options.Progress and
// Options.Logger.
func (c *Client) Verify(ctx context.Context, spec *Spec) (*VerifyReport, error) {
	return c.verify(ctx, spec, false)
}

// VerifyRevoked checks that the spec's recipients can no longer use the key,
// polling like Verify until the refusal has propagated.
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
	wait := c.opts.VerifyInterval
	res := VerifyResult{Principal: r.PrincipalARN().String(), Account: r.Account}
	errorsInARow := 0
	for {
		res.Attempts++
		var err error
		res.Outcome, res.Checked, res.Detail, err = c.checkOnce(ctx, key, r, revoked)
		res.Error = ""
		if err != nil {
			res.Error = err.Error()
		}
		now := c.opts.Clock.Now()
		res.Elapsed = now.Sub(start)
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
		d := jitter(wait)
		if rest := deadline.Sub(now); d > rest {
			d = rest
		}
		if c.opts.Clock.Sleep(ctx, d) != nil {
			return res
		}
		if wait *= 2; wait > time.Minute {
			wait = time.Minute
		}
	}
}

func verifyMessage(r VerifyResult) string {
	msg := fmt.Sprintf("attempt %d: %s", r.Attempts, r.Outcome)
	if len(r.Checked) > 0 {
		msg += " [" + strings.Join(r.Checked, ", ") + "]"
	}
	if r.Detail != "" {
		msg += ": " + r.Detail
	}
	return msg
}

// checkOnce makes one verification attempt.
func (c *Client) checkOnce(ctx context.Context, key arn.ARN, r Recipient, revoked bool) (Outcome, []string, string, error) {
	if r.kind() == PrincipalECSDiskRole || r.kind() == PrincipalUser {
		o, detail, err := c.explain(ctx, key, r, firstAction(r), revoked, true)
		return o, nil, detail, err
	}
	sess, err := c.recipientSession(ctx, r)
	switch {
	case errors.Is(err, cloudapi.ErrNotFound) && revoked:
		// A deleted role uses nothing; what is left to check is that the key
		// policy no longer names it, should a role of that name come back.
		o, detail, err := c.explain(ctx, key, r, firstAction(r), true, true)
		return o, nil, detail, err
	case errors.Is(err, cloudapi.ErrNotFound):
		return OutcomeRecipientRoleMissing, nil, "cannot assume " + r.PrincipalARN().String() + ": it does not exist", err
	case err != nil:
		return OutcomeError, nil, "cannot assume " + r.PrincipalARN().String(), err
	}
	var checked []string
	action, opErr := c.exercise(ctx, sess, key, r, &checked)
	if opErr == nil {
		if !revoked {
			return OutcomeOK, checked, "", nil
		}
		o, detail, err := c.explain(ctx, key, r, action, true, false)
		if o == OutcomeRevoked { // the policies no longer allow it; the cloud has not caught up
			o, detail = OutcomeNotYetPropagated, "the recipient can still "+action+"; the revoke has not taken effect yet"
		}
		return o, checked, detail, err
	}
	switch {
	case errors.Is(opErr, cloudapi.ErrAccessDenied), errors.Is(opErr, cloudapi.ErrNotFound):
		o, detail, err := c.explain(ctx, key, r, action, revoked, false)
		if err == nil {
			err = opErr
		}
		return o, checked, detail, err
	case errors.Is(opErr, cloudapi.ErrKeyState):
		return OutcomeKeyDisabled, checked, "the key is not enabled", opErr
	case errors.Is(opErr, cloudapi.ErrKeyPolicyUnsupported):
		return OutcomeKeyNotInInstance, checked, "", opErr
	case errors.Is(opErr, cloudapi.ErrAuthentication):
		c.forget(r.PrincipalARN()) // e.g. expired credentials; assume again next time
	}
	return OutcomeError, checked, action + " failed", opErr
}

// recipientSession returns a session acting as the recipient's principal.
// The RD access role is assumed directly; an application role through the
// account's access role, whose own account the role trusts by default.
func (c *Client) recipientSession(ctx context.Context, r Recipient) (*alicloud.Clients, error) {
	role := r.PrincipalARN()
	if r.kind() == PrincipalRDAccessRole {
		// It trusts the management account, whatever role manages the
		// member: assume it directly with the base credentials.
		s, err := c.assume(ctx, c.base, role)
		if err != nil {
			return nil, err
		}
		return s.clients, nil
	}
	from, err := c.account(ctx, r.Account, r.AccessRole)
	if err != nil {
		return nil, err
	}
	s, err := c.assume(ctx, from, role)
	if err != nil {
		return nil, err
	}
	return s.clients, nil
}

// exercise calls the granted operations as the recipient and returns the
// last action tried.
func (c *Client) exercise(ctx context.Context, sess *alicloud.Clients, key arn.ARN, r Recipient, checked *[]string) (string, error) {
	acts, err := r.actions()
	if err != nil {
		return "", err
	}
	has := func(a string) bool {
		return slices.ContainsFunc(acts, func(x string) bool { return strings.EqualFold(x, a) })
	}
	if has("kms:DescribeKey") {
		*checked = append(*checked, "DescribeKey")
		if _, err := sess.KMS.DescribeKey(ctx, key.String()); err != nil {
			return "kms:DescribeKey", err
		}
	}
	ec := map[string]string{"purpose": "kmsshare-verify"}
	switch {
	case has("kms:GenerateDataKey"):
		*checked = append(*checked, "GenerateDataKey")
		dk, err := sess.KMS.GenerateDataKey(ctx, key.String(), ec)
		if err != nil {
			return "kms:GenerateDataKey", err
		}
		defer clear(dk.Plaintext)
		if has("kms:Decrypt") {
			*checked = append(*checked, "Decrypt")
			_, pt, err := sess.KMS.Decrypt(ctx, dk.CiphertextBlob, ec)
			defer clear(pt)
			if err != nil {
				return "kms:Decrypt", err
			}
			if !bytes.Equal(pt, dk.Plaintext) {
				return "kms:Decrypt", fmt.Errorf("the data key from Decrypt differs from the one GenerateDataKey returned")
			}
		}
		return "kms:GenerateDataKey", nil
	case has("kms:Decrypt"):
		// The recipient may only decrypt: let the owner make a data key.
		owner, err := c.account(ctx, key.AccountID, "")
		if err != nil {
			return "kms:Decrypt", err
		}
		dk, err := owner.KMS.GenerateDataKey(ctx, key.String(), ec)
		if err != nil {
			return "kms:Decrypt", err
		}
		defer clear(dk.Plaintext)
		*checked = append(*checked, "Decrypt")
		_, pt, err := sess.KMS.Decrypt(ctx, dk.CiphertextBlob, ec)
		clear(pt)
		return "kms:Decrypt", err
	}
	return firstAction(r), nil
}

func firstAction(r Recipient) string {
	acts, err := r.actions()
	if err != nil {
		return "" // Verify validated the spec
	}
	for _, pref := range []string{"kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"} {
		if slices.Contains(acts, pref) {
			return pref
		}
	}
	return acts[0]
}

// explain decides, from both policies as they read now, why the cloud
// answered as it did for action (or, statically, what it should answer).
func (c *Client) explain(ctx context.Context, key arn.ARN, r Recipient, action string, revoked, static bool) (Outcome, string, error) {
	owner, err := c.account(ctx, key.AccountID, "")
	if err != nil {
		return OutcomeError, "cannot read the key", err
	}
	meta, err := owner.KMS.DescribeKey(ctx, key.String())
	if err != nil {
		return OutcomeError, "cannot read the key", err
	}
	if meta.State != "Enabled" && !revoked {
		return OutcomeKeyDisabled, "the key is " + meta.State, nil
	}
	if meta.InstanceID == "" {
		return OutcomeKeyNotInInstance, "", nil
	}
	raw, err := owner.KMS.GetKeyPolicy(ctx, key.String())
	if err != nil {
		return OutcomeError, "cannot read the key policy", err
	}
	kp, err := policy.Parse([]byte(raw))
	if err != nil {
		return OutcomeError, "cannot parse the key policy", err
	}
	req := policy.Request{Caller: principalCaller(r), Action: action, Resource: key.String(), ResourceAccount: key.AccountID}
	keySide := policy.Evaluate(req, kp).Decision == policy.Allowed
	if revoked {
		if keySide {
			return OutcomeStillGranted, "the key policy still grants " + action, nil
		}
		return OutcomeRevoked, "", nil
	}
	if !keySide {
		if !foreignAccounts(kp, key.AccountID)[r.Account] {
			if q, qerr := owner.KMS.AccessQuota(ctx, meta.InstanceID); qerr == nil && q.Used >= q.Limit {
				return OutcomeQuotaExceeded, fmt.Sprintf("the key policy does not name account %s and instance %s's access quota is full (%d of %d)",
					r.Account, meta.InstanceID, q.Used, q.Limit), nil
			}
		}
		return OutcomeDeniedByKeyPolicy, "the key policy does not grant " + action + " to " + r.PrincipalARN().String(), nil
	}
	acct, err := c.account(ctx, r.Account, r.AccessRole)
	if err != nil {
		return OutcomeError, "cannot read the recipient's policies", err
	}
	pp, err := c.readPrincipal(ctx, acct, r)
	switch {
	case err != nil:
		return OutcomeError, "cannot read the recipient's policies", err
	case !pp.exists:
		return OutcomeRecipientRoleMissing, r.PrincipalARN().String() + " does not exist", nil
	}
	if policy.Evaluate(req, pp.docs...).Decision != policy.Allowed {
		return OutcomeDeniedByRecipientPolicy, "no RAM policy of " + r.PrincipalARN().String() + " allows " + action + " on the key", nil
	}
	if static {
		return OutcomeVerifiedStatically, "both the key policy and the recipient's RAM policies allow " + action, nil
	}
	return OutcomeNotYetPropagated, "both policies allow " + action + "; waiting for the change to take effect", nil
}

// principalPolicies are a recipient principal's attached policies.
type principalPolicies struct {
	exists bool
	role   alicloud.Role // for roles
	names  []alicloud.Attached
	docs   []*policy.Document // in the order of names
}

// readPrincipal reads whether the recipient's principal exists and the
// documents of its attached policies.
func (c *Client) readPrincipal(ctx context.Context, acct *alicloud.Clients, r Recipient) (principalPolicies, error) {
	var pp principalPolicies
	name := r.roleOrUserName()
	var err error
	if r.kind() == PrincipalUser {
		_, err = acct.RAM.GetUser(ctx, name)
	} else {
		pp.role, err = acct.RAM.GetRole(ctx, name)
	}
	if errors.Is(err, cloudapi.ErrNotFound) {
		return pp, nil
	}
	if err != nil {
		return pp, err
	}
	pp.exists = true
	if r.kind() == PrincipalUser {
		pp.names, err = acct.RAM.ListPoliciesForUser(ctx, name)
	} else {
		pp.names, err = acct.RAM.ListPoliciesForRole(ctx, name)
	}
	if err != nil {
		return pp, err
	}
	for _, a := range pp.names {
		d, err := c.policyDocument(ctx, acct.RAM, a)
		if err != nil {
			return pp, err
		}
		pp.docs = append(pp.docs, d)
	}
	return pp, nil
}

// policyDocument reads an attached policy's default document.
func (c *Client) policyDocument(ctx context.Context, r *alicloud.RAM, a alicloud.Attached) (*policy.Document, error) {
	if a.Type == "System" {
		return c.systemPolicy(ctx, r, a.Name)
	}
	p, err := r.GetPolicy(ctx, a.Name, "Custom")
	if err != nil {
		return nil, err
	}
	d, err := policy.Parse([]byte(p.Document))
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", a.Name, err)
	}
	return d, nil
}
