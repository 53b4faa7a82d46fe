package share

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/policy"
)

// Plan is what Apply will change, read from the current state of both
// sides. It prints for people (String) and marshals to JSON for programs.
// It is sealed when Plan or PlanRevoke makes it, and Apply takes it only
// unchanged: a plan edited afterwards, built by hand or decoded from JSON
// is refused (see Apply).
type Plan struct {
	Operation  Operation        `json:"operation"`
	Spec       Spec             `json:"spec"`
	Key        KeyInfo          `json:"key"`
	KeyPolicy  KeyPolicyPlan    `json:"keyPolicy"`
	Recipients []RecipientPlan  `json:"recipients"`
	Quota      *QuotaInfo       `json:"quota,omitempty"`
	Network    *NetworkPlan     `json:"network,omitempty"`  // what the recipients' network paths need
	Findings   []policy.Finding `json:"findings,omitempty"` // lint findings on the new key policy
	Problems   []Problem        `json:"problems,omitempty"` // preflight failures: Apply refuses the plan
	// Warnings are checks that could not be made; Apply goes ahead, and
	// the cloud decides.
	Warnings []Problem `json:"warnings,omitempty"`

	seal seal // see seal.go: Apply takes the plan only as Plan or PlanRevoke made it
}

// KeyInfo is what the plan found out about the key.
type KeyInfo struct {
	ARN        string `json:"arn"`
	ID         string `json:"id"`
	Owner      string `json:"owner"`
	Region     string `json:"region"`
	State      string `json:"state,omitempty"`
	InstanceID string `json:"instanceId,omitempty"`
	Usage      string `json:"usage,omitempty"`
	Spec       string `json:"spec,omitempty"`
	Origin     string `json:"origin,omitempty"`
}

// RecipientPlan is the recipient side for one recipient.
type RecipientPlan struct {
	Recipient Recipient `json:"recipient"`
	Principal string    `json:"principal"`
	// Exists says whether the recipient's role or user exists now.
	Exists bool `json:"exists"`
	// MissingActions are the granted actions the recipient's own RAM
	// policies do not yet allow on the key.
	MissingActions []string  `json:"missingActions,omitempty"`
	Steps          []Step    `json:"steps,omitempty"`
	Problems       []Problem `json:"problems,omitempty"`
	// Notes say what the plan leaves in place on purpose, e.g. a role a
	// revoke does not delete, and why.
	Notes []string `json:"notes,omitempty"`
	// Kept, in a revoke, are the key policy statements this library does
	// not own that will still allow the principal actions after the revoke:
	// they must be removed by hand.
	Kept []KeptGrant `json:"kept,omitempty"`
}

// allProblems returns the plan's problems and its recipients' problems.
func (p *Plan) allProblems() []Problem {
	out := slices.Clone(p.Problems)
	for _, r := range p.Recipients {
		out = append(out, r.Problems...)
	}
	return out
}

// Err returns a *PreflightError if the plan has problems, else nil.
func (p *Plan) Err() error { return preflightError(p.allProblems()) }

// Changes reports whether applying the plan changes anything.
func (p *Plan) Changes() bool {
	if p.KeyPolicy.NeedsWrite() || p.Network != nil && len(p.Network.Bind) > 0 {
		return true
	}
	for _, r := range p.Recipients {
		if len(r.Steps) > 0 {
			return true
		}
	}
	return false
}

// Plan reads the key and every recipient and returns what Apply would change
// to share the key as spec says. The spec is validated first: bad input is a
// *SpecError before any API call. Conditions in the cloud that keep the
// share from working (a disabled key, a key outside a KMS instance, a
// missing recipient role, too little quota) are reported as the plan's
// Problems, and Plan.Err returns them; Plan's own error is for failures to
// read. The plan is sealed: Apply takes it only unchanged.
func (c *Client) Plan(ctx context.Context, spec *Spec) (*Plan, error) {
	if err := spec.Validate(c.Region()); err != nil {
		return nil, err
	}
	p, err := c.planShare(ctx, spec)
	if err != nil {
		return nil, err
	}
	p.seal = sealOf(p)
	return p, nil
}

// planShare makes the plan of Plan for a valid spec.
func (c *Client) planShare(ctx context.Context, spec *Spec) (*Plan, error) {
	p := &Plan{Operation: OpShare, Spec: spec.clone()}
	key := spec.KeyARN()
	owner, err := c.account(ctx, key.AccountID, "")
	if err != nil {
		return nil, err
	}
	c.emit(ctx, Event{Phase: "plan", Account: key.AccountID, Message: "reading key " + key.String()})
	if err := c.readKey(ctx, owner, key, p); err != nil {
		return nil, err
	}
	p.Recipients = make([]RecipientPlan, len(spec.Recipients))
	own := spec.clone() // the recipient plans share nothing with p.Spec either
	parallel(ctx, c.opts.Concurrency, len(spec.Recipients), func(i int) {
		p.Recipients[i] = c.planRecipient(ctx, key, own.Recipients[i])
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.KeyPolicy.Current == nil {
		return p, nil // the key cannot be read; its problems are in the plan
	}
	desired, err := grantAll(p.KeyPolicy.Current, key.AccountID, spec.Recipients)
	if err != nil {
		return nil, fmt.Errorf("share: %w", err) // Plan validated the spec, so this is a bug
	}
	c.finishKeyPolicyPlan(ctx, owner, key, p, desired)
	if err := c.planNetwork(ctx, owner, key, p); err != nil {
		return nil, err
	}
	return p, nil
}

// planRecipient reads the recipient's principal and its RAM policies and
// lists the changes that make its own account allow the granted actions.
func (c *Client) planRecipient(ctx context.Context, key arn.ARN, r Recipient) RecipientPlan {
	rp := RecipientPlan{Recipient: r, Principal: r.PrincipalARN().String()}
	problem := func(code ProblemCode, msg string, err error) RecipientPlan {
		rp.Problems = append(rp.Problems, Problem{Code: code, Account: r.Account, Principal: rp.Principal, Message: msg, Err: err})
		c.emit(ctx, Event{Phase: "plan", Account: r.Account, Principal: rp.Principal, Message: msg, Err: err})
		return rp
	}
	acct, err := c.account(ctx, r.Account, r.AccessRole)
	if err != nil {
		return problem(ProblemUnreachable, "cannot act in the recipient account to set up and check its side", err)
	}
	name := r.roleOrUserName()
	var docs []*policy.Document // the principal's identity policies, as they will be
	ours := RecipientPolicyName(key, r.PrincipalARN())
	var oursDoc *policy.Document // its document if attached, as readPrincipal read it
	pp, err := c.readPrincipal(ctx, acct, r)
	if err != nil {
		return problem(ProblemRecipientReadFail, "cannot read the recipient's principal and its policies", err)
	}
	rp.Exists = pp.exists
	if !pp.exists {
		switch r.kind() {
		case PrincipalUser:
			return problem(ProblemUserMissing, fmt.Sprintf("RAM user %s does not exist; create it first", name), nil)
		case PrincipalRDAccessRole:
			return problem(ProblemRoleMissing, fmt.Sprintf("%s does not exist; is the account a member of the resource directory?", name), nil)
		case PrincipalECSDiskRole:
			// The role as ecsroles defines it; its permission on this key is
			// the principal's own kmsshare policy below, not ecsroles' one
			// fixed-name policy, which two keys shared at once would fight
			// over (and which a revoke could not remove key by key).
			spec, serr := ecsroles.DiskEncrypt(key)
			if serr != nil {
				return problem(ProblemRecipientReadFail, "cannot build the ECS disk role", serr)
			}
			rp.Steps = append(rp.Steps, Step{Action: StepCreateRole, Account: r.Account, Role: spec.Name,
				Document: spec.Trust, Description: spec.Description, MaxSession: spec.MaxSessionDuration})
		case PrincipalRole:
			trust := r.Trust
			if trust == nil {
				trust, _ = policy.TrustRAM(arn.AccountRoot(r.Account))
			}
			rp.Steps = append(rp.Steps, Step{Action: StepCreateRole, Account: r.Account, Role: name, Document: trust,
				Description: createdRoleDescription(key)})
		}
	} else if r.kind() != PrincipalUser {
		if step, ok := c.trustStep(r, pp.role); ok {
			rp.Steps = append(rp.Steps, step)
		}
	}
	for i, a := range pp.names {
		if strings.EqualFold(a.Name, ours) && a.Type == "Custom" {
			oursDoc = pp.docs[i]
			continue // judged below, against what it should say
		}
		docs = append(docs, pp.docs[i])
	}
	acts, err := r.actions()
	if err != nil {
		return problem(ProblemRecipientReadFail, "cannot build the recipient policy", err)
	}
	rp.MissingActions = deniedActions(r, key, acts, docs...)
	if len(rp.MissingActions) == 0 {
		return rp
	}
	want, err := policy.KeyPermission(acts, key)
	if err != nil {
		return problem(ProblemRecipientReadFail, "cannot build the recipient policy", err)
	}
	steps, err := customPolicySteps(ctx, acct.RAM, r.Account, ours, "kmsshare: use of "+key.String(), want, oursDoc)
	if err != nil {
		return problem(ProblemRecipientReadFail, "cannot read policy "+ours, err)
	}
	rp.Steps = append(rp.Steps, steps...)
	if oursDoc == nil {
		rp.Steps = append(rp.Steps, Step{Action: StepAttachPolicy, Account: r.Account, Role: name,
			User: r.kind() == PrincipalUser, Policy: ours, PolicyType: "Custom"})
	}
	return rp
}
