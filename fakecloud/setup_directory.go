package fakecloud

import (
	"errors"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// Set-up of a Resource Directory: the management account, folders and
// member accounts.

// ResourceDirectory is a Resource Directory and its folder tree.
type ResourceDirectory struct {
	ID         string // rd-…
	Management *Account
	root       *Folder
}

// Folder is a folder of a Resource Directory.
type Folder struct {
	RD   *ResourceDirectory
	ID   string // r-… for the root folder, fd-… below
	Name string
	Path string // <rd-id>/<root-id>/…/<folder-id>
}

// Root returns the root folder.
func (rd *ResourceDirectory) Root() *Folder { return rd.root }

// NewResourceDirectory makes mgmt the management account of a new
// Resource Directory. The management account itself sits in the root
// folder.
func (c *Cloud) NewResourceDirectory(mgmt *Account) (*ResourceDirectory, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := mgmt.state()
	if acct == nil {
		return nil, errForeign
	}
	if acct.manages != nil || acct.rd() != nil {
		return nil, errors.New("fakecloud: account " + mgmt.ID + " already belongs to a resource directory")
	}
	rd := &resourceDirectory{id: "rd-" + c.ids.chars(mixedAlnum, 6), mgmt: acct}
	rd.root = &folder{rd: rd, id: "r-" + c.ids.chars(mixedAlnum, 6), name: "Root"}
	rd.root.path = rd.id + "/" + rd.root.id
	rd.folders = map[string]*folder{rd.root.id: rd.root}
	acct.manages, acct.folder = rd, rd.root
	h := &ResourceDirectory{ID: rd.id, Management: mgmt}
	h.root = &Folder{RD: h, ID: rd.root.id, Name: rd.root.name, Path: rd.root.path}
	return h, nil
}

func (f *Folder) state() *folder {
	if f == nil || f.RD == nil {
		return nil
	}
	mgmt := f.RD.Management.state()
	if mgmt == nil || mgmt.manages == nil {
		return nil
	}
	return mgmt.manages.folders[f.ID]
}

// NewFolder creates a folder below f. It returns nil if f does not belong
// to a cloud.
func (f *Folder) NewFolder(name string) *Folder {
	if f == nil || f.RD == nil || f.RD.Management == nil || f.RD.Management.c == nil {
		return nil
	}
	c := f.RD.Management.c
	c.mu.Lock()
	defer c.mu.Unlock()
	parent := f.state()
	if parent == nil {
		return nil
	}
	fd := &folder{rd: parent.rd, id: "fd-" + c.ids.chars(mixedAlnum, 10), name: name}
	fd.path = parent.path + "/" + fd.id
	parent.rd.folders[fd.id] = fd
	return &Folder{RD: f.RD, ID: fd.id, Name: name, Path: fd.path}
}

// NewMember creates an account in folder f. Resource Directory creates
// the member's ResourceDirectoryAccountAccessRole, trusted by the
// management account and holding AdministratorAccess (ram-sts.md §10.1;
// the exact trust and permission text is inferred). It returns nil if f
// does not belong to a cloud.
func (f *Folder) NewMember(name string) *Account {
	if f == nil || f.RD == nil || f.RD.Management == nil || f.RD.Management.c == nil {
		return nil
	}
	c := f.RD.Management.c
	c.mu.Lock()
	defer c.mu.Unlock()
	fd := f.state()
	if fd == nil {
		return nil
	}
	a := c.newAccountLocked(name)
	c.joinLocked(c.accounts[a.ID], fd)
	return a
}

// AddMember moves an existing account (not a management account) into
// folder f, creating its access role if it has none.
func (f *Folder) AddMember(a *Account) error {
	if f == nil || f.RD == nil || f.RD.Management == nil || f.RD.Management.c == nil || a == nil || a.c != f.RD.Management.c {
		return errForeign
	}
	c := f.RD.Management.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct, fd := a.state(), f.state()
	if acct == nil || fd == nil {
		return errForeign
	}
	if acct.manages != nil {
		return errors.New("fakecloud: a management account cannot join another resource directory")
	}
	if rd := acct.rd(); rd != nil && rd != fd.rd {
		return errors.New("fakecloud: account " + a.ID + " is a member of another resource directory")
	}
	c.joinLocked(acct, fd)
	return nil
}

func (c *Cloud) joinLocked(acct *account, fd *folder) {
	acct.folder = fd
	if acct.roles[strings.ToLower(arn.ResourceDirectoryAccessRoleName)] != nil {
		return
	}
	trust, err := policy.TrustRAM(arn.AccountRoot(fd.rd.mgmt.id))
	if err != nil {
		return // the management account's ID is valid: Cloud made it
	}
	if r, err := c.newRoleLocked(acct, arn.ResourceDirectoryAccessRoleName, trust.String(), "AdministratorAccess"); err == nil {
		r.description = "Resource Directory access role"
	}
}
