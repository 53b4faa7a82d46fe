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
//
// Only OK proves that the share is in effect: the recipient made calls with
// the key. VerifiedStatically means both policies, as they read, allow every
// granted action, but no call could be made as the recipient (the ECS disk
// role only ECS can assume, a RAM user, or granted actions without a
// harmless call such as kms:TagResource alone), so the change may not have
// propagated yet: the first use may still be refused for a while.
const (
	OutcomeOK                      Outcome = "ok"                         // the recipient used the key (and the policies allow the granted actions no call exercises)
	OutcomeVerifiedStatically      Outcome = "verified-statically"        // both policies allow it, but no call was made as the recipient: not proof of propagation
	OutcomeRevoked                 Outcome = "revoked"                    // the recipient is refused, as a revoke intends
	OutcomeNotYetPropagated        Outcome = "not-yet-propagated"         // both policies say yes (or no, after a revoke) but the cloud does not agree yet
	OutcomeDeniedByKeyPolicy       Outcome = "denied-by-key-policy"       // the key policy does not grant the action
	OutcomeDeniedByRecipientPolicy Outcome = "denied-by-recipient-policy" // the recipient's own RAM policies do not allow the action
	OutcomeStillGranted            Outcome = "still-granted"              // after a revoke, the key policy still grants the recipient (Detail names the statements)
	OutcomeKeyDisabled             Outcome = "key-disabled"               // the key is not Enabled
	OutcomeKeyNotInInstance        Outcome = "key-not-in-instance"        // the key has no key policy
	OutcomeQuotaExceeded           Outcome = "quota-exceeded"             // the key policy lacks the recipient and the instance's quota is full
	OutcomeRecipientRoleMissing    Outcome = "recipient-role-missing"     // the recipient's role (or user) does not exist
	OutcomeError                   Outcome = "error"                      // the check itself failed; see Error
	// OutcomeNetworkRefused is declared in network.go.
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
	case OutcomeNetworkRefused:
		return ErrNetworkRefused
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
	done, action, opErr := c.exercise(ctx, sess, crypto, key, acts, &ck.checked)
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
	usable, refusal, err := c.tryAll(ctx, sess, crypto, key, &checked)
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

// explainRevoked checks every key user action for r against the key policy
// as it reads now: still granted (naming the statements), or revoked.
func (c *Client) explainRevoked(ctx context.Context, key arn.ARN, r Recipient) check {
	kp, meta, ck := c.readKeyPolicy(ctx, key)
	if kp == nil {
		return ck
	}
	if meta.InstanceID == "" {
		return check{outcome: OutcomeKeyNotInInstance}
	}
	if kept := keptGrants(kp, key, r); len(kept) > 0 {
		parts := make([]string, len(kept))
		for i, k := range kept {
			parts[i] = k.String()
		}
		return check{outcome: OutcomeStillGranted, detail: "the key policy still grants the recipient: " + strings.Join(parts, "; ")}
	}
	return check{outcome: OutcomeRevoked}
}

// readKeyPolicy reads the key's metadata and policy as the owner, or says
// (in a check) why it could not.
func (c *Client) readKeyPolicy(ctx context.Context, key arn.ARN) (*policy.Document, alicloud.KeyMetadata, check) {
	owner, err := c.account(ctx, key.AccountID, "")
	if err != nil {
		return nil, alicloud.KeyMetadata{}, check{outcome: OutcomeError, detail: "cannot read the key", err: err}
	}
	meta, err := owner.KMS.DescribeKey(ctx, key.String())
	if err != nil {
		return nil, meta, check{outcome: OutcomeError, detail: "cannot read the key", err: err}
	}
	if meta.InstanceID == "" {
		return &policy.Document{}, meta, check{}
	}
	raw, err := owner.KMS.GetKeyPolicy(ctx, key.String())
	if err != nil {
		return nil, meta, check{outcome: OutcomeError, detail: "cannot read the key policy", err: err}
	}
	kp, err := policy.Parse([]byte(raw))
	if err != nil {
		return nil, meta, check{outcome: OutcomeError, detail: "cannot parse the key policy", err: err}
	}
	return kp, meta, check{}
}

// KeptGrant is a statement of a key policy that allows a recipient actions
// after a revoke: one this library does not own (a grant made by hand, or
// by another tool), which a revoke leaves in place.
type KeptGrant struct {
	Sid       string   `json:"sid,omitempty"`
	Statement int      `json:"statement"` // index in the key policy's statements
	Actions   []string `json:"actions"`
}

func (k KeptGrant) String() string {
	name := fmt.Sprintf("statement %q", k.Sid)
	if k.Sid == "" {
		name = fmt.Sprintf("statement #%d (no Sid)", k.Statement)
	}
	return name + " allows " + strings.Join(k.Actions, ", ")
}

// keptGrants lists the statements of kp that allow r any key user action.
func keptGrants(kp *policy.Document, key arn.ARN, r Recipient) []KeptGrant {
	req := policy.Request{Caller: principalCaller(r), Resource: key.String(), ResourceAccount: key.AccountID}
	var out []KeptGrant
	for _, a := range policy.CrossAccountUserActions() {
		req.Action = a
		// Only what KMS honours still grants (policy.EffectiveKeyPolicy).
		if policy.Evaluate(req, policy.EffectiveKeyPolicy(kp, key.AccountID)).Decision != policy.Allowed {
			continue
		}
		for i, st := range kp.Statement {
			one := policy.EffectiveKeyPolicy(&policy.Document{Version: kp.Version, Statement: []policy.Statement{st}}, key.AccountID)
			if st.Effect != policy.Allow || policy.Evaluate(req, one).Decision != policy.Allowed {
				continue
			}
			j := slices.IndexFunc(out, func(k KeptGrant) bool { return k.Statement == i })
			if j < 0 {
				out = append(out, KeptGrant{Sid: st.Sid, Statement: i})
				j = len(out) - 1
			}
			out[j].Actions = append(out[j].Actions, a)
		}
	}
	slices.SortFunc(out, func(x, y KeptGrant) int { return x.Statement - y.Statement })
	return out
}

// recipientSession returns a session acting as the recipient's principal.
// The RD access role is assumed directly; an application role through the
// account's access role, whose own account the role trusts by default.
func (c *Client) recipientSessionOf(ctx context.Context, r Recipient) (*session, error) {
	role := r.PrincipalARN()
	if r.kind() == PrincipalRDAccessRole {
		// It trusts the management account, whatever role manages the
		// member: assume it directly with the base credentials.
		return c.assume(ctx, c.base, role)
	}
	from, err := c.account(ctx, r.Account, r.AccessRole)
	if err != nil {
		return nil, err
	}
	return c.assume(ctx, from, role)
}

// verifyContext is the encryption context of Verify's data keys.
func verifyContext() map[string]string { return map[string]string{"purpose": "kmsshare-verify"} }

// exercise makes, as the recipient, a harmless call for each granted action
// that has one: DescribeKey by ARN, GenerateDataKey, Decrypt of that data
// key (or of one the owner makes, if the recipient may only decrypt), and
// Encrypt of a few bytes (the blob is thrown away). It stops at the first
// failure and returns the actions exercised, and the one that failed.
func (c *Client) exercise(ctx context.Context, sess, crypto *alicloud.Clients, key arn.ARN, acts []string, checked *[]string) (done []string, failed string, err error) {
	has := func(a string) bool { return slices.Contains(acts, a) }
	if has("kms:DescribeKey") {
		*checked = append(*checked, "DescribeKey")
		if _, err := sess.KMS.DescribeKey(ctx, key.String()); err != nil {
			return done, "kms:DescribeKey", err
		}
		done = append(done, "kms:DescribeKey")
	}
	ec := verifyContext()
	var dk alicloud.DataKey
	if has("kms:GenerateDataKey") {
		*checked = append(*checked, "GenerateDataKey")
		if dk, err = crypto.KMS.GenerateDataKey(ctx, key.String(), ec); err != nil {
			return done, "kms:GenerateDataKey", err
		}
		defer clear(dk.Plaintext)
		done = append(done, "kms:GenerateDataKey")
	}
	if has("kms:Decrypt") {
		if dk.CiphertextBlob == "" {
			// The recipient may only decrypt: let the owner make a data key.
			owner, err := c.account(ctx, key.AccountID, "")
			if err != nil {
				return done, "kms:Decrypt", err
			}
			if dk, err = owner.KMS.GenerateDataKey(ctx, key.String(), ec); err != nil {
				return done, "kms:Decrypt", err
			}
			defer clear(dk.Plaintext)
		}
		*checked = append(*checked, "Decrypt")
		_, pt, err := crypto.KMS.Decrypt(ctx, dk.CiphertextBlob, ec)
		defer clear(pt)
		if err != nil {
			return done, "kms:Decrypt", err
		}
		if !bytes.Equal(pt, dk.Plaintext) {
			return done, "kms:Decrypt", fmt.Errorf("the data key from Decrypt differs from the one GenerateDataKey returned")
		}
		done = append(done, "kms:Decrypt")
	}
	if has("kms:Encrypt") {
		*checked = append(*checked, "Encrypt")
		if _, _, err := crypto.KMS.Encrypt(ctx, key.String(), verifyPlaintext, ec); err != nil {
			return done, "kms:Encrypt", err
		}
		done = append(done, "kms:Encrypt")
	}
	return done, "", nil
}

// verifyPlaintext is what Verify encrypts with kms:Encrypt: nothing secret.
var verifyPlaintext = []byte("kmsshare verify")

// tryAll makes every harmless call as the recipient, whatever was granted,
// and returns the actions that still work and the first refusal. A failure
// that is not a refusal (throttling, bad credentials) is returned as err.
func (c *Client) tryAll(ctx context.Context, sess, crypto *alicloud.Clients, key arn.ARN, checked *[]string) (usable []string, refusal, err error) {
	refused := func(err error) bool {
		if !errors.Is(err, cloudapi.ErrAccessDenied) && !errors.Is(err, cloudapi.ErrNotFound) && !errors.Is(err, cloudapi.ErrKeyState) {
			return false
		}
		if refusal == nil {
			refusal = err
		}
		return true
	}
	*checked = append(*checked, "DescribeKey")
	switch _, err := sess.KMS.DescribeKey(ctx, key.String()); {
	case err == nil:
		usable = append(usable, "kms:DescribeKey")
	case !refused(err):
		return usable, refusal, err
	}
	ec := verifyContext()
	*checked = append(*checked, "GenerateDataKey")
	dk, err := crypto.KMS.GenerateDataKey(ctx, key.String(), ec)
	switch {
	case err == nil:
		usable = append(usable, "kms:GenerateDataKey")
	case !refused(err):
		return usable, refusal, err
	default:
		// Refused: decrypt a data key the owner makes instead.
		owner, oerr := c.account(ctx, key.AccountID, "")
		if oerr != nil {
			return usable, refusal, oerr
		}
		if dk, oerr = owner.KMS.GenerateDataKey(ctx, key.String(), ec); oerr != nil {
			// The owner cannot make one either (say, the key is disabled):
			// nobody can decrypt anything new, so there is nothing to try.
			return usable, refusal, nil
		}
	}
	defer clear(dk.Plaintext)
	*checked = append(*checked, "Decrypt")
	_, pt, err := crypto.KMS.Decrypt(ctx, dk.CiphertextBlob, ec)
	clear(pt)
	switch {
	case err == nil:
		usable = append(usable, "kms:Decrypt")
	case !refused(err):
		return usable, refusal, err
	}
	*checked = append(*checked, "Encrypt")
	switch _, _, err := crypto.KMS.Encrypt(ctx, key.String(), verifyPlaintext, ec); {
	case err == nil:
		usable = append(usable, "kms:Encrypt")
	case !refused(err):
		return usable, refusal, err
	}
	return usable, refusal, nil
}

// firstAction is the action a one-line explanation names for a set.
func firstAction(acts []string) string {
	for _, pref := range []string{"kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"} {
		if slices.Contains(acts, pref) {
			return pref
		}
	}
	if len(acts) == 0 {
		return ""
	}
	return acts[0]
}

// explain decides, from both policies as they read now, why the cloud
// refused actions (or, with static, whether it should allow them all).
func (c *Client) explain(ctx context.Context, key arn.ARN, r Recipient, actions []string, static bool) (Outcome, string, error) {
	kp, meta, ck := c.readKeyPolicy(ctx, key)
	switch {
	case kp == nil:
		return ck.outcome, ck.detail, ck.err
	case meta.State != "Enabled":
		return OutcomeKeyDisabled, "the key is " + meta.State, nil
	case meta.InstanceID == "":
		return OutcomeKeyNotInInstance, "", nil
	}
	// What KMS honours of the key policy: a foreign :* or an action off the
	// documented lists reads as a grant but grants nothing.
	if no := deniedActions(r, key, actions, policy.EffectiveKeyPolicy(kp, key.AccountID)); len(no) > 0 {
		if !slices.Contains(policy.ForeignAccounts(kp, key.AccountID), r.Account) {
			owner, err := c.account(ctx, key.AccountID, "")
			if err != nil {
				return OutcomeError, "cannot read the key's instance", err
			}
			if q, qerr := owner.KMS.AccessQuota(ctx, meta.InstanceID); qerr == nil && q.Used >= q.Limit {
				return OutcomeQuotaExceeded, fmt.Sprintf("the key policy does not name account %s and instance %s's access quota is full (%d of %d)",
					r.Account, meta.InstanceID, q.Used, q.Limit), nil
			}
		}
		return OutcomeDeniedByKeyPolicy, "the key policy does not grant " + strings.Join(no, ", ") + " to " + r.PrincipalARN().String(), nil
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
	if no := deniedActions(r, key, actions, pp.docs...); len(no) > 0 {
		return OutcomeDeniedByRecipientPolicy, "no RAM policy of " + r.PrincipalARN().String() + " allows " + strings.Join(no, ", ") + " on the key", nil
	}
	if static {
		return OutcomeVerifiedStatically, "both the key policy and the recipient's RAM policies allow " + firstAction(actions), nil
	}
	return OutcomeNotYetPropagated, "both policies allow " + strings.Join(actions, ", ") + "; waiting for the change to take effect", nil
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
