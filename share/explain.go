package share

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

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

// networkFix says, for people, how to open the recipient's path.
func networkFix(r Recipient, t NetworkTarget, err error) string {
	switch t.Path {
	case NetworkDedicated:
		return fmt.Sprintf("%s cannot reach the dedicated gateway of %s from %s: bind the VPC to the instance "+
			"(apply this spec; the VPC's vSwitch %s must be shared with the key owner through Resource Sharing first) "+
			"or use the shared gateway", r.PrincipalARN(), t.InstanceID, t.VPC, r.Network.VSwitch)
	case NetworkVPC:
		return fmt.Sprintf("%s cannot reach the key from its VPC: %v", r.PrincipalARN(), err)
	}
	return fmt.Sprintf("KMS refuses calls on keys of instance %s over the Internet from account %s: the key owner must turn on "+
		"Internet access for that account in the KMS console (Instances, %s, Internet access; there is no API for it), "+
		"or the recipient's workloads must call from a VPC", t.InstanceID, r.Account, t.InstanceID)
}
