package share

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/policy"
)

// OrgPolicyPrefix starts the names of the RAM policies this library makes
// for a principal that receives keys through a manifest.
const OrgPolicyPrefix = "kmsshare-org-"

// OrgPolicyName is the name of the n-th (from 1) RAM policy this library
// makes in a recipient account for principal: "kmsshare-org-", eight hex
// digits of a hash of the principal, and n.
func OrgPolicyName(principal arn.ARN, n int) string {
	sum := sha256.Sum256([]byte(strings.ToLower(principal.Canonical().String())))
	return fmt.Sprintf("%s%s-%d", OrgPolicyPrefix, hex.EncodeToString(sum[:4]), n)
}

// orgPolicyIndex returns n if name is principal's n-th org policy.
func orgPolicyIndex(principal arn.ARN, name string) (int, bool) {
	prefix := strings.TrimSuffix(OrgPolicyName(principal, 1), "1")
	if !strings.HasPrefix(strings.ToLower(name), prefix) {
		return 0, false
	}
	var n int
	if _, err := fmt.Sscanf(name[len(prefix):], "%d", &n); err != nil || n < 1 || fmt.Sprint(n) != name[len(prefix):] {
		return 0, false
	}
	return n, true
}

// orgPolicyDocs builds the RAM policies that allow grants (key ARN →
// actions), split so that each stays within maxRAMPolicyBytes: keys in ARN
// order, as many per document as fit.
func orgPolicyDocs(grants map[string][]string) ([]*policy.Document, error) {
	keys := make([]string, 0, len(grants))
	for k := range grants {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	build := func(ks []string) (*policy.Document, int, error) {
		type group struct {
			acts []string
			keys []arn.ARN
		}
		var groups []group
		for _, k := range ks {
			a, _ := arn.Parse(k)
			acts := grants[k]
			i := slices.IndexFunc(groups, func(g group) bool { return slices.Equal(g.acts, acts) })
			if i < 0 {
				groups = append(groups, group{acts: acts})
				i = len(groups) - 1
			}
			groups[i].keys = append(groups[i].keys, a)
		}
		var out *policy.Document
		for _, g := range groups {
			d, err := policy.KeyPermission(g.acts, g.keys...)
			if err != nil {
				return nil, 0, err
			}
			if out == nil {
				out = d
			} else {
				out.Statement = append(out.Statement, d.Statement...)
			}
		}
		data, err := out.Marshal()
		return out, len(data), err
	}
	var docs []*policy.Document
	var cur []string
	var curDoc *policy.Document
	for _, k := range keys {
		d, n, err := build(append(slices.Clone(cur), k))
		if err != nil {
			return nil, err
		}
		if n > maxRAMPolicyBytes && len(cur) > 0 {
			docs = append(docs, curDoc)
			cur = nil
			if d, n, err = build([]string{k}); err != nil {
				return nil, err
			}
		}
		if n > maxRAMPolicyBytes {
			return nil, fmt.Errorf("the RAM policy for key %s alone is %d bytes, over RAM's limit of %d", k, n, maxRAMPolicyBytes)
		}
		cur, curDoc = append(cur, k), d
	}
	if curDoc != nil {
		docs = append(docs, curDoc)
	}
	return docs, nil
}

// planOrgPrincipal plans one principal's RAM side for all its keys: it
// reads the principal and its policies once, finds the keys whose actions
// its other policies do not allow yet, and makes its org policies allow
// them. What the org policies allow for keys outside the manifest (another
// manifest's) is kept; for the manifest's own keys, without prune what
// they allowed before is kept too, with prune only what is granted now.
func (c *Client) planOrgPrincipal(ctx context.Context, pr *OrgPrincipalPlan, prune bool, manifestKeys map[string]bool) {
	r := pr.Recipient
	problem := func(code ProblemCode, msg string, err error) {
		pr.Problems = append(pr.Problems, Problem{Code: code, Account: r.Account, Principal: pr.Principal, Message: msg, Err: err})
		c.emit(ctx, Event{Phase: "plan", Account: r.Account, Principal: pr.Principal, Message: msg, Err: err})
	}
	acct, err := c.account(ctx, r.Account, r.AccessRole)
	if err != nil {
		if pr.Cleanup {
			// The key policy no longer names it, which is what revokes the
			// grant; its own account may be out of reach now it has left.
			c.emit(ctx, Event{Phase: "plan", Account: r.Account, Principal: pr.Principal,
				Message: "cannot enter the account to remove its kmsshare-org policies; they grant nothing without the key policy", Err: err})
			return
		}
		problem(ProblemUnreachable, "cannot act in the recipient account to set up and check its side", err)
		return
	}
	pp, err := c.readPrincipal(ctx, acct, r)
	if err != nil {
		problem(ProblemRecipientReadFail, "cannot read the recipient's principal and its policies", err)
		return
	}
	pr.Exists = pp.exists
	principal := r.PrincipalARN()
	name := r.roleOrUserName()
	switch {
	case pr.Cleanup && !pp.exists:
		return
	case pr.Cleanup:
	case !pp.exists:
		switch r.kind() {
		case PrincipalUser:
			problem(ProblemUserMissing, fmt.Sprintf("RAM user %s does not exist; create it first", name), nil)
			return
		case PrincipalRDAccessRole:
			problem(ProblemRoleMissing, fmt.Sprintf("%s does not exist; is the account a member of the resource directory?", name), nil)
			return
		case PrincipalECSDiskRole:
			key, _ := arn.Parse(pr.Keys[0])
			spec, serr := ecsroles.DiskEncrypt(key)
			if serr != nil {
				problem(ProblemRecipientReadFail, "cannot build the ECS disk role", serr)
				return
			}
			pr.Steps = append(pr.Steps, Step{Action: StepCreateRole, Account: r.Account, Role: spec.Name,
				Document: spec.Trust, Description: spec.Description, MaxSession: spec.MaxSessionDuration})
		case PrincipalRole:
			trust, _ := policy.TrustRAM(arn.AccountRoot(r.Account))
			pr.Steps = append(pr.Steps, Step{Action: StepCreateRole, Account: r.Account, Role: name, Document: trust,
				Description: "kmsshare: uses keys shared by manifest"})
		}
	case r.kind() != PrincipalUser:
		if step, ok := c.trustStep(r, pp.role); ok {
			pr.Steps = append(pr.Steps, step)
		}
	}
	ours := map[int]*policy.Document{}
	var others []*policy.Document
	for i, a := range pp.names {
		if n, ok := orgPolicyIndex(principal, a.Name); ok && a.Type == "Custom" {
			ours[n] = pp.docs[i]
			continue
		}
		others = append(others, pp.docs[i])
	}
	var have []*policy.Document
	for _, d := range ours {
		have = append(have, d)
	}
	want := keyGrants(have...)
	if prune {
		for k := range want {
			if _, granted := pr.grants[k]; manifestKeys[k] && !granted {
				delete(want, k)
			}
		}
	}
	for k, acts := range pr.grants {
		key, _ := arn.Parse(k)
		if len(deniedActions(r, key, acts, others...)) > 0 {
			want[k] = acts
		} else if prune {
			delete(want, k)
		}
	}
	docs, err := orgPolicyDocs(want)
	if err != nil {
		problem(ProblemRecipientReadFail, "cannot build the recipient's policies", err)
		return
	}
	for i, d := range docs {
		pname := OrgPolicyName(principal, i+1)
		if have, attached := ours[i+1]; attached {
			if !policy.Equivalent(have, d) {
				pr.Steps = append(pr.Steps, Step{Action: StepCreatePolicyVersion, Account: r.Account, Policy: pname, PolicyType: "Custom", Document: d})
			}
			continue
		}
		steps, err := customPolicySteps(ctx, acct.RAM, r.Account, pname, "kmsshare: keys shared with "+principal.String()+" by manifest", d, nil)
		if err != nil {
			problem(ProblemRecipientReadFail, "cannot read policy "+pname, err)
			return
		}
		pr.Steps = append(pr.Steps, steps...)
		pr.Steps = append(pr.Steps, Step{Action: StepAttachPolicy, Account: r.Account, Role: name,
			User: r.kind() == PrincipalUser, Policy: pname, PolicyType: "Custom"})
	}
	if prune {
		var extra []int
		for n := range ours {
			if n > len(docs) {
				extra = append(extra, n)
			}
		}
		sort.Ints(extra)
		for _, n := range extra {
			pname := OrgPolicyName(principal, n)
			pr.Steps = append(pr.Steps,
				Step{Action: StepDetachPolicy, Account: r.Account, Role: name, User: r.kind() == PrincipalUser, Policy: pname, PolicyType: "Custom"},
				Step{Action: StepDeletePolicy, Account: r.Account, Policy: pname, PolicyType: "Custom"})
		}
	}
}
