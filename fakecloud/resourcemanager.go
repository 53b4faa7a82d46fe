package fakecloud

import (
	"errors"
	"sort"
	"strings"

	rm "github.com/alibabacloud-go/resourcemanager-20200331/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// ResourceManager 2020-03-31, the Resource Directory part that kmsshare
// reads: GetResourceDirectory, ListAccounts, ListAccountsForParent,
// ListFoldersForParent and GetAccount. (The SDK v3.3.0 names the folder
// listing ListFoldersForParent; corrections.md §7 calls it
// ListFoldersForParentFolder, which does not exist in the SDK.)
//
// Authorization (documented: "You can use only the management account of a
// resource directory or a delegated administrator account of a trusted
// service to call this operation", ListAccounts; GetResourceDirectory also
// answers members with the directory they belong to):
//
//   - GetResourceDirectory: any account of a directory, the management
//     account or a member;
//   - the other four: the management account only; delegated
//     administrators are not emulated;
//   - RAM users and role sessions need resourcemanager:<Action> on
//     acs:resourcemanager:*:<management-uid>:* (the resource form is
//     assumed), as RAM decides every call.
//
// Paging: PageNumber from 1, PageSize 1 to 100, default 10 (the SDK's
// documented values). Accounts are listed in UID order (the real order is
// undocumented). A refusal to a member is NoPermission (assumed), an
// unknown directory, folder or account EntityNotExists.ResourceDirectory,
// EntityNotExists.Folder or EntityNotExists.Account (assumed, 404).

const versionResourceManager = "2020-03-31"

// rmPageMax is the largest PageSize the listings accept.
const rmPageMax = 100

// rmDirectory authorizes action and returns the directory the caller may
// read: the one it manages, or, if member is true, the one it belongs to.
func (k *call) rmDirectory(action string, member bool) (*resourceDirectory, *Error) {
	acct := k.who.acct
	rd := acct.manages
	if rd == nil && member {
		rd = acct.rd()
	}
	if rd == nil {
		if acct.rd() != nil {
			return nil, k.fail("NoPermission", "only the management account of the resource directory may call "+action)
		}
		return nil, k.fail("EntityNotExists.ResourceDirectory", "account "+acct.id+" is not in a resource directory")
	}
	if !k.allowed("resourcemanager:"+action, "acs:resourcemanager:*:"+rd.mgmt.id+":*") {
		return nil, k.fail("NoPermission", "")
	}
	k.target = rd.mgmt.id
	return rd, nil
}

func (k *call) rmGetResourceDirectory() (any, *Error) {
	rd, e := k.rmDirectory("GetResourceDirectory", true)
	if e != nil {
		return nil, e
	}
	return &rm.GetResourceDirectoryResponseBody{RequestId: k.requestID(),
		ResourceDirectory: &rm.GetResourceDirectoryResponseBodyResourceDirectory{
			ResourceDirectoryId: tea.String(rd.id), RootFolderId: tea.String(rd.root.id),
			MasterAccountId: tea.String(rd.mgmt.id), MasterAccountName: tea.String(rd.mgmt.name),
			ControlPolicyStatus: tea.String("Disabled"), MemberDeletionStatus: tea.String("Disabled"),
		}}, nil
}

// rdMembers returns the accounts of rd (in fd only, if fd is not nil) in
// UID order.
func (c *Cloud) rdMembers(rd *resourceDirectory, fd *folder) []*account {
	var out []*account
	for _, a := range c.accounts {
		if a.folder != nil && a.folder.rd == rd && (fd == nil || a.folder == fd) {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// memberType is the member's Type: the management account and invited
// accounts are CloudAccount, members created in the directory
// ResourceAccount. The emulator does not tell the last two apart.
func memberType(rd *resourceDirectory, a *account) string {
	if a == rd.mgmt {
		return "CloudAccount"
	}
	return "ResourceAccount"
}

func (k *call) rmListAccounts() (any, *Error) {
	rd, e := k.rmDirectory("ListAccounts", false)
	if e != nil {
		return nil, e
	}
	page, size, e := k.paging(10, rmPageMax)
	if e != nil {
		return nil, e
	}
	all := k.c.rdMembers(rd, nil)
	body := &rm.ListAccountsResponseBody{RequestId: k.requestID(), PageNumber: tea.Int32(int32(page)),
		PageSize: tea.Int32(int32(size)), TotalCount: tea.Int32(int32(len(all))),
		Accounts: &rm.ListAccountsResponseBodyAccounts{Account: []*rm.ListAccountsResponseBodyAccountsAccount{}}}
	for _, a := range pageOf(all, page, size) {
		body.Accounts.Account = append(body.Accounts.Account, &rm.ListAccountsResponseBodyAccountsAccount{
			AccountId: tea.String(a.id), DisplayName: tea.String(a.name), FolderId: tea.String(a.folder.id),
			ResourceDirectoryId: tea.String(rd.id), ResourceDirectoryPath: tea.String(a.rdPath()),
			Status: tea.String("CreateSuccess"), Type: tea.String(memberType(rd, a)), JoinMethod: tea.String(joinMethod(rd, a)),
		})
	}
	return body, nil
}

func joinMethod(rd *resourceDirectory, a *account) string {
	if a == rd.mgmt {
		return "invited"
	}
	return "created"
}

// rmFolder returns the folder named by param, which must be in rd; empty
// means def (nil: the parameter is required).
func (k *call) rmFolder(rd *resourceDirectory, param string, def *folder) (*folder, *Error) {
	id := k.param(param)
	if id == "" {
		if def == nil {
			return nil, k.fail("MissingParameter", param)
		}
		return def, nil
	}
	fd := rd.folders[id]
	if fd == nil {
		return nil, k.fail("EntityNotExists.Folder", id)
	}
	return fd, nil
}

func (k *call) rmListAccountsForParent() (any, *Error) {
	rd, e := k.rmDirectory("ListAccountsForParent", false)
	if e != nil {
		return nil, e
	}
	fd, e := k.rmFolder(rd, "ParentFolderId", nil)
	if e != nil {
		return nil, e
	}
	page, size, e := k.paging(10, rmPageMax)
	if e != nil {
		return nil, e
	}
	var all []*account
	kw := strings.ToLower(k.param("QueryKeyword"))
	for _, a := range k.c.rdMembers(rd, fd) {
		if kw == "" || strings.Contains(strings.ToLower(a.name), kw) || strings.Contains(a.id, kw) {
			all = append(all, a)
		}
	}
	body := &rm.ListAccountsForParentResponseBody{RequestId: k.requestID(), PageNumber: tea.Int32(int32(page)),
		PageSize: tea.Int32(int32(size)), TotalCount: tea.Int32(int32(len(all))),
		Accounts: &rm.ListAccountsForParentResponseBodyAccounts{Account: []*rm.ListAccountsForParentResponseBodyAccountsAccount{}}}
	for _, a := range pageOf(all, page, size) {
		body.Accounts.Account = append(body.Accounts.Account, &rm.ListAccountsForParentResponseBodyAccountsAccount{
			AccountId: tea.String(a.id), DisplayName: tea.String(a.name), FolderId: tea.String(a.folder.id),
			ResourceDirectoryId: tea.String(rd.id), Status: tea.String("CreateSuccess"),
			Type: tea.String(memberType(rd, a)), JoinMethod: tea.String(joinMethod(rd, a)),
		})
	}
	return body, nil
}

// parentPath is the path of a folder's parent ("" for the root).
func parentPath(fd *folder) string {
	i := strings.LastIndexByte(fd.path, '/')
	if fd.rd.root == fd || i < 0 {
		return ""
	}
	return fd.path[:i]
}

// subfolders returns the folders directly below fd, by name then ID.
func subfolders(fd *folder) []*folder {
	var out []*folder
	for _, f := range fd.rd.folders {
		if f != fd.rd.root && parentPath(f) == fd.path {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].id < out[j].id
	})
	return out
}

func (k *call) rmListFoldersForParent() (any, *Error) {
	rd, e := k.rmDirectory("ListFoldersForParent", false)
	if e != nil {
		return nil, e
	}
	fd, e := k.rmFolder(rd, "ParentFolderId", rd.root)
	if e != nil {
		return nil, e
	}
	page, size, e := k.paging(10, rmPageMax)
	if e != nil {
		return nil, e
	}
	var all []*folder
	kw := strings.ToLower(k.param("QueryKeyword"))
	for _, f := range subfolders(fd) {
		if kw == "" || strings.Contains(strings.ToLower(f.name), kw) {
			all = append(all, f)
		}
	}
	body := &rm.ListFoldersForParentResponseBody{RequestId: k.requestID(), PageNumber: tea.Int32(int32(page)),
		PageSize: tea.Int32(int32(size)), TotalCount: tea.Int32(int32(len(all))),
		Folders: &rm.ListFoldersForParentResponseBodyFolders{Folder: []*rm.ListFoldersForParentResponseBodyFoldersFolder{}}}
	for _, f := range pageOf(all, page, size) {
		body.Folders.Folder = append(body.Folders.Folder, &rm.ListFoldersForParentResponseBodyFoldersFolder{
			FolderId: tea.String(f.id), FolderName: tea.String(f.name)})
	}
	return body, nil
}

func (k *call) rmGetAccount() (any, *Error) {
	rd, e := k.rmDirectory("GetAccount", false)
	if e != nil {
		return nil, e
	}
	id, e := k.required("AccountId")
	if e != nil {
		return nil, e
	}
	a := k.c.accounts[id]
	if a == nil || a.rd() != rd {
		return nil, k.fail("EntityNotExists.Account", id)
	}
	return &rm.GetAccountResponseBody{RequestId: k.requestID(), Account: &rm.GetAccountResponseBodyAccount{
		AccountId: tea.String(a.id), AccountName: tea.String(a.name), DisplayName: tea.String(a.name),
		FolderId: tea.String(a.folder.id), ResourceDirectoryId: tea.String(rd.id),
		ResourceDirectoryPath: tea.String(a.rdPath()), Status: tea.String("CreateSuccess"),
		Type: tea.String(memberType(rd, a)), JoinMethod: tea.String(joinMethod(rd, a)),
	}}, nil
}

// ---- set-up: members join (Folder.NewMember, Folder.AddMember), move
// between folders (Folder.AddMember of a member) and leave (RemoveMember).

// RemoveMember makes a member leave the directory. Its
// ResourceDirectoryAccountAccessRole stays, as a removed account keeps its
// roles (what Resource Directory does with the role is undocumented); the
// management account cannot leave.
func (rd *ResourceDirectory) RemoveMember(a *Account) error {
	if rd == nil || rd.Management == nil || rd.Management.c == nil || a == nil || a.c != rd.Management.c {
		return errForeign
	}
	c := rd.Management.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct, mgmt := a.state(), rd.Management.state()
	if acct == nil || mgmt == nil || mgmt.manages == nil {
		return errForeign
	}
	if acct == mgmt {
		return errors.New("fakecloud: the management account cannot leave its resource directory")
	}
	if acct.rd() != mgmt.manages {
		return errors.New("fakecloud: account " + a.ID + " is not a member of " + rd.ID)
	}
	acct.folder = nil
	return nil
}

// FolderOf returns the folder a is in, or nil if it is not in rd.
func (rd *ResourceDirectory) FolderOf(a *Account) *Folder {
	if rd == nil || rd.Management == nil || rd.Management.c == nil || a == nil || a.c != rd.Management.c {
		return nil
	}
	c := rd.Management.c
	c.mu.RLock()
	defer c.mu.RUnlock()
	acct, mgmt := a.state(), rd.Management.state()
	if acct == nil || mgmt == nil || acct.folder == nil || acct.folder.rd != mgmt.manages {
		return nil
	}
	return &Folder{RD: rd, ID: acct.folder.id, Name: acct.folder.name, Path: acct.folder.path}
}
