package share

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// keyPolicyError is a key policy that could not be read (GetKeyPolicy) or,
// read, could not be parsed.
type keyPolicyError struct {
	parse bool
	err   error
}

func (e *keyPolicyError) Error() string {
	if e.parse {
		return "the key policy cannot be parsed: " + e.err.Error()
	}
	return e.err.Error()
}

func (e *keyPolicyError) Unwrap() error { return e.err }

// readPolicy reads a key's policy as its owner and parses it: the one place
// a key policy is read. Its failures are *keyPolicyError.
func readPolicy(ctx context.Context, owner *alicloud.KMS, key string) (*policy.Document, error) {
	raw, err := owner.GetKeyPolicy(ctx, key)
	if err != nil {
		return nil, &keyPolicyError{err: err}
	}
	d, err := policy.Parse([]byte(raw))
	if err != nil {
		return nil, &keyPolicyError{parse: true, err: err}
	}
	return d, nil
}

// readKeyState reads a key as its owner: DescribeKey, then, for a key in a
// KMS instance (the only keys with a policy), its policy (readPolicy). The
// policy is nil outside an instance; a failure of the policy's read is a
// *keyPolicyError, DescribeKey's is not.
func readKeyState(ctx context.Context, owner *alicloud.KMS, key string) (alicloud.KeyMetadata, *policy.Document, error) {
	meta, err := owner.DescribeKey(ctx, key)
	if err != nil || meta.InstanceID == "" {
		return meta, nil, err
	}
	d, err := readPolicy(ctx, owner, key)
	return meta, d, err
}

// readKey fills in the key's metadata and current policy, or the problems
// that keep it from being shared.
func (c *Client) readKey(ctx context.Context, owner *alicloud.Clients, key arn.ARN, p *Plan) error {
	p.Key = KeyInfo{ARN: key.String(), ID: key.ResourceName(), Owner: key.AccountID, Region: key.Region}
	meta, cur, err := readKeyState(ctx, owner.KMS, key.String())
	var kpe *keyPolicyError
	switch {
	case errors.As(err, &kpe): // after the key's own problems
	case errors.Is(err, cloudapi.ErrNotFound):
		p.Problems = append(p.Problems, Problem{Code: ProblemKeyNotFound, Account: key.AccountID,
			Message: "the key does not exist in its owner's account", Err: err})
		return nil
	case err != nil:
		return fmt.Errorf("share: read key %s: %w", key, err)
	}
	p.Key.State, p.Key.InstanceID, p.Key.Usage, p.Key.Spec, p.Key.Origin = meta.State, meta.InstanceID, meta.Usage, meta.Spec, meta.Origin
	if meta.State != "Enabled" {
		p.Problems = append(p.Problems, Problem{Code: ProblemKeyNotEnabled, Account: key.AccountID,
			Message: fmt.Sprintf("the key is %s; only an Enabled key can be shared", meta.State)})
	}
	if meta.Usage != "" && meta.Usage != "ENCRYPT/DECRYPT" {
		p.Problems = append(p.Problems, Problem{Code: ProblemKeyUsage, Account: key.AccountID,
			Message: fmt.Sprintf("the key's usage is %s; sharing for encryption needs ENCRYPT/DECRYPT", meta.Usage)})
	}
	switch {
	case meta.InstanceID == "":
		p.Problems = append(p.Problems, Problem{Code: ProblemKeyNotInInstance, Account: key.AccountID,
			Message: "the key is not in a KMS instance, so it has no key policy; only keys in KMS instances can be shared"})
	case kpe != nil && kpe.parse:
		p.Problems = append(p.Problems, Problem{Code: ProblemKeyPolicy, Account: key.AccountID,
			Message: "the current key policy cannot be parsed, so it cannot be edited safely", Err: kpe.err})
	case kpe != nil:
		return fmt.Errorf("share: read the key policy of %s: %w", key, kpe.err)
	default:
		p.KeyPolicy.Current = cur
	}
	return nil
}

// readKeyPolicy reads the key's metadata and policy as the owner, or says
// (in a check) why it could not. A key outside an instance has an empty
// policy.
func (c *Client) readKeyPolicy(ctx context.Context, key arn.ARN) (*policy.Document, alicloud.KeyMetadata, check) {
	owner, err := c.account(ctx, key.AccountID, "")
	if err != nil {
		return nil, alicloud.KeyMetadata{}, check{outcome: OutcomeError, detail: "cannot read the key", err: err}
	}
	meta, kp, err := readKeyState(ctx, owner.KMS, key.String())
	var kpe *keyPolicyError
	switch {
	case errors.As(err, &kpe) && kpe.parse:
		return nil, meta, check{outcome: OutcomeError, detail: "cannot parse the key policy", err: kpe.err}
	case errors.As(err, &kpe):
		return nil, meta, check{outcome: OutcomeError, detail: "cannot read the key policy", err: kpe.err}
	case err != nil:
		return nil, meta, check{outcome: OutcomeError, detail: "cannot read the key", err: err}
	case meta.InstanceID == "":
		return &policy.Document{}, meta, check{}
	}
	return kp, meta, check{}
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

// principalExists asks RAM, in the recipient's account, whether its role
// or user exists.
func (c *Client) principalExists(ctx context.Context, r Recipient) (bool, error) {
	acct, err := c.account(ctx, r.Account, r.AccessRole)
	if err != nil {
		return false, err
	}
	name := r.roleOrUserName()
	if r.kind() == PrincipalUser {
		_, err = acct.RAM.GetUser(ctx, name)
	} else {
		_, err = acct.RAM.GetRole(ctx, name)
	}
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// missingPrincipal returns the first recipient principal that RAM does not
// know (""), or the error of asking.
func (c *Client) missingPrincipal(ctx context.Context, recipients []Recipient) (string, error) {
	for _, r := range recipients {
		exists, err := c.principalExists(ctx, r)
		if err != nil {
			return "", err
		}
		if !exists {
			return r.PrincipalARN().String(), nil
		}
	}
	return "", nil
}
