package share

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// Operation is what a plan does.
type Operation string

// The two operations.
const (
	OpShare  Operation = "share"
	OpRevoke Operation = "revoke"
)

// Plan is what Apply will change, read from the current state of both
// sides. It prints for people (String) and marshals to JSON for programs.
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

// KeyPolicyPlan is the owner side: the key policy now, as it will be, and the
// grants that differ.
type KeyPolicyPlan struct {
	Current *policy.Document `json:"current,omitempty"`
	Desired *policy.Document `json:"desired,omitempty"`
	Changes []policy.Change  `json:"changes"`
	// NewAccess is what Desired may allow that Current does not
	// (policy.CheckNoNewAccess); a revoke adds none.
	NewAccess []policy.NewAccess `json:"newAccess,omitempty"`
}

// NeedsWrite reports whether Apply will write the key policy.
func (k KeyPolicyPlan) NeedsWrite() bool {
	return k.Current != nil && k.Desired != nil && !policy.Equivalent(k.Current, k.Desired)
}

// QuotaInfo is the key's KMS instance's access management quota: one unit
// per distinct other account any key of the instance is shared with (and
// per bound VPC), so an account another key already shares with costs
// nothing more (kms.md §9).
type QuotaInfo struct {
	Limit       int64    `json:"limit"`
	Used        int64    `json:"used"`
	NewAccounts []string `json:"newAccounts,omitempty"` // accounts this plan adds to the key policy
	// AlreadyCounted are the new accounts that other keys of the instance
	// already share with; filled in only when Used plus NewAccounts would
	// exceed Limit and the instance's keys could be listed.
	AlreadyCounted []string `json:"alreadyCounted,omitempty"`
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

// StepAction is one kind of change on the recipient side.
type StepAction string

// The recipient-side changes Apply can make.
const (
	StepCreateRole          StepAction = "create-role"
	StepUpdateTrust         StepAction = "update-trust"
	StepCreatePolicy        StepAction = "create-policy"
	StepCreatePolicyVersion StepAction = "create-policy-version"
	StepAttachPolicy        StepAction = "attach-policy"
	StepDetachPolicy        StepAction = "detach-policy"
	StepDeletePolicy        StepAction = "delete-policy"
	StepDeleteRole          StepAction = "delete-role"
)

// Step is one recipient-side change.
type Step struct {
	Action      StepAction       `json:"action"`
	Account     string           `json:"account"`
	Role        string           `json:"role,omitempty"` // the role concerned (or the user, for PrincipalUser)
	User        bool             `json:"user,omitempty"` // Role names a RAM user
	Policy      string           `json:"policy,omitempty"`
	PolicyType  string           `json:"policyType,omitempty"` // "Custom" or "System"
	Description string           `json:"description,omitempty"`
	Document    *policy.Document `json:"document,omitempty"`
	MaxSession  int64            `json:"maxSessionDuration,omitempty"`
}

func (s Step) String() string {
	subject := "role " + s.Role
	if s.User {
		subject = "user " + s.Role
	}
	switch s.Action {
	case StepCreateRole:
		return fmt.Sprintf("create %s with trust policy %s", subject, s.Document)
	case StepUpdateTrust:
		return fmt.Sprintf("set the trust policy of %s to %s", subject, s.Document)
	case StepCreatePolicy:
		return fmt.Sprintf("create policy %s: %s", s.Policy, s.Document)
	case StepCreatePolicyVersion:
		return fmt.Sprintf("update policy %s (new default version): %s", s.Policy, s.Document)
	case StepAttachPolicy:
		return fmt.Sprintf("attach %s policy %s to %s", strings.ToLower(s.PolicyType), s.Policy, subject)
	case StepDetachPolicy:
		return fmt.Sprintf("detach %s policy %s from %s", strings.ToLower(s.PolicyType), s.Policy, subject)
	case StepDeletePolicy:
		return fmt.Sprintf("delete policy %s", s.Policy)
	case StepDeleteRole:
		return fmt.Sprintf("delete %s", subject)
	}
	return string(s.Action)
}

// Problem is a preflight failure: a reason the plan cannot be applied.
type Problem struct {
	Code      string `json:"code"` // stable: "key-not-found", "key-not-enabled", ...
	Account   string `json:"account,omitempty"`
	Principal string `json:"principal,omitempty"`
	Message   string `json:"message"`
	Err       error  `json:"-"`
}

func (p Problem) String() string {
	s := p.Code + ": " + p.Message
	if p.Err != nil {
		s += " (" + p.Err.Error() + ")"
	}
	return s
}

// Preflight problem codes, and the sentinel errors they match.
const (
	ProblemKeyNotFound       = "key-not-found"
	ProblemKeyNotEnabled     = "key-not-enabled"
	ProblemKeyNotInInstance  = "key-not-in-instance"
	ProblemKeyUsage          = "key-usage"
	ProblemKeyPolicy         = "key-policy-unreadable"
	ProblemQuota             = "quota-exceeded"
	ProblemUnreachable       = "account-unreachable"
	ProblemRoleMissing       = "recipient-role-missing"
	ProblemUserMissing       = "recipient-user-missing"
	ProblemNewLintError      = "key-policy-lint"
	ProblemRecipientReadFail = "recipient-unreadable"
	// WarningQuotaUnchecked is a warning, not a problem: the quota looks
	// too small, but the accounts other keys of the instance already share
	// with could not be counted, so SetKeyPolicy will decide.
	WarningQuotaUnchecked = "quota-unchecked"
)

// PreflightError lists the problems that keep a plan from being applied.
// It matches ErrPreflight, and ErrQuotaExceeded, ErrKeyState,
// ErrKeyPolicyUnsupported or ErrNotFound for the corresponding problems.
type PreflightError struct {
	Problems []Problem
}

func (e *PreflightError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		s := p.String()
		if p.Account != "" {
			s = "account " + p.Account + ": " + s
		}
		parts = append(parts, s)
	}
	return "share: preflight failed: " + strings.Join(parts, "; ")
}

// Is matches ErrPreflight and the classes of the problems.
func (e *PreflightError) Is(target error) bool {
	if target == ErrPreflight {
		return true
	}
	for _, p := range e.Problems {
		var class error
		switch p.Code {
		case ProblemQuota:
			class = ErrQuotaExceeded
		case ProblemKeyNotEnabled:
			class = ErrKeyState
		case ProblemKeyNotInInstance:
			class = ErrKeyPolicyUnsupported
		case ProblemKeyNotFound, ProblemRoleMissing, ProblemUserMissing:
			class = ErrNotFound
		}
		if class == target {
			return true
		}
	}
	return false
}

// Unwrap returns the problems' underlying errors.
func (e *PreflightError) Unwrap() []error {
	var out []error
	for _, p := range e.Problems {
		if p.Err != nil {
			out = append(out, p.Err)
		}
	}
	return out
}

// AllProblems returns the plan's problems and its recipients' problems.
func (p *Plan) AllProblems() []Problem {
	out := slices.Clone(p.Problems)
	for _, r := range p.Recipients {
		out = append(out, r.Problems...)
	}
	return out
}

// Err returns a *PreflightError if the plan has problems, else nil.
func (p *Plan) Err() error {
	if ps := p.AllProblems(); len(ps) > 0 {
		return &PreflightError{Problems: ps}
	}
	return nil
}

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
// read.
func (c *Client) Plan(ctx context.Context, spec *Spec) (*Plan, error) {
	if err := spec.Validate(c.Region()); err != nil {
		return nil, err
	}
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
		return nil, fmt.Errorf("share: %w", err) // Validate accepted the spec, so this is a bug
	}
	c.finishKeyPolicyPlan(ctx, owner, key, p, desired)
	if err := c.planNetwork(ctx, owner, key, p); err != nil {
		return nil, err
	}
	return p, nil
}

// readKey fills in the key's metadata and current policy, or the problems
// that keep it from being shared.
func (c *Client) readKey(ctx context.Context, owner *alicloud.Clients, key arn.ARN, p *Plan) error {
	p.Key = KeyInfo{ARN: key.String(), ID: key.ResourceName(), Owner: key.AccountID, Region: key.Region}
	meta, err := owner.KMS.DescribeKey(ctx, key.String())
	switch {
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
	if meta.InstanceID == "" {
		p.Problems = append(p.Problems, Problem{Code: ProblemKeyNotInInstance, Account: key.AccountID,
			Message: "the key is not in a KMS instance, so it has no key policy; only keys in KMS instances can be shared"})
		return nil
	}
	doc, err := owner.KMS.GetKeyPolicy(ctx, key.String())
	if err != nil {
		return fmt.Errorf("share: read the key policy of %s: %w", key, err)
	}
	cur, err := policy.Parse([]byte(doc))
	if err != nil {
		p.Problems = append(p.Problems, Problem{Code: ProblemKeyPolicy, Account: key.AccountID,
			Message: "the current key policy cannot be parsed, so it cannot be edited safely", Err: err})
		return nil
	}
	p.KeyPolicy.Current = cur
	return nil
}

// finishKeyPolicyPlan records the desired key policy, its diff, lint
// findings and the quota check.
func (c *Client) finishKeyPolicyPlan(ctx context.Context, owner *alicloud.Clients, key arn.ARN, p *Plan, desired *policy.Document) {
	p.KeyPolicy.Desired = desired
	p.KeyPolicy.Changes = policy.Diff(p.KeyPolicy.Current, desired)
	if p.KeyPolicy.Changes == nil {
		p.KeyPolicy.Changes = []policy.Change{}
	}
	lintOpts := policy.LintOptions{Owner: key.AccountID}
	before := map[string]bool{}
	for _, f := range policy.Lint(p.KeyPolicy.Current, policy.KeyPolicy, lintOpts) {
		before[f.Code+"\x00"+f.Message] = true
	}
	p.Findings = policy.Lint(desired, policy.KeyPolicy, lintOpts)
	for _, f := range p.Findings {
		// Errors already in the current policy belong to someone else's
		// statements; only errors this plan would introduce block it.
		if f.Severity == policy.SeverityError && !before[f.Code+"\x00"+f.Message] {
			p.Problems = append(p.Problems, Problem{Code: ProblemNewLintError, Account: key.AccountID,
				Message: "the new key policy would be wrong: " + f.String()})
		}
	}
	checkNewAccess(p, key.AccountID)
	c.checkQuota(ctx, owner, key, p)
}

// checkQuota checks that the instance's access management quota has room
// for the accounts the plan adds. The quota counts distinct accounts across
// all keys of the instance, so when the simple sum (used plus new) is too
// high, the accounts the instance's other keys already share with are
// counted: only a true excess is a problem, and if they cannot be counted
// the plan only warns, since SetKeyPolicy enforces the quota anyway.
func (c *Client) checkQuota(ctx context.Context, owner *alicloud.Clients, key arn.ARN, p *Plan) {
	newAccounts := newForeignAccounts(p.KeyPolicy.Current, p.KeyPolicy.Desired, key.AccountID)
	if len(newAccounts) == 0 || p.Key.InstanceID == "" || c.opts.SkipQuotaCheck {
		return
	}
	q, err := owner.KMS.AccessQuota(ctx, p.Key.InstanceID)
	if err != nil {
		c.emit(ctx, Event{Phase: "plan", Account: key.AccountID, Message: "could not read the instance's access quota; SetKeyPolicy will check it", Err: err})
		return
	}
	p.Quota = &QuotaInfo{Limit: q.Limit, Used: q.Used, NewAccounts: newAccounts}
	n := int64(len(newAccounts))
	if q.Used+n <= q.Limit {
		return
	}
	exceeded := func(cost int64, why string) {
		p.Problems = append(p.Problems, Problem{Code: ProblemQuota, Account: key.AccountID, Message: fmt.Sprintf(
			"instance %s's access management quota is %d and %d is used; sharing with %d more account(s) would exceed it (%s)",
			p.Key.InstanceID, q.Limit, q.Used, cost, why)})
	}
	// At most the units that this key's own accounts do not explain can
	// belong to accounts of other keys (or to VPCs, or to accounts released
	// moments ago): if even that many new accounts cost nothing, and the
	// rest is still too much, no listing can change the answer.
	free := max(0, q.Used-int64(len(policy.ForeignAccounts(p.KeyPolicy.Current, key.AccountID))))
	if least := max(0, n-free); q.Used+least > q.Limit {
		exceeded(least, "even if other keys of the instance already share with some of them")
		return
	}
	counted, err := c.sharedByOtherKeys(ctx, owner, key, p.Key.InstanceID)
	if err != nil {
		msg := fmt.Sprintf("instance %s's access management quota is %d and %d is used, which leaves room for %d new account(s) only if "+
			"other keys of the instance already share with the rest; they could not be counted, so SetKeyPolicy will decide "+
			"(Rejected.ShareQuotaExceedLimit leaves the key policy unchanged)", p.Key.InstanceID, q.Limit, q.Used, n)
		p.Warnings = append(p.Warnings, Problem{Code: WarningQuotaUnchecked, Account: key.AccountID, Message: msg, Err: err})
		c.emit(ctx, Event{Phase: "plan", Account: key.AccountID, Message: msg, Err: err})
		return
	}
	for _, a := range newAccounts {
		if counted[a] {
			p.Quota.AlreadyCounted = append(p.Quota.AlreadyCounted, a)
		}
	}
	if cost := n - int64(len(p.Quota.AlreadyCounted)); q.Used+cost > q.Limit {
		exceeded(cost, fmt.Sprintf("%d of the %d are already counted through other keys of the instance", len(p.Quota.AlreadyCounted), n))
	}
}

// sharedByOtherKeys returns the other accounts that the keys of instance,
// other than key, share with: ListKeys, then DescribeKey and GetKeyPolicy
// of each key.
func (c *Client) sharedByOtherKeys(ctx context.Context, owner *alicloud.Clients, key arn.ARN, instance string) (map[string]bool, error) {
	ids, err := owner.KMS.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("share: list the keys of account %s: %w", key.AccountID, err)
	}
	var mu sync.Mutex
	out := map[string]bool{}
	var firstErr error
	parallel(ctx, c.opts.Concurrency, len(ids), func(i int) {
		id := ids[i]
		if a, err := arn.Parse(id); err == nil {
			id = a.ResourceName()
		}
		if id == key.ResourceName() {
			return
		}
		accounts, err := c.keyAccounts(ctx, owner, id, instance, key.AccountID)
		mu.Lock()
		defer mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("share: read key %s: %w", id, err)
		}
		for _, a := range accounts {
			out[a] = true
		}
	})
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// keyAccounts returns the other accounts a key's policy names, if the key
// is in instance (none otherwise).
func (c *Client) keyAccounts(ctx context.Context, owner *alicloud.Clients, id, instance, ownerID string) ([]string, error) {
	meta, err := owner.KMS.DescribeKey(ctx, id)
	if err != nil || meta.InstanceID != instance {
		return nil, err
	}
	raw, err := owner.KMS.GetKeyPolicy(ctx, id)
	if err != nil {
		return nil, err
	}
	d, err := policy.Parse([]byte(raw))
	if err != nil {
		return nil, err
	}
	return policy.ForeignAccounts(d, ownerID), nil
}

// newForeignAccounts lists the accounts other than owner that desired names
// and current does not.
func newForeignAccounts(current, desired *policy.Document, owner string) []string {
	have := policy.ForeignAccounts(current, owner)
	var out []string
	for _, a := range policy.ForeignAccounts(desired, owner) {
		if !slices.Contains(have, a) {
			out = append(out, a)
		}
	}
	return out
}

type actionGroup struct {
	actions    []string
	principals []arn.ARN
}

// groupByActions groups recipients by their granted action set, in spec order.
func groupByActions(rs []Recipient) ([]actionGroup, error) {
	var out []actionGroup
	for _, r := range rs {
		acts, err := r.actions()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.PrincipalARN(), err)
		}
		i := slices.IndexFunc(out, func(g actionGroup) bool { return slices.Equal(g.actions, acts) })
		if i < 0 {
			out = append(out, actionGroup{actions: acts})
			i = len(out) - 1
		}
		out[i].principals = append(out[i].principals, r.PrincipalARN())
	}
	return out, nil
}

// grantAll returns d with every recipient granted its actions in the
// statements this library owns.
func grantAll(d *policy.Document, owner string, rs []Recipient) (*policy.Document, error) {
	groups, err := groupByActions(rs)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if d, err = policy.SetCrossAccountUsers(d, owner, g.actions, g.principals...); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// RecipientPolicyName is the name of the custom policy this library creates
// in a recipient account to let principal use key: "kmsshare-<key-id>-" and
// eight hex digits of a hash of the principal, so that two principals of
// one account never share (and overwrite) one policy.
func RecipientPolicyName(key, principal arn.ARN) string {
	sum := sha256.Sum256([]byte(strings.ToLower(principal.Canonical().String())))
	name := "kmsshare-" + key.ResourceName()
	if len(name) > 128-9 {
		name = name[:128-9]
	}
	return name + "-" + hex.EncodeToString(sum[:4])
}

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

// planRecipient reads the recipient's principal and its RAM policies and
// lists the changes that make its own account allow the granted actions.
func (c *Client) planRecipient(ctx context.Context, key arn.ARN, r Recipient) RecipientPlan {
	rp := RecipientPlan{Recipient: r, Principal: r.PrincipalARN().String()}
	problem := func(code, msg string, err error) RecipientPlan {
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

// customPolicySteps returns what makes the custom policy name in account
// say want: nothing if it does, a new default version if it says something
// else (or cannot be parsed), creating it if it does not exist. have is its
// document if the caller has read it already; nil means read it here.
func customPolicySteps(ctx context.Context, r *alicloud.RAM, account, name, description string, want, have *policy.Document) ([]Step, error) {
	if have == nil {
		existing, err := r.GetPolicy(ctx, name, "Custom")
		switch {
		case errors.Is(err, cloudapi.ErrNotFound):
			return []Step{{Action: StepCreatePolicy, Account: account, Policy: name, PolicyType: "Custom",
				Document: want, Description: description}}, nil
		case err != nil:
			return nil, err
		}
		have, _ = policy.Parse([]byte(existing.Document)) // unparsable: replaced
	}
	if have != nil && policy.Equivalent(have, want) {
		return nil, nil
	}
	return []Step{{Action: StepCreatePolicyVersion, Account: account, Policy: name, PolicyType: "Custom", Document: want}}, nil
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

// trustStep returns the change an existing role's trust policy needs: an
// application role gets the trust the spec asks for; the ECS disk role must
// be assumable by ECS in its own account. The RD access role is never
// touched.
func (c *Client) trustStep(r Recipient, role alicloud.Role) (Step, bool) {
	have, err := policy.Parse([]byte(role.TrustPolicy))
	switch r.kind() {
	case PrincipalRole:
		if r.Trust != nil && (err != nil || !policy.Equivalent(have, r.Trust)) {
			return Step{Action: StepUpdateTrust, Account: r.Account, Role: role.Name, Document: r.Trust}, true
		}
	case PrincipalECSDiskRole:
		req := policy.Request{Caller: policy.Caller{Account: r.Account, Service: "ecs.aliyuncs.com"},
			Action: "sts:AssumeRole", Resource: role.ARN, ResourceAccount: r.Account}
		if err != nil || policy.Evaluate(req, have).Decision != policy.Allowed {
			trust, _ := policy.TrustService(arn.ECS(""))
			return Step{Action: StepUpdateTrust, Account: r.Account, Role: role.Name, Document: trust}, true
		}
	}
	return Step{}, false
}

// parallel runs fn(0..n-1) with at most limit at once.
func parallel(ctx context.Context, limit, n int, fn func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}(i)
	}
	wg.Wait()
}
