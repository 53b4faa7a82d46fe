package ecsroles

import (
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// ecsService returns the host of the ECS service principal.
func ecsService() string { return arn.ECS("").Service }

type scope int

const (
	scopeNone scope = iota
	scopeAccounts
	scopeDirectory
	scopeFolder
)

// Trusted says whose ECS service may assume a share role: the ECS service
// acting for a list of accounts, for every account of a resource directory,
// or for every account in one folder of a resource directory and the folders
// below it. Make one with Accounts, ResourceDirectory or Folder; the inputs
// are checked when a role is built from it. The zero value trusts nobody and
// is refused.
type Trusted struct {
	scope    scope
	accounts []string
	id       string // the resource directory ID or the folder path
}

// Accounts trusts the ECS service acting for each of the given accounts
// (recipient UIDs): Principal.Service "<uid>@ecs.aliyuncs.com", one entry
// per account. The emitted list is sorted, so the document does not depend
// on the order given.
func Accounts(uids ...string) Trusted {
	return Trusted{scope: scopeAccounts, accounts: slices.Clone(uids)}
}

// ResourceDirectory trusts the ECS service acting for any account of the
// resource directory rdID ("rd-..."): Principal.Service "*@ecs.aliyuncs.com"
// with StringEquals sts:ServiceOwnerRDId. Unverified: the condition key and
// the "*@" principal come from the project's template only (ram-sts.md §11.3).
func ResourceDirectory(rdID string) Trusted {
	return Trusted{scope: scopeDirectory, id: rdID}
}

// Folder trusts the ECS service acting for any account in the resource
// directory folder at path ("rd-xxx/r-xxx/fd-xxx/...", the folder's
// ResourceDirectoryPath) or in a folder below it: Principal.Service
// "*@ecs.aliyuncs.com" with StringLike sts:ServiceOwnerRDPath "<path>*".
// Unverified like ResourceDirectory.
func Folder(path string) Trusted {
	return Trusted{scope: scopeFolder, id: path}
}

// String describes the scope for plans and messages.
func (t Trusted) String() string {
	switch t.scope {
	case scopeAccounts:
		return "ECS of accounts " + strings.Join(t.accounts, ", ")
	case scopeDirectory:
		return "ECS of every account in resource directory " + t.id
	case scopeFolder:
		return "ECS of every account in folder " + t.id + " and below"
	}
	return "nobody"
}

// document validates t for a role in account owner and builds its trust
// policy.
func (t Trusted) document(role, owner string) (*policy.Document, error) {
	switch t.scope {
	case scopeAccounts:
		return t.accountsDocument(role, owner)
	case scopeDirectory:
		d, err := policy.TrustServiceInResourceDirectory(ecsService(), t.id)
		if err != nil {
			return nil, &Error{Role: role, Input: "resource directory ID", Value: t.id, Err: err}
		}
		return d, nil
	case scopeFolder:
		d, err := policy.TrustServiceInFolder(ecsService(), t.id)
		if err != nil {
			return nil, &Error{Role: role, Input: "folder path", Value: t.id, Err: err}
		}
		return d, nil
	}
	return nil, &Error{Role: role, Input: "trust", Reason: "no trust scope chosen; use Accounts, ResourceDirectory or Folder"}
}

func (t Trusted) accountsDocument(role, owner string) (*policy.Document, error) {
	if len(t.accounts) == 0 {
		return nil, &Error{Role: role, Input: "trust", Reason: "empty account list; name at least one account to share with"}
	}
	uids := slices.Clone(t.accounts)
	slices.Sort(uids)
	services := make([]arn.ServicePrincipal, 0, len(uids))
	for i, uid := range uids {
		if err := arn.ValidateAccountID(uid); err != nil {
			return nil, &Error{Role: role, Input: "account", Value: uid, Err: err}
		}
		if i > 0 && uid == uids[i-1] {
			return nil, &Error{Role: role, Input: "account", Value: uid, Reason: "listed twice"}
		}
		if uid == owner {
			return nil, &Error{Role: role, Input: "account", Value: uid,
				Reason: "is the sharer's own account; sharing with yourself is not a share, and the role is needed only for other accounts"}
		}
		services = append(services, arn.ECS(uid))
	}
	// Always the "<uid>@" form: a plain ecs.aliyuncs.com here is what makes
	// ECS fail with AssumeRoleError for the recipients.
	d, err := policy.TrustService(services...)
	if err != nil {
		return nil, &Error{Role: role, Input: "trust", Err: err}
	}
	return d, nil
}
