package share

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// selection is what a manifest resolves to: per key the recipients in
// principal order, and the accounts.
type selection struct {
	keys      []arn.ARN              // in manifest order, each once
	recips    map[string][]Recipient // by key ARN
	accounts  map[string]*OrgAccount
	directory string // the directory's ID, if read
}

// resolvedRecipient is one (key, principal) grant and where it came from.
type resolvedRecipient struct {
	r     Recipient
	grant int
}

// resolveManifest turns the manifest's selectors into recipients: the
// whole directory is read (folders, then every member, ListAccounts) if a
// selector needs it. Bad references and contradictions are a *SpecError
// naming their place; nothing is written.
//
// one says the manifest is resolved for one account only (onboarding): a
// grant that does not select it is not a problem.
func (c *Client) resolveManifest(ctx context.Context, m *Manifest, members []alicloud.Member, dir *directory, known, one bool) (*selection, error) {
	var ps []SpecProblem
	add := func(field, value, reason string, err error) {
		ps = append(ps, SpecProblem{Field: field, Value: value, Reason: reason, Err: err})
	}
	byID := map[string]alicloud.Member{}
	for _, mb := range members {
		byID[mb.AccountID] = mb
	}
	folderMembers := func(field string, refs []FolderRef) (map[string]bool, bool) {
		out := map[string]bool{}
		ok := true
		for j, ref := range refs {
			f := fmt.Sprintf("%s[%d].folder", field, j)
			if dir == nil {
				add(f, ref.Folder, "the resource directory could not be read", nil)
				ok = false
				continue
			}
			id, err := dir.resolve(ctx, ref, known)
			if err != nil {
				if errors.Is(err, errUnknownFolder) {
					add(f, ref.Folder, strings.TrimPrefix(err.Error(), errUnknownFolder.Error()+": "), err)
				} else {
					add(f, ref.Folder, "cannot read the folder", err)
				}
				ok = false
				continue
			}
			for _, mb := range members {
				if inFolder(mb, id, ref.Subfolders) {
					out[mb.AccountID] = true
				}
			}
		}
		return out, ok
	}
	sel := &selection{recips: map[string][]Recipient{}, accounts: map[string]*OrgAccount{}}
	if dir != nil {
		sel.directory = dir.info.ID
	}
	granted := map[string]resolvedRecipient{} // key ARN + "\x00" + principal → first grant
	seenKey := map[string]bool{}
	reported := map[string]bool{}
	for i, g := range m.Grants {
		gf := fmt.Sprintf("grants[%d]", i)
		picked := map[string]bool{}
		for _, a := range g.Recipients.Accounts {
			picked[a] = true
		}
		fm, ok := folderMembers(gf+".recipients.folders", g.Recipients.Folders)
		for a := range fm {
			picked[a] = true
		}
		if g.Recipients.Directory {
			if dir == nil {
				add(gf+".recipients.directory", "", "the resource directory could not be read", nil)
				ok = false
			}
			for _, mb := range members {
				picked[mb.AccountID] = true
			}
		}
		if ex := g.Recipients.Exclude; ex != nil {
			for _, a := range ex.Accounts {
				delete(picked, a)
			}
			em, eok := folderMembers(gf+".recipients.exclude.folders", ex.Folders)
			ok = ok && eok
			for a := range em {
				delete(picked, a)
			}
		}
		if !ok {
			continue
		}
		var keys []arn.ARN
		for _, k := range g.Keys {
			key, err := parseKeyARN(k, c.Region())
			if err != nil {
				add(gf+".keys", k, err.reason, err.err)
				continue
			}
			keys = append(keys, key)
		}
		matched := false
		ids := make([]string, 0, len(picked))
		for a := range picked {
			ids = append(ids, a)
		}
		sort.Strings(ids)
		for _, key := range keys {
			ks := key.String()
			if !seenKey[ks] {
				seenKey[ks] = true
				sel.keys = append(sel.keys, key)
			}
			for _, a := range ids {
				if a == key.AccountID {
					continue // a key's own account is not a recipient of it
				}
				matched = true
				r := Recipient{Account: a, Principal: g.Principal, Name: g.Name, Actions: slices.Clone(g.Actions), AccessRole: g.AccessRole}
				id := ks + "\x00" + r.key()
				if prev, dup := granted[id]; dup {
					pair := fmt.Sprintf("%d\x00%d\x00%s", prev.grant, i, ks)
					if !sameGrant(prev.r, r) && !reported[pair] {
						reported[pair] = true // once per pair of grants and key, not per account
						add(gf, r.PrincipalARN().String(), fmt.Sprintf("grants %s to %s (and maybe others) differently from grants[%d] "+
							"(actions or access role); make the grants agree or exclude the accounts from one", ks, r.PrincipalARN(), prev.grant), nil)
					}
					continue
				}
				granted[id] = resolvedRecipient{r: r, grant: i}
				sel.recips[ks] = append(sel.recips[ks], r)
				oa := sel.accounts[a]
				if oa == nil {
					oa = &OrgAccount{Account: a}
					if mb, in := byID[a]; in {
						oa.Name, oa.FolderID, oa.Path = mb.DisplayName, mb.FolderID, mb.Path
						if dir != nil {
							oa.Folder = dir.folderName(mb.FolderID)
						}
					}
					sel.accounts[a] = oa
				}
				if !slices.Contains(oa.Grants, i) {
					oa.Grants = append(oa.Grants, i)
				}
				if !slices.Contains(oa.Keys, ks) {
					oa.Keys = append(oa.Keys, ks)
				}
			}
		}
		if !matched && len(keys) > 0 && !one {
			add(gf+".recipients", "", "matches no account (after exclusions, and leaving out each key's own account)", nil)
		}
	}
	if len(ps) > 0 {
		return nil, &SpecError{Problems: ps}
	}
	for _, rs := range sel.recips {
		sort.Slice(rs, func(i, j int) bool { return rs[i].key() < rs[j].key() })
	}
	return sel, nil
}

// sameGrant reports whether two grants of one key to one principal agree.
func sameGrant(a, b Recipient) bool {
	aa, _ := a.actions()
	ba, _ := b.actions()
	return slices.Equal(aa, ba) && strings.EqualFold(a.AccessRole, b.AccessRole)
}

// keySet is the set of the selection's key ARNs.
func (sel *selection) keySet() map[string]bool {
	out := make(map[string]bool, len(sel.keys))
	for _, k := range sel.keys {
		out[k.String()] = true
	}
	return out
}

// readOrganisation reads what the manifest's selectors need: the folder
// tree and every member (ListAccounts), or nothing for a manifest of
// explicit accounts only.
func (c *Client) readOrganisation(ctx context.Context, m *Manifest) (*selection, error) {
	if !m.needsDirectory() {
		return c.resolveManifest(ctx, m, nil, nil, false, false)
	}
	dir, err := c.openDirectory(ctx)
	if err != nil {
		return nil, err
	}
	var members []alicloud.Member
	var merr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		members, merr = dir.api.ListAccounts(ctx)
	}()
	terr := dir.loadTree(ctx, c.opts.Concurrency)
	wg.Wait()
	if merr != nil {
		return nil, fmt.Errorf("share: list the members of resource directory %s (ListAccounts): %w", dir.info.ID, merr)
	}
	if terr != nil {
		return nil, terr
	}
	c.emit(ctx, Event{Phase: "plan", Message: fmt.Sprintf("resource directory %s: %d members, %d folders", dir.info.ID, len(members), len(dir.names))})
	return c.resolveManifest(ctx, m, members, dir, true, false)
}

// readMember reads one account's place in the directory (GetAccount) and
// resolves the manifest for it alone: the folder paths its selectors name
// are walked, never the whole tree, and no other member is listed.
func (c *Client) readMember(ctx context.Context, m *Manifest, account string) (*selection, error) {
	var members []alicloud.Member
	var dir *directory
	if m.needsDirectory() {
		// The directory, the member and who the caller is, all at once.
		api, err := c.factory.Directory()
		if err != nil {
			return nil, fmt.Errorf("share: %w", err)
		}
		var mb alicloud.Member
		var merr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); mb, merr = api.GetAccount(ctx, account) }()
		go func() { defer wg.Done(); _, _ = c.callerIdentity(ctx) }() // cached for the plan; its error comes back there
		dir, err = c.openDirectoryWith(ctx, api)
		wg.Wait()
		if err != nil {
			return nil, err
		}
		switch {
		case errors.Is(merr, cloudapi.ErrNotFound):
			// Not a member: only explicit grants can name it.
		case merr != nil:
			return nil, fmt.Errorf("share: read account %s in the resource directory (GetAccount): %w", account, merr)
		default:
			members = []alicloud.Member{mb}
		}
	}
	sel, err := c.resolveManifest(ctx, onlyAccount(m, account), members, dir, false, true)
	if err != nil {
		return nil, err
	}
	return sel, nil
}

// onlyAccount returns m with every explicit account list reduced to
// account, so that resolving it selects nobody else.
func onlyAccount(m *Manifest, account string) *Manifest {
	out := &Manifest{Version: m.Version}
	for _, g := range m.Grants {
		if slices.Contains(g.Recipients.Accounts, account) {
			g.Recipients.Accounts = []string{account}
		} else {
			g.Recipients.Accounts = nil
		}
		out.Grants = append(out.Grants, g)
	}
	return out
}
