package findings

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// analyze derives the findings from what the scan read. It is pure: the
// same report gives the same findings, in no particular order.
func analyze(rep *Report) []Finding {
	var out []Finding
	add := func(f Finding) {
		if f.Severity == "" {
			f.Severity = ruleOf(f.Code).Severity
		}
		f.fingerprint()
		out = append(out, f)
	}
	principals := map[string]*Principal{}
	for i := range rep.Principals {
		principals[rep.Principals[i].ARN] = &rep.Principals[i]
	}
	for i := range rep.Keys {
		k := &rep.Keys[i]
		if k.policy == nil {
			continue
		}
		keyFindings(rep, k, principals, add)
	}
	for i := range rep.Instances {
		instanceFindings(rep, &rep.Instances[i], add)
	}
	ramOnlyGrants(rep, add)
	return out
}

func keyFindings(rep *Report, k *Key, principals map[string]*Principal, add func(Finding)) {
	base := Finding{Key: k.ARN, Instance: k.Instance, Account: k.Account, Document: "key policy"}
	at := func(g Grant, pointer string) *Statement {
		return &Statement{Index: g.Statement.Index, Sid: g.Statement.Sid, Pointer: pointer}
	}
	halfChecked := map[string]bool{}
	for _, g := range k.Grants {
		st := k.policy.Statement[g.Statement.Index]
		f := base
		f.Principal = g.Principal
		if g.Account == "*" {
			f.Code, f.Statement = "wildcard-principal", at(g, g.Statement.Pointer)
			f.Message = fmt.Sprintf("%s admits identities of any account, inside the directory or not.", g.Principal)
			f.Fix = "Name the recipient accounts' roles (acs:ram::<uid>:role/<name>) instead of a wildcard."
			add(f)
			continue
		}
		if accountWide(g.Principal) {
			// Other accounts can only be key users through their roles and
			// users; whether KMS then admits every identity of the account
			// or none is unverified (corrections §3). Either is wrong.
			f := f
			f.Code, f.Statement = "wildcard-principal", at(g, g.Statement.Pointer)
			f.Message = fmt.Sprintf("%s names every identity of account %s: any of them may use the key, or (KMS does not document it) none.", g.Principal, g.Account)
			f.Fix = "Name the role or user of account " + g.Account + " that needs the key, e.g. its ResourceDirectoryAccountAccessRole."
			add(f)
		}
		// Actions: administration, and actions that do nothing for
		// another account.
		var admin, ineffective []string
		firstAdmin, firstIneffective := -1, -1
		for j, a := range st.Action.Values {
			switch {
			case isAdminAction(a):
				admin = append(admin, a)
				if firstAdmin < 0 {
					firstAdmin = j
				}
			case !policy.IsKeyPolicyAction(a) && !coversUserAction(a):
				ineffective = append(ineffective, a)
				if firstIneffective < 0 {
					firstIneffective = j
				}
			}
		}
		if st.NotAction.IsSet() {
			f := f
			f.Code, f.Statement = "cross-account-admin", at(g, fmt.Sprintf("/Statement/%d/NotAction", g.Statement.Index))
			f.Message = fmt.Sprintf("NotAction grants %s every other action, administration included.", g.Principal)
			f.Fix = "Replace NotAction with the key-user actions the recipient needs (" + strings.Join(policy.CrossAccountUserActions(), ", ") + ")."
			add(f)
		} else if len(admin) > 0 {
			f := f
			f.Code, f.Statement = "cross-account-admin", at(g, fmt.Sprintf("/Statement/%d/Action/%d", g.Statement.Index, firstAdmin))
			f.Message = fmt.Sprintf("%s of account %s is granted %s; other accounts may only use a key, never manage it.", g.Principal, g.Account, strings.Join(admin, ", "))
			f.Fix = "Grant only the key-user actions the recipient needs, e.g. kms:GenerateDataKey and kms:Decrypt."
			add(f)
		}
		if len(ineffective) > 0 {
			f := f
			f.Code, f.Statement = "ineffective-action", at(g, fmt.Sprintf("/Statement/%d/Action/%d", g.Statement.Index, firstIneffective))
			f.Message = fmt.Sprintf("%s granted to %s take no effect: KMS honours only the key-user actions for other accounts.", strings.Join(ineffective, ", "), g.Principal)
			f.Fix = "Remove them, or replace them with the key-user actions meant."
			add(f)
		}
		// Place in the directory.
		rc, _ := rep.recipient(g.Account)
		switch {
		case !rc.InDirectory && isAccessRole(g.Principal):
			f := f
			f.Code, f.Statement = "dangling-account", at(g, g.Statement.Pointer)
			f.Message = fmt.Sprintf("%s is the access role of account %s, which is not (or no longer) a member of directory %s.", g.Principal, g.Account, rep.Directory)
			f.Fix = "Remove the principal from the key policy, or bring the account back into the directory."
			add(f)
		case !rc.InDirectory:
			f := f
			f.Code, f.Statement = "outside-directory", at(g, g.Statement.Pointer)
			f.Message = fmt.Sprintf("Account %s is not a member of directory %s, yet %s may use the key.", g.Account, rep.Directory, g.Principal)
			f.Fix = "Remove the principal, or accept the finding with the reason the outside account needs the key."
			add(f)
		case !rc.InTrustZone:
			f := f
			f.Code, f.Statement = "outside-trust-zone", at(g, g.Statement.Pointer)
			f.Message = fmt.Sprintf("Account %s (%s) is outside the trusted folder %s, yet %s may use the key.", g.Account, rc.Path, rep.TrustFolder, g.Principal)
			f.Fix = "Remove the principal, move the account under " + rep.TrustFolder + ", or accept the finding with a reason."
			add(f)
		}
		// The recipient's RAM side, once per principal and key.
		a, err := arn.Parse(g.Principal)
		if err != nil || (!a.IsRole() && !a.IsUser()) {
			continue
		}
		pk := canonicalPrincipal(a)
		p := principals[pk]
		if p == nil || !p.Checked || halfChecked[pk] {
			continue
		}
		halfChecked[pk] = true
		if !p.Exists {
			f := f
			f.Code, f.Statement = "dangling-principal", at(g, g.Statement.Pointer)
			f.Message = fmt.Sprintf("%s does not exist in account %s; the grant serves nobody, and anyone who creates that name gets it.", g.Principal, g.Account)
			f.Fix = "Remove the principal from the key policy, or recreate it if it is still needed."
			add(f)
			continue
		}
		granted := grantedUserActions(k, pk)
		var missing []string
		for _, act := range granted {
			if !ramAllows(p, k, act) {
				missing = append(missing, act)
			}
		}
		if len(missing) > 0 {
			f := f
			f.Code, f.Statement = "half-grant", at(g, g.Statement.Pointer)
			f.Message = fmt.Sprintf("The key policy grants %s %s, but its RAM policies in %s do not allow %s on the key.", g.Principal, strings.Join(granted, ", "), g.Account, strings.Join(missing, ", "))
			f.Fix = "Attach a RAM policy allowing " + strings.Join(missing, ", ") + " on " + k.ARN + " to the principal in its account (policy.KeyPermission), or remove the unused actions from the key policy."
			add(f)
		}
	}
	if !k.Shared() {
		return
	}
	sf := base
	sf.Document = "key"
	switch k.State {
	case "PendingDeletion":
		f := sf
		f.Code = "shared-key-pending-deletion"
		f.Message = "The key is shared and scheduled for deletion: data the recipients encrypted under it becomes unrecoverable."
		f.Fix = "Cancel the deletion (CancelKeyDeletion) unless every recipient has re-encrypted its data under another key."
		add(f)
		return
	case "Disabled":
		f := sf
		f.Code = "shared-key-disabled"
		f.Message = "The key is shared but disabled: recipients cannot use it."
		f.Fix = "Enable the key (EnableKey), or remove the grants if the share has ended."
		add(f)
		return
	}
	if k.DeletionProtection != "Enabled" {
		f := sf
		f.Code = "no-deletion-protection"
		f.Message = "The key is shared but not protected from deletion; deleting it would make the recipients' data unrecoverable."
		f.Fix = "Turn on deletion protection (SetDeletionProtection)."
		add(f)
	}
	if !canRotate(k) {
		f := sf
		f.Code = "cannot-rotate"
		f.Message = fmt.Sprintf("The key (%s, origin %s) cannot rotate automatically.", k.Spec, k.Origin)
		f.Fix = "Plan to replace the key periodically and tell the recipients the new key ID, or use a software symmetric key."
		add(f)
	} else if k.AutomaticRotation != "Enabled" {
		f := sf
		f.Code = "rotation-off"
		f.Message = "The key is shared and could rotate automatically, but does not."
		f.Fix = "Turn on automatic rotation (UpdateRotationPolicy); recipients keep using the same key ID."
		add(f)
	}
	// Identities of the owner account named in the key policy that may
	// change it, and so re-share the key.
	for i, st := range k.policy.Statement {
		if st.Effect != policy.Allow || st.Principal == nil || !mayCall(st, "kms:SetKeyPolicy") {
			continue
		}
		for j, p := range st.Principal.RAM.Values {
			a, err := arn.Parse(p)
			if err != nil || a.AccountID != k.Account || (!a.IsRole() && !a.IsUser()) {
				continue
			}
			f := base
			f.Code, f.Principal = "owner-can-reshare", p
			f.Statement = &Statement{Index: i, Sid: st.Sid, Pointer: fmt.Sprintf("/Statement/%d/Principal/RAM/%d", i, j)}
			f.Message = fmt.Sprintf("%s may call kms:SetKeyPolicy on this shared key, so it can share it with anyone.", p)
			f.Fix = "Grant it only the actions it needs; keep kms:SetKeyPolicy to the pipeline that manages shares."
			add(f)
		}
	}
}

func instanceFindings(rep *Report, inst *Instance, add func(Finding)) {
	accounts := map[string]bool{}
	for _, k := range rep.Keys {
		if k.Instance != inst.ID || k.Account != inst.Account {
			continue
		}
		for _, g := range k.Grants {
			if g.Account != "*" {
				accounts[g.Account] = true
			}
		}
	}
	inst.ForeignAccounts = len(accounts)
	used := int64(inst.ForeignAccounts + inst.BoundVPCs)
	if inst.AccessQuota <= 0 || used*5 < inst.AccessQuota*4 {
		return
	}
	f := Finding{Code: "quota-nearly-used", Instance: inst.ID, Account: inst.Account, Document: "instance"}
	f.Message = fmt.Sprintf("The instance's access management quota is %d and %d is used (%d bound VPCs, %d accounts shared with).",
		inst.AccessQuota, used, inst.BoundVPCs, inst.ForeignAccounts)
	f.Fix = "Raise the instance's access management quota before the next share, or remove shares and VPC bindings no longer needed."
	add(f)
}

// ramOnlyGrants finds RAM policies of read principals that name a scanned
// key whose key policy grants the principal nothing.
func ramOnlyGrants(rep *Report, add func(Finding)) {
	keys := map[string]*Key{}
	for i := range rep.Keys {
		keys[rep.Keys[i].ARN] = &rep.Keys[i]
	}
	for pi := range rep.Principals {
		p := &rep.Principals[pi]
		if !p.Exists {
			continue
		}
		for _, d := range p.docs {
			reported := map[string]bool{}
			for si, st := range d.doc.Statement {
				if st.Effect != policy.Allow {
					continue
				}
				for ri, r := range st.Resource.Values {
					k := keys[r]
					if k == nil || k.policy == nil || reported[r] || keyPolicyGrantsAny(k, p.ARN) {
						continue
					}
					reported[r] = true
					add(Finding{Code: "ram-only-grant", Key: k.ARN, Instance: k.Instance, Account: p.Account, Principal: p.ARN,
						Document:  "RAM policy " + d.name,
						Statement: &Statement{Index: si, Sid: st.Sid, Pointer: fmt.Sprintf("/Statement/%d/Resource/%d", si, ri)},
						Message:   fmt.Sprintf("RAM policy %s of %s allows %s on the key, but the key policy grants it nothing.", d.name, p.ARN, strings.Join(st.Action.Values, ", ")),
						Fix:       "Add the principal to the key policy if it should use the key, or remove the key from the RAM policy."})
				}
			}
		}
	}
}

// grantedUserActions lists the key-user actions the key policy allows the
// principal (a role or user ARN in canonical spelling).
func grantedUserActions(k *Key, principal string) []string {
	var out []string
	for _, act := range policy.CrossAccountUserActions() {
		if keyPolicyAllows(k, principal, act) {
			out = append(out, act)
		}
	}
	return out
}

func keyPolicyGrantsAny(k *Key, principal string) bool {
	return len(grantedUserActions(k, principal)) > 0
}

func callerOf(principal string) policy.Caller {
	a := arn.MustParse(principal)
	if a.IsRole() {
		a = arn.RoleSession(a.AccountID, a.ResourceName(), "kmsshare-findings")
	}
	return policy.Caller{ARN: a}
}

func keyPolicyAllows(k *Key, principal, action string) bool {
	req := policy.Request{Caller: callerOf(principal), Action: action, Resource: k.ARN, ResourceAccount: k.Account}
	return policy.Evaluate(req, k.policy).Decision == policy.Allowed
}

// ramAllows evaluates the principal's identity policies for action on the
// key, without request context: an Allow that needs a condition (a VPC,
// an IP) does not count.
func ramAllows(p *Principal, k *Key, action string) bool {
	docs := make([]*policy.Document, len(p.docs))
	for i, d := range p.docs {
		docs[i] = d.doc
	}
	req := policy.Request{Caller: callerOf(p.ARN), Action: action, Resource: k.ARN, ResourceAccount: k.Account}
	return policy.Evaluate(req, docs...).Decision == policy.Allowed
}

func mayCall(st policy.Statement, action string) bool {
	if st.NotAction.IsSet() {
		return !slices.ContainsFunc(st.NotAction.Values, func(p string) bool { return arn.MatchAction(p, action) })
	}
	return slices.ContainsFunc(st.Action.Values, func(p string) bool { return p == "*" || arn.MatchAction(p, action) })
}

// isAdminAction reports whether a grants administration: "*", or an
// action of the administrator list (or a pattern of it, or one it
// matches, such as kms:SetKeyPolicy for kms:Set*) that is not a key-user
// action.
func isAdminAction(a string) bool {
	if a == "*" || strings.EqualFold(a, "kms:*") {
		return true
	}
	if !hasPrefixFold(a, "kms:") || policy.IsCrossAccountAction(a) {
		return false
	}
	return slices.ContainsFunc(policy.KeyAdministratorActions(), func(p string) bool {
		return arn.MatchAction(p, a) || arn.MatchAction(a, p)
	})
}

// coversUserAction reports whether a pattern such as "kms:Generate*"
// matches a key-user action: it then takes effect for those.
func coversUserAction(pattern string) bool {
	return slices.ContainsFunc(policy.CrossAccountUserActions(), func(a string) bool { return arn.MatchAction(pattern, a) })
}

func canRotate(k *Key) bool {
	switch k.Spec {
	case "Aliyun_AES_256", "Aliyun_AES_128", "Aliyun_AES_192", "Aliyun_SM4":
		return k.Origin == "Aliyun_KMS"
	}
	return false
}

// accountWide reports a principal naming a whole account (":*", ":root").
func accountWide(p string) bool {
	a, err := arn.Parse(p)
	return err == nil && (a.Resource == "*" || a.Resource == "root")
}

func isAccessRole(p string) bool {
	a, err := arn.Parse(p)
	return err == nil && a.IsRole() && strings.EqualFold(a.ResourceName(), arn.ResourceDirectoryAccessRoleName)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
