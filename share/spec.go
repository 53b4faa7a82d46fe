package share

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/policy"
)

// Spec says who may use a key: the key, by ARN, and its recipients. It is
// declarative: applying the same spec twice changes nothing the second time.
// Specs marshal to and from JSON so pipelines can keep them in files:
//
//	{"key": "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7",
//	 "recipients": [
//	   {"account": "2222222222222222"},
//	   {"account": "3333333333333333", "principal": "ecs-disk-role"},
//	   {"account": "4444444444444444", "principal": "role", "name": "app", "actions": ["kms:Decrypt"]}]}
type Spec struct {
	Key        string      `json:"key"`
	Recipients []Recipient `json:"recipients"`
}

// Recipient is an account and the identity in it that gets to use the key.
type Recipient struct {
	// Account is the recipient account's UID.
	Account string `json:"account"`
	// Principal says which identity of the account uses the key; the
	// default is the account's Resource Directory access role (workflow W1).
	Principal PrincipalKind `json:"principal,omitempty"`
	// Name is the role or user name, for PrincipalRole and PrincipalUser.
	Name string `json:"name,omitempty"`
	// Actions are the key actions granted; nil means least privilege,
	// DefaultActions, or for the ECS disk role the five ECS needs
	// (ecsroles.ECSDiskKeyPolicyActions). Wider sets, up to the key-user actions
	// (policy.KeyUserActions), only when named; administrator actions never.
	Actions []string `json:"actions,omitempty"`
	// Trust is the trust policy to give an application role this library
	// creates (PrincipalRole); nil trusts the recipient account itself
	// (acs:ram::<account>:root), so the account decides who assumes it.
	Trust *policy.Document `json:"trust,omitempty"`
	// AccessRole is the role assumed in the recipient account to manage and
	// verify it; "" means Options.AccessRoleName.
	AccessRole string `json:"accessRole,omitempty"`
	// Network is how the recipient's workloads reach the key; nil means
	// the shared gateway over the Internet, without the plan saying what
	// that needs (see NetworkPath).
	Network *Network `json:"network,omitempty"`
}

// PrincipalKind is the kind of identity a recipient uses the key with.
type PrincipalKind string

// The identities a recipient can use a key with.
const (
	// PrincipalRDAccessRole is the ResourceDirectoryAccountAccessRole that
	// Resource Directory creates in every member account (W1). It is never
	// created or changed by this library.
	PrincipalRDAccessRole PrincipalKind = "rd-access-role"
	// PrincipalRole is an application role named by Recipient.Name, created
	// if missing.
	PrincipalRole PrincipalKind = "role"
	// PrincipalECSDiskRole is AliyunECSDiskEncryptDefaultRole, which ECS
	// assumes to create encrypted disks with the shared key (W2); created
	// from ecsroles.DiskEncrypt if missing.
	PrincipalECSDiskRole PrincipalKind = "ecs-disk-role"
	// PrincipalUser is an existing RAM user named by Recipient.Name.
	PrincipalUser PrincipalKind = "user"
)

// DefaultActions are what a recipient gets when its Actions are nil: see
// the key and use it for envelope encryption (W5), nothing more (least
// privilege, W1 step 1).
func DefaultActions() []string {
	return []string{"kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}
}

// kind returns the principal kind with the default filled in.
func (r Recipient) kind() PrincipalKind {
	if r.Principal == "" {
		return PrincipalRDAccessRole
	}
	return r.Principal
}

// roleOrUserName is the display name of the recipient's principal.
func (r Recipient) roleOrUserName() string {
	switch r.kind() {
	case PrincipalRDAccessRole:
		return arn.ResourceDirectoryAccessRoleName
	case PrincipalECSDiskRole:
		return ecsroles.DiskEncryptRoleName
	}
	return r.Name
}

// PrincipalARN is the ARN the key policy names for this recipient.
func (r Recipient) PrincipalARN() arn.ARN {
	if r.kind() == PrincipalUser {
		return arn.RAMUser(r.Account, r.Name)
	}
	return arn.RAMRole(r.Account, r.roleOrUserName())
}

// actions returns the granted action set in documented order, or why
// Actions cannot be granted (nil is the default set, never "everything").
func (r Recipient) actions() ([]string, error) {
	switch {
	case len(r.Actions) > 0:
		// Validate refuses an empty list on input; here it means the
		// default, as nil does, because both marshal alike and a sealed
		// plan must mean what its JSON says.
		return policy.CrossAccountActionSet(r.Actions)
	case r.kind() == PrincipalECSDiskRole:
		return policy.CrossAccountActionSet(ecsroles.ECSDiskKeyPolicyActions())
	}
	return policy.CrossAccountActionSet(DefaultActions())
}

// key identifies a recipient within a spec.
func (r Recipient) key() string {
	return r.PrincipalARN().Canonical().String()
}

func (r Recipient) String() string {
	return fmt.Sprintf("%s %s", r.kind(), r.PrincipalARN())
}

// SpecError lists everything wrong with a spec. It is returned before any
// API call is made, and matches ErrInvalidSpec.
type SpecError struct {
	Problems []SpecProblem
}

// SpecProblem is one thing wrong with a spec.
type SpecProblem struct {
	Field  string // "key", "recipients[2].account", ...
	Value  string
	Reason string
	Err    error // the underlying *arn.Error or *policy.GrantError, if any
}

func (p SpecProblem) String() string {
	s := p.Field
	if p.Value != "" {
		s += " " + fmt.Sprintf("%q", p.Value)
	}
	return s + ": " + p.Reason
}

func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString("share: invalid spec: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Is matches ErrInvalidSpec.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// Unwrap returns the underlying errors, so errors.Is(err, arn.ErrMasked)
// and the like work.
func (e *SpecError) Unwrap() []error {
	var out []error
	for _, p := range e.Problems {
		if p.Err != nil {
			out = append(out, p.Err)
		}
	}
	return out
}

// Validate checks the spec without calling any API: the key is a concrete
// KMS key ARN (not masked, no placeholders) in region, if region is not "";
// every recipient is another account with a valid principal; no
// administrator actions are granted; no recipient is listed twice. It
// returns nil or a *SpecError listing every problem.
//
// Plan, PlanRevoke, Verify and Inventory validate the spec they are given
// with it, once, before any API call; ParseSpec returns only specs it
// accepts (with its region). Apply does not validate again: it takes only
// sealed plans, whose spec Plan or PlanRevoke validated.
func (s *Spec) Validate(region string) error {
	var ps []SpecProblem
	add := func(field, value, reason string, err error) {
		ps = append(ps, SpecProblem{Field: field, Value: value, Reason: reason, Err: err})
	}
	key, kerr := parseKeyARN(s.Key, region)
	if kerr != nil {
		add("key", s.Key, kerr.reason, kerr.err)
	}
	if len(s.Recipients) == 0 {
		add("recipients", "", "no recipients", nil)
	}
	seen := map[string]int{}
	for i, r := range s.Recipients {
		f := fmt.Sprintf("recipients[%d]", i)
		if err := arn.ValidateAccountID(r.Account); err != nil {
			add(f+".account", r.Account, reasonOf(err), err)
			continue
		}
		if key.AccountID != "" && r.Account == key.AccountID {
			add(f+".account", r.Account, "is the key's own account; sharing is for other accounts (use policy.AddKeyUsers for the owner's own identities)", nil)
			continue
		}
		if !r.validate(f, add) {
			continue
		}
		if j, dup := seen[r.key()]; dup {
			add(f, r.PrincipalARN().String(), fmt.Sprintf("listed twice (also recipients[%d])", j), nil)
			continue
		}
		seen[r.key()] = i
	}
	if len(ps) > 0 {
		return &SpecError{Problems: ps}
	}
	return nil
}

// validate checks everything about r but its account (Spec.Validate checks
// that, a manifest's selector picks it), reporting under field f. It
// returns false if the principal itself is wrong, so that r cannot be
// compared with the other recipients.
func (r Recipient) validate(f string, add func(field, value, reason string, err error)) bool {
	switch r.kind() {
	case PrincipalRDAccessRole, PrincipalECSDiskRole:
		if r.Name != "" {
			add(f+".name", r.Name, fmt.Sprintf("a %s has a fixed name (%s); leave name empty", r.kind(), r.roleOrUserName()), nil)
			return false
		}
	case PrincipalRole:
		if err := arn.ValidateRoleName(r.Name); err != nil {
			add(f+".name", r.Name, reasonOf(err), err)
			return false
		}
	case PrincipalUser:
		if err := arn.ValidateUserName(r.Name); err != nil {
			add(f+".name", r.Name, "want a RAM user name (1 to 64 letters, digits, '.', '-', '_', '@')", err)
			return false
		}
	default:
		add(f+".principal", string(r.Principal), `unknown principal kind; want "rd-access-role", "role", "ecs-disk-role" or "user"`, nil)
		return false
	}
	if r.Trust != nil {
		if r.kind() != PrincipalRole {
			add(f+".trust", "", "a trust policy can be given only for an application role (principal \"role\")", nil)
		} else if err := r.Trust.Validate(policy.Trust); err != nil {
			add(f+".trust", "", err.Error(), err)
		} else {
			for _, finding := range policy.Lint(r.Trust, policy.Trust, policy.LintOptions{Owner: r.Account}) {
				if finding.Severity == policy.SeverityError {
					add(f+".trust", finding.Path, finding.Message, nil)
				}
			}
		}
	}
	if r.Actions != nil {
		if _, err := policy.CrossAccountActionSet(r.Actions); err != nil {
			add(f+".actions", strings.Join(r.Actions, ","), reasonOf(err), err)
		}
	}
	if r.AccessRole != "" {
		if err := arn.ValidateRoleName(r.AccessRole); err != nil {
			add(f+".accessRole", r.AccessRole, reasonOf(err), err)
		}
	}
	if field, value, reason := validateNetwork(r.Network); reason != "" {
		add(f+"."+field, value, reason, nil)
	}
	return true
}

// keyARNError is a key reference that is not a usable key ARN.
type keyARNError struct {
	reason string
	err    error
}

func (e *keyARNError) Error() string { return e.reason }
func (e *keyARNError) Unwrap() error { return e.err }

// parseKeyARN parses the ARN of a key that other accounts are to use: a
// concrete KMS key ARN, in region if region is not "".
func parseKeyARN(s, region string) (arn.ARN, *keyARNError) {
	key, err := arn.Parse(s)
	switch {
	case s == "":
		return key, &keyARNError{reason: "missing: the key's ARN, acs:kms:<region>:<owner-uid>:key/<key-id>"}
	case err != nil && !strings.Contains(s, ":") && strings.HasPrefix(s, "key-"):
		return key, &keyARNError{reason: "a bare key ID; name the key by its ARN, acs:kms:<region>:<owner-uid>:key/" + s +
			" (other accounts can only reach a key by ARN)", err: err}
	case err != nil:
		return key, &keyARNError{reason: reasonOf(err), err: err}
	case key.Service != "kms" || key.ResourceType() != "key" || key.ResourceName() == "":
		return key, &keyARNError{reason: "not a key ARN; want acs:kms:<region>:<owner-uid>:key/<key-id> (other accounts must name a key by its ARN)"}
	case region != "" && key.Region != region:
		return key, &keyARNError{reason: fmt.Sprintf("the key is in region %s but the client is configured for %s; "+
			"a client works in one region", key.Region, region)}
	}
	return key, nil
}

// reasonOf is the human part of a validation error, without the package
// prefixes that the spec error's own framing makes redundant.
func reasonOf(err error) string {
	var ae *arn.Error
	if errors.As(err, &ae) {
		return ae.Reason
	}
	var ge *policy.GrantError
	if errors.As(err, &ge) {
		return ge.Reason
	}
	return err.Error()
}

// KeyARN returns the spec's key ARN. It is meaningful for a spec that
// ParseSpec returned, that Validate accepted or that Plan accepted; for any
// other it may be the zero ARN.
func (s *Spec) KeyARN() arn.ARN {
	a, _ := arn.Parse(s.Key)
	return a
}

// clone returns a copy of s that shares no slices with it, so that a plan
// and the spec it was made from can change independently.
func (s *Spec) clone() Spec {
	out := Spec{Key: s.Key, Recipients: slices.Clone(s.Recipients)}
	for i := range out.Recipients {
		out.Recipients[i].Actions = slices.Clone(out.Recipients[i].Actions)
		if t := out.Recipients[i].Trust; t != nil {
			out.Recipients[i].Trust = t.Clone()
		}
		if n := out.Recipients[i].Network; n != nil {
			cp := *n
			out.Recipients[i].Network = &cp
		}
	}
	return out
}

// principalARNs returns the recipients' principals.
func (s *Spec) principalARNs() []arn.ARN {
	out := make([]arn.ARN, len(s.Recipients))
	for i, r := range s.Recipients {
		out[i] = r.PrincipalARN()
	}
	return out
}
