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
