package share

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
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

// StepResult is the outcome of one recipient-side step.
type StepResult struct {
	Step   Step   `json:"step"`
	Status Status `json:"status"`
	Error  string `json:"error,omitempty"`
}

// createdRolePrefix starts the description of every application role this
// library creates; a revoke with DeleteCreatedRoles deletes only roles whose
// description starts with it.
const createdRolePrefix = "created by kmsshare to use "

func createdRoleDescription(key arn.ARN) string { return createdRolePrefix + key.String() }

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

// checkCreatedRoles refuses, before a revoke's recipient steps run, to
// delete a role that this library did not create: the plan may have been
// edited, or the role replaced, since it was made.
func (c *Client) checkCreatedRoles(ctx context.Context, acct *alicloud.Clients, steps []Step) error {
	for _, st := range steps {
		if st.Action != StepDeleteRole {
			continue
		}
		role, err := acct.RAM.GetRole(ctx, st.Role)
		switch {
		case errors.Is(err, cloudapi.ErrNotFound):
		case err != nil:
			return fmt.Errorf("read role %s before deleting it: %w", st.Role, err)
		case !strings.HasPrefix(role.Description, createdRolePrefix):
			return fmt.Errorf("role %s was not created by kmsshare (its description is %q); not deleting it", st.Role, role.Description)
		}
	}
	return nil
}

// runSteps makes steps in order with acct (or fails them all with acctErr,
// the error of entering their account or of a check before them), stopping
// at the first failure; the steps after it are reported as not attempted.
func (c *Client) runSteps(ctx context.Context, acct *alicloud.Clients, acctErr error, principal string, steps []Step) ([]StepResult, error) {
	out := make([]StepResult, 0, len(steps))
	failed := acctErr
	for _, st := range steps {
		if failed != nil {
			out = append(out, StepResult{Step: st, Status: StatusNotAttempted})
			continue
		}
		status, err := c.runStep(ctx, acct, st)
		sr := StepResult{Step: st, Status: status}
		if err != nil {
			sr.Error = err.Error()
			failed = fmt.Errorf("%s: %w", st, err)
		}
		out = append(out, sr)
		c.emit(ctx, Event{Phase: "apply", Account: st.Account, Principal: principal, Message: st.String() + ": " + string(status), Err: err})
	}
	return out, failed
}

// runStep makes one recipient-side change, treating "already so" answers as
// success.
func (c *Client) runStep(ctx context.Context, acct *alicloud.Clients, st Step) (Status, error) {
	doc := ""
	if st.Document != nil {
		doc = st.Document.String()
	}
	var err error
	switch st.Action {
	case StepCreateRole:
		_, err = acct.RAM.CreateRole(ctx, st.Role, st.Description, doc, st.MaxSession)
		if errors.Is(err, cloudapi.ErrAlreadyExists) {
			return StatusAlreadyDone, nil
		}
	case StepUpdateTrust:
		err = c.consistencyRetry(ctx, st).Do(ctx, func(ctx context.Context) error { return acct.RAM.UpdateRoleTrust(ctx, st.Role, doc) })
	case StepCreatePolicy:
		err = acct.RAM.CreatePolicy(ctx, st.Policy, st.Description, doc)
		if errors.Is(err, cloudapi.ErrAlreadyExists) {
			// Created meanwhile: make sure it says what it should.
			if _, err = acct.RAM.CreateDefaultPolicyVersion(ctx, st.Policy, doc); err == nil {
				return StatusAlreadyDone, nil
			}
		}
	case StepCreatePolicyVersion:
		_, err = acct.RAM.CreateDefaultPolicyVersion(ctx, st.Policy, doc)
	case StepAttachPolicy:
		err = c.consistencyRetry(ctx, st).Do(ctx, func(ctx context.Context) error {
			if st.User {
				return acct.RAM.AttachPolicyToUser(ctx, st.PolicyType, st.Policy, st.Role)
			}
			return acct.RAM.AttachPolicyToRole(ctx, st.PolicyType, st.Policy, st.Role)
		})
		if errors.Is(err, cloudapi.ErrAlreadyExists) {
			return StatusAlreadyDone, nil
		}
	case StepDetachPolicy:
		if st.User {
			err = acct.RAM.DetachPolicyFromUser(ctx, st.PolicyType, st.Policy, st.Role)
		} else {
			err = acct.RAM.DetachPolicyFromRole(ctx, st.PolicyType, st.Policy, st.Role)
		}
		if errors.Is(err, cloudapi.ErrNotFound) {
			return StatusAlreadyDone, nil
		}
	case StepDeletePolicy:
		// A detach from a role a moment ago may not be visible yet: RAM then
		// answers DeleteConflict.Role.Policy, which Terraform retries too.
		err = c.consistencyRetryOn(ctx, st, func(err error) bool { return isCode(err, deleteConflictRolePolicy) }).Do(ctx, func(ctx context.Context) error {
			return acct.RAM.DeletePolicy(ctx, st.Policy)
		})
		if errors.Is(err, cloudapi.ErrNotFound) {
			return StatusAlreadyDone, nil
		}
	case StepDeleteRole:
		// RAM may briefly still see attachments just removed.
		err = c.consistencyRetryOn(ctx, st, func(err error) bool { return errors.Is(err, cloudapi.ErrConflict) }).Do(ctx, func(ctx context.Context) error {
			return acct.RAM.DeleteRole(ctx, st.Role)
		})
		if errors.Is(err, cloudapi.ErrNotFound) {
			return StatusAlreadyDone, nil
		}
	default:
		err = fmt.Errorf("unknown step %q", st.Action)
	}
	if err != nil {
		return StatusFailed, err
	}
	return StatusDone, nil
}

// summarize counts added and removed grants.
func summarize(changes []policy.Change) string {
	add, remove := 0, 0
	for _, c := range changes {
		if c.Op == policy.Added {
			add++
		} else {
			remove++
		}
	}
	return fmt.Sprintf("%d grant(s) added, %d removed", add, remove)
}
