package share

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// ManifestVersion is the manifest format this package reads and writes.
const ManifestVersion = 1

// A Manifest says which keys an organisation shares with whom: a list of
// grants, each naming keys by ARN (several keys, instances and regions
// allowed) and recipients by selector (explicit accounts, Resource
// Directory folders with or without their sub-folders, the whole
// directory, with exclusions), with the principal kind and actions every
// selected account gets. It is plain, versioned JSON read strictly
// (ParseManifest):
//
//	{"version": 1,
//	 "grants": [
//	   {"keys": ["acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"],
//	    "recipients": {"folders": [{"folder": "apps", "subfolders": true}],
//	                   "exclude": {"accounts": ["2222222222222222"]}}},
//	   {"keys": ["acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g8"],
//	    "recipients": {"accounts": ["3333333333333333"]},
//	    "principal": "role", "name": "app", "actions": ["kms:Decrypt"]}]}
//
// A single-key Spec is a manifest too: ParseManifest reads either form, and
// a spec means one grant of its key per recipient, to that account only. A key's own account is never a recipient of that key: a
// selector that takes it in (the whole directory, say) skips it.
type Manifest struct {
	Version int     `json:"version"`
	Grants  []Grant `json:"grants"`
}

// Grant gives keys to the accounts a selector picks.
type Grant struct {
	// Keys are key ARNs, acs:kms:<region>:<owner-uid>:key/<key-id>.
	Keys []string `json:"keys"`
	// Recipients selects the accounts.
	Recipients Selector `json:"recipients"`
	// Principal, Name, Actions and AccessRole mean what they mean in a
	// Recipient, for every selected account: by default the account's
	// ResourceDirectoryAccountAccessRole with the key-user actions.
	Principal  PrincipalKind `json:"principal,omitempty"`
	Name       string        `json:"name,omitempty"`
	Actions    []string      `json:"actions,omitempty"`
	AccessRole string        `json:"accessRole,omitempty"`
}

// Selector picks accounts: the union of Accounts, the members of Folders
// and, if Directory is set, every member of the resource directory, minus
// Exclude.
type Selector struct {
	Accounts  []string    `json:"accounts,omitempty"`
	Folders   []FolderRef `json:"folders,omitempty"`
	Directory bool        `json:"directory,omitempty"`
	Exclude   *Exclusion  `json:"exclude,omitempty"`
}

// FolderRef names a Resource Directory folder: by ID (fd-…, or r-… for the
// root) or by the path of folder names below the root ("apps/prod").
// Subfolders also selects the members of every folder below it.
type FolderRef struct {
	Folder     string `json:"folder"`
	Subfolders bool   `json:"subfolders,omitempty"`
}

func (f FolderRef) byID() bool {
	return strings.HasPrefix(f.Folder, "fd-") || strings.HasPrefix(f.Folder, "r-")
}

// Exclusion removes accounts from a selection: listed ones, and the
// members of folders.
type Exclusion struct {
	Accounts []string    `json:"accounts,omitempty"`
	Folders  []FolderRef `json:"folders,omitempty"`
}

// manifestFromSpec returns the manifest a single-key spec means: one grant
// of the key per recipient, to that account only.
func manifestFromSpec(s *Spec) *Manifest {
	m := &Manifest{Version: ManifestVersion}
	for _, r := range s.Recipients {
		m.Grants = append(m.Grants, Grant{Keys: []string{s.Key}, Recipients: Selector{Accounts: []string{r.Account}},
			Principal: r.Principal, Name: r.Name, Actions: slices.Clone(r.Actions), AccessRole: r.AccessRole})
	}
	return m
}

// validate checks the manifest without calling any API: the version, every
// key ARN (concrete, not masked; in region if region is not ""), every
// account UID, folder reference, principal and action set. It returns nil
// or a *SpecError naming each problem's place ("grants[1].keys[0]").
// Problems that need the directory (an unknown folder, a selector that
// matches nothing, two grants that disagree about one principal) are found
// by PlanManifest, still before any write.
//
// PlanManifest, Onboard, RevokeManifest, VerifyManifest and
// InventoryManifest validate their manifest with it, once; ParseManifest
// returns only manifests it accepts.
func (m *Manifest) validate(region string) error {
	var ps []SpecProblem
	add := func(field, value, reason string, err error) {
		ps = append(ps, SpecProblem{Field: field, Value: value, Reason: reason, Err: err})
	}
	if m.Version != ManifestVersion {
		add("version", fmt.Sprint(m.Version), fmt.Sprintf("unsupported manifest version; want %d", ManifestVersion), nil)
	}
	if len(m.Grants) == 0 {
		add("grants", "", "no grants", nil)
	}
	accounts := func(field string, ids []string) {
		seen := map[string]bool{}
		for j, id := range ids {
			f := fmt.Sprintf("%s[%d]", field, j)
			if err := arn.ValidateAccountID(id); err != nil {
				add(f, id, reasonOf(err), err)
			} else if seen[id] {
				add(f, id, "listed twice", nil)
			}
			seen[id] = true
		}
	}
	folders := func(field string, refs []FolderRef) {
		for j, fr := range refs {
			f := fmt.Sprintf("%s[%d].folder", field, j)
			switch {
			case strings.TrimSpace(fr.Folder) == "" || strings.Trim(fr.Folder, "/") == "":
				add(f, fr.Folder, "empty; name a folder by ID (fd-…) or by its path of names below the root (apps/prod); "+
					`for the whole directory use "directory": true`, nil)
			case strings.ContainsAny(fr.Folder, "*?"):
				add(f, fr.Folder, "masked or wildcard folder; name one folder exactly", nil)
			case strings.Contains(strings.Trim(fr.Folder, "/"), "//"):
				add(f, fr.Folder, "empty folder name in the path", nil)
			}
		}
	}
	for i, g := range m.Grants {
		gf := fmt.Sprintf("grants[%d]", i)
		if len(g.Keys) == 0 {
			add(gf+".keys", "", "no keys", nil)
		}
		seen := map[string]bool{}
		for j, k := range g.Keys {
			f := fmt.Sprintf("%s.keys[%d]", gf, j)
			key, err := parseKeyARN(k, region)
			if err != nil {
				add(f, k, err.reason, err.err)
				continue
			}
			if seen[key.String()] {
				add(f, k, "listed twice", nil)
			}
			seen[key.String()] = true
		}
		sel := g.Recipients
		if len(sel.Accounts) == 0 && len(sel.Folders) == 0 && !sel.Directory {
			add(gf+".recipients", "", `selects nobody; give "accounts", "folders" or "directory": true`, nil)
		}
		accounts(gf+".recipients.accounts", sel.Accounts)
		folders(gf+".recipients.folders", sel.Folders)
		if sel.Exclude != nil {
			accounts(gf+".recipients.exclude.accounts", sel.Exclude.Accounts)
			folders(gf+".recipients.exclude.folders", sel.Exclude.Folders)
		}
		// The principal settings, as Spec.Validate checks a recipient's.
		r := Recipient{Principal: g.Principal, Name: g.Name, Actions: g.Actions, AccessRole: g.AccessRole}
		r.validate(gf, add)
	}
	if len(ps) > 0 {
		return &SpecError{Problems: ps}
	}
	return nil
}

// clone returns a deep copy of m, so that a plan keeps its own manifest:
// the caller's later changes to m must neither change the plan nor break
// its seal. The copy goes through m's JSON form, which is what the seal
// covers.
func (m *Manifest) clone() Manifest {
	var out Manifest
	b, err := json.Marshal(m)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		panic("share: a manifest does not survive its own JSON form: " + err.Error()) // its fields are strings, ints and slices of them
	}
	return out
}
