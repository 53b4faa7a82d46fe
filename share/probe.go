package share

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// sessionARN is the identity a role's sessions have, for local evaluation.
func sessionARN(account, role string) arn.ARN {
	return arn.RoleSession(account, role, "kmsshare")
}

// principalCaller is the recipient's principal as a policy.Caller.
func principalCaller(r Recipient) policy.Caller {
	if r.kind() == PrincipalUser {
		return policy.Caller{Account: r.Account, ARN: arn.RAMUser(r.Account, r.Name)}
	}
	return policy.Caller{Account: r.Account, ARN: sessionARN(r.Account, r.roleOrUserName())}
}

// deniedActions returns the actions that docs do not allow r's principal on
// key, in the order given.
func deniedActions(r Recipient, key arn.ARN, actions []string, docs ...*policy.Document) []string {
	req := policy.Request{Caller: principalCaller(r), Resource: key.String(), ResourceAccount: key.AccountID}
	var out []string
	for _, a := range actions {
		req.Action = a
		if policy.Evaluate(req, docs...).Decision != policy.Allowed {
			out = append(out, a)
		}
	}
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

// verifyPlaintext is what Verify encrypts with kms:Encrypt: nothing secret.
var verifyPlaintext = []byte("kmsshare verify")

// probeActions are the actions probe has a harmless call for, in the order
// it makes them.
var probeActions = []string{"kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"}

// probed is what probe found.
type probed struct {
	usable  []string // the actions whose call succeeded
	refusal error    // the first refusal, if refusals were tolerated
	failed  string   // the action whose failure ended the probe
	err     error    // that failure
}

// probe makes, as the recipient, the harmless call of each action of acts
// that has one (probeActions): DescribeKey by ARN, GenerateDataKey,
// Decrypt of that data key (or, without one, of a data key the owner
// makes), and Encrypt of a few bytes (the blob is thrown away). Each call
// is added to *checked as it is made.
//
// It stops at the first failure (Verify), unless tolerate: then a refusal
// (access denied, not found, key state) is kept and the next call made
// (VerifyRevoked), and if the owner cannot make a data key either, nobody
// can decrypt anything new, so the probe ends there without error.
func (c *Client) probe(ctx context.Context, sess, crypto *alicloud.Clients, key arn.ARN, acts []string, tolerate bool, checked *[]string) (res probed) {
	// failed reports whether the call of action failed in a way that ends
	// the probe, which it records.
	failed := func(action string, err error) bool {
		if err == nil {
			res.usable = append(res.usable, action)
			return false
		}
		if tolerate && (errors.Is(err, cloudapi.ErrAccessDenied) || errors.Is(err, cloudapi.ErrNotFound) || errors.Is(err, cloudapi.ErrKeyState)) {
			if res.refusal == nil {
				res.refusal = err
			}
			return false
		}
		res.failed, res.err = action, err
		return true
	}
	has := func(a string) bool { return slices.Contains(acts, a) }
	if has("kms:DescribeKey") {
		*checked = append(*checked, "DescribeKey")
		if _, err := sess.KMS.DescribeKey(ctx, key.String()); failed("kms:DescribeKey", err) {
			return res
		}
	}
	ec := verifyContext()
	var dk alicloud.DataKey
	if has("kms:GenerateDataKey") {
		*checked = append(*checked, "GenerateDataKey")
		var err error
		dk, err = crypto.KMS.GenerateDataKey(ctx, key.String(), ec)
		defer clear(dk.Plaintext)
		if failed("kms:GenerateDataKey", err) {
			return res
		}
	}
	if has("kms:Decrypt") {
		if dk.CiphertextBlob == "" {
			// Nothing to decrypt yet (not granted, or refused): let the
			// owner make a data key.
			owner, err := c.account(ctx, key.AccountID, "")
			if err != nil {
				res.failed, res.err = "kms:Decrypt", err
				return res
			}
			if dk, err = owner.KMS.GenerateDataKey(ctx, key.String(), ec); err != nil {
				if !tolerate {
					res.failed, res.err = "kms:Decrypt", err
				}
				return res
			}
			defer clear(dk.Plaintext)
		}
		*checked = append(*checked, "Decrypt")
		_, pt, err := crypto.KMS.Decrypt(ctx, dk.CiphertextBlob, ec)
		defer clear(pt)
		if err == nil && !bytes.Equal(pt, dk.Plaintext) {
			err = fmt.Errorf("the data key from Decrypt differs from the one GenerateDataKey returned")
		}
		if failed("kms:Decrypt", err) {
			return res
		}
	}
	if has("kms:Encrypt") {
		*checked = append(*checked, "Encrypt")
		if _, _, err := crypto.KMS.Encrypt(ctx, key.String(), verifyPlaintext, ec); failed("kms:Encrypt", err) {
			return res
		}
	}
	return res
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

// probeNetwork makes one cryptographic call over the recipient's path and
// returns its error if the path refuses it (ErrNetwork); any other answer,
// a permission refusal included, says the path is open.
func probeNetwork(ctx context.Context, crypto *alicloud.Clients, key arn.ARN) error {
	dk, err := crypto.KMS.GenerateDataKey(ctx, key.String(), verifyContext())
	clear(dk.Plaintext)
	if errors.Is(err, cloudapi.ErrNetwork) {
		return err
	}
	return nil
}
