package fakecloud

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// Building each account of a world file: its RAM policies, users and roles,
// its KMS instances and keys, and the resource directory's folders.

func (b *worldBuilder) directory(rd *worldRD) error {
	mgmt, err := b.account("resourceDirectory.management", rd.Management)
	if err != nil {
		return err
	}
	h, err := b.w.Cloud.NewResourceDirectory(mgmt)
	if err != nil {
		return b.at("resourceDirectory.management", "%v", err)
	}
	b.w.rd = h
	placed := map[string]string{rd.Management: b.where("resourceDirectory.management")}
	return b.folder("resourceDirectory", h.Root(), rd.Members, rd.Folders, placed)
}

func (b *worldBuilder) folder(path string, f *Folder, members []string, folders []worldFolder, placed map[string]string) error {
	for i, m := range members {
		p := fmt.Sprintf("%s.members[%d]", path, i)
		a, err := b.account(p, m)
		if err != nil {
			return err
		}
		if first, dup := placed[m]; dup {
			return b.at(p, "account %q is already in the directory (at %s)", m, first)
		}
		placed[m] = b.where(p)
		if err := f.AddMember(a); err != nil {
			return b.at(p, "%v", err)
		}
	}
	seen := map[string]string{}
	for i, wf := range folders {
		p := fmt.Sprintf("%s.folders[%d]", path, i)
		if err := b.name(p, "folder", wf.Name, seen, false); err != nil {
			return err
		}
		if err := b.folder(p, f.NewFolder(wf.Name), wf.Members, wf.Folders, placed); err != nil {
			return err
		}
	}
	return nil
}

func (b *worldBuilder) ram(path string, wa worldAccount) error {
	a := b.w.accounts[wa.Name]
	seen := map[string]string{}
	for i, wp := range wa.Policies {
		p := fmt.Sprintf("%s.policies[%d]", path, i)
		if err := b.name(p, "policy", wp.Name, seen, true); err != nil {
			return err
		}
		if !wp.Document.set {
			return b.at(p, "document is missing")
		}
		doc, err := b.document(p+".document", wp.Document, policy.Permission)
		if err != nil {
			return err
		}
		if _, err := a.NewPolicy(wp.Name, doc); err != nil {
			return b.at(p+".name", "%v", err)
		}
	}
	seen = map[string]string{}
	for i, wu := range wa.Users {
		p := fmt.Sprintf("%s.users[%d]", path, i)
		if err := b.name(p, "user", wu.Name, seen, true); err != nil {
			return err
		}
		if err := b.policyNames(p, wa, wu.Policies); err != nil {
			return err
		}
		u, err := a.NewUser(wu.Name, wu.Policies...)
		if err != nil {
			return b.at(p+".name", "%v", err)
		}
		b.w.users[wa.Name+"/"+wu.Name] = u
		b.w.principals = append(b.w.principals, Principal{Name: wa.Name + "/" + wu.Name, AccountID: a.ID, ARN: u.ARN, Credentials: u.Credentials()})
	}
	seen = map[string]string{}
	for i, wr := range wa.Roles {
		p := fmt.Sprintf("%s.roles[%d]", path, i)
		if err := b.name(p, "role", wr.Name, seen, true); err != nil {
			return err
		}
		if !wr.Trust.set {
			return b.at(p, "trust is missing (the role's trust policy)")
		}
		trust, err := b.document(p+".trust", wr.Trust, policy.Trust)
		if err != nil {
			return err
		}
		if err := b.policyNames(p, wa, wr.Policies); err != nil {
			return err
		}
		r, err := a.NewRole(wr.Name, trust, wr.Policies...)
		if err != nil {
			return b.at(p+".name", "%v", err)
		}
		if wr.Description != "" {
			b.w.Cloud.mu.Lock()
			if st := a.state(); st != nil {
				st.roles[strings.ToLower(r.Name)].description = wr.Description
			}
			b.w.Cloud.mu.Unlock()
		}
		b.w.roles[wa.Name+"/"+wr.Name] = r
	}
	return nil
}

// policyNames checks that every attached policy is one of the account's
// custom policies or a system policy.
func (b *worldBuilder) policyNames(path string, wa worldAccount, names []string) error {
	for i, n := range names {
		found := b.w.Cloud.system[strings.ToLower(n)] != nil
		for _, wp := range wa.Policies {
			found = found || strings.EqualFold(wp.Name, n)
		}
		if !found {
			return b.at(fmt.Sprintf("%s.policies[%d]", path, i), "no policy %q in account %q or among system policies", n, wa.Name)
		}
	}
	return nil
}

func (b *worldBuilder) kms(path string, wa worldAccount, keyIDs map[string]string) error {
	a := b.w.accounts[wa.Name]
	instNames := map[string]string{}
	keyNames := map[string]string{}
	for i, wi := range wa.Instances {
		p := fmt.Sprintf("%s.instances[%d]", path, i)
		if err := b.name(p, "instance", wi.Name, instNames, false); err != nil {
			return err
		}
		if wi.Region == "" {
			return b.at(p, "region is missing")
		}
		opts, internet, err := b.instanceNetwork(p, wi)
		if err != nil {
			return err
		}
		var inst *Instance
		if wi.External {
			inst = a.NewExternalKMSInstance(wi.Region, opts)
		} else {
			inst = a.NewKMSInstance(wi.Region, opts)
		}
		b.w.instances[wa.Name+"/"+wi.Name] = inst
		for _, uid := range internet {
			inst.SetInternetAccess(uid, true)
		}
		b.region(wi.Region)
		for j, wk := range wi.Keys {
			if err := b.key(fmt.Sprintf("%s.keys[%d]", p, j), wa, inst, wk, keyNames, keyIDs); err != nil {
				return err
			}
		}
	}
	for j, wk := range wa.DefaultKeys {
		if err := b.key(fmt.Sprintf("%s.defaultKeys[%d]", path, j), wa, nil, wk, keyNames, keyIDs); err != nil {
			return err
		}
	}
	return nil
}

func (b *worldBuilder) key(p string, wa worldAccount, inst *Instance, wk worldKey, names, ids map[string]string) error {
	a := b.w.accounts[wa.Name]
	if err := b.name(p, "key", wk.Name, names, false); err != nil {
		return err
	}
	opts := KeyOptions{Description: wk.Description, Alias: wk.Alias, Spec: wk.Spec, Usage: wk.Usage}
	if wk.Policy.set {
		if inst == nil {
			return b.at(p+".policy", "keys outside a KMS instance have no key policy")
		}
		doc, err := b.document(p+".policy", wk.Policy, policy.KeyPolicy)
		if err != nil {
			return err
		}
		opts.Policy = doc
	}
	// What CreateKey would refuse for the key itself is checked here, so
	// that a refusal by NewKey below is about the key policy.
	if wk.Spec != "" && !knownSpec(wk.Spec) {
		return b.at(p+".spec", "unknown key spec %q", wk.Spec)
	}
	if wk.Usage != "" && wk.Usage != "ENCRYPT/DECRYPT" && wk.Usage != "SIGN/VERIFY" {
		return b.at(p+".usage", "want \"ENCRYPT/DECRYPT\" or \"SIGN/VERIFY\", found %q", wk.Usage)
	}
	if wk.Usage != "" && (wk.Spec == "" || symmetricSpec(wk.Spec)) && wk.Usage != "ENCRYPT/DECRYPT" {
		return b.at(p+".usage", "symmetric keys are ENCRYPT/DECRYPT")
	}
	if wk.Alias != "" {
		region := wk.Region
		if inst != nil {
			region = inst.Region
		}
		alias := region + "/alias/" + strings.TrimPrefix(wk.Alias, "alias/")
		if first, dup := b.aliases[a.ID+"/"+alias]; dup {
			return b.at(p+".alias", "alias %q is already used in %s (at %s)", wk.Alias, region, first)
		}
		b.aliases[a.ID+"/"+alias] = b.where(p + ".alias")
	}
	if wk.ID != "" {
		if perr := arn.Pasted(wk.ID); perr != nil {
			return b.at(p+".id", "key ID %q: %v: use the real ID", wk.ID, perr)
		}
		if err := checkKeyID(wk.ID); err != nil {
			return b.at(p+".id", "%v", err)
		}
	}
	var k *Key
	var err error
	switch {
	case inst == nil:
		if wk.ID != "" {
			return b.at(p+".id", "fixed IDs are for keys in a KMS instance")
		}
		if wk.Region == "" {
			return b.at(p, "region is missing")
		}
		b.region(wk.Region)
		k, err = a.NewDefaultKey(wk.Region, opts)
	case wk.Region != "":
		return b.at(p+".region", "a key's region is its instance's")
	case wk.ID != "":
		if first, dup := ids[wk.ID]; dup {
			return b.at(p+".id", "key ID %s is already used (at %s)", wk.ID, first)
		}
		ids[wk.ID] = b.where(p + ".id")
		k, err = inst.NewKeyWithID(wk.ID, opts)
	default:
		k, err = inst.NewKey(opts)
	}
	if err != nil {
		// With the key's own fields checked above, what CreateKey refuses
		// as a bad parameter or an exceeded share quota is the key policy
		// (a principal that does not exist, too many accounts).
		var e *Error
		if wk.Policy.set && errors.As(err, &e) && (e.Code == "InvalidParameter" || e.Code == "Rejected.ShareQuotaExceedLimit") {
			return b.at(p+".policy", "%s: %s", e.Code, e.Message)
		}
		return b.at(p, "%v", err)
	}
	b.w.keys[wa.Name+"/"+wk.Name] = k
	b.w.keyNames = append(b.w.keyNames, wa.Name+"/"+wk.Name)
	return nil
}
