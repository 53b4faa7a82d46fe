package alicloud

import (
	"context"
	"fmt"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rm "github.com/alibabacloud-go/resourcemanager-20200331/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// Directory is the Resource Directory adapter (ResourceManager 2020-03-31).
// The SDK v3.3.0 has no context-aware methods, so ctx is checked before
// each call and bounds the retries, not a call in flight.
type Directory struct {
	pool  *pool[rm.Client]
	retry cloudapi.Retry
}

// rmEndpoint is ResourceManager's central endpoint.
const rmEndpoint = "resourcemanager.aliyuncs.com"

// Directory returns the Resource Directory adapter with the templates' own
// credentials. It is built from the KMS template: an emulator endpoint (or
// in-process client) is kept, a real KMS endpoint is replaced by
// ResourceManager's central one, and no endpoint lets the SDK pick its own.
func (f Factory) Directory() (*Directory, error) {
	cfg := *f.kms
	if ep := tea.StringValue(cfg.Endpoint); strings.HasSuffix(ep, ".aliyuncs.com") {
		cfg.Endpoint = tea.String(rmEndpoint)
	}
	d := &Directory{retry: f.retry, pool: newPool(func() (*rm.Client, error) {
		c := cfg // NewClient writes to its configuration
		return rm.NewClient(&c)
	})}
	if err := warm(d.pool, "resourcemanager"); err != nil {
		return nil, err
	}
	return d, nil
}

// DirectoryInfo is what GetResourceDirectory reports.
type DirectoryInfo struct {
	ID           string // rd-…
	RootFolderID string // r-…
	Management   string // the management account's UID
}

// Member is a member account as the listings and GetAccount report it.
// Path (ResourceDirectoryPath) is filled in by ListAccounts and GetAccount
// only.
type Member struct {
	AccountID   string
	DisplayName string
	FolderID    string
	Path        string
	Status      string
	Type        string
}

// Folder is a folder as ListFoldersForParent reports it.
type Folder struct {
	ID   string
	Name string
}

// rdPageSize is the largest page the listings allow.
const rdPageSize = 100

func rmRT() *util.RuntimeOptions { return &util.RuntimeOptions{} }

// GetResourceDirectory reads the directory the caller's account manages or
// belongs to.
func (d *Directory) GetResourceDirectory(ctx context.Context) (DirectoryInfo, error) {
	var out DirectoryInfo
	err := d.pool.do(ctx, d.retry, "resourcemanager", "GetResourceDirectory", func(ctx context.Context, cl *rm.Client) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		resp, err := cl.GetResourceDirectoryWithOptions(rmRT())
		if err != nil {
			return err
		}
		if resp.Body == nil || resp.Body.ResourceDirectory == nil {
			return fmt.Errorf("GetResourceDirectory: empty response")
		}
		r := resp.Body.ResourceDirectory
		out = DirectoryInfo{ID: tea.StringValue(r.ResourceDirectoryId), RootFolderID: tea.StringValue(r.RootFolderId),
			Management: tea.StringValue(r.MasterAccountId)}
		return nil
	})
	return out, err
}

// pages calls one page at a time until total items have been seen.
func pages[T any](ctx context.Context, fetch func(ctx context.Context, page int32) (got []T, total int32, err error)) ([]T, error) {
	var out []T
	for page := int32(1); ; page++ {
		got, total, err := fetch(ctx, page)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if len(got) == 0 || int32(len(out)) >= total {
			return out, nil
		}
	}
}

// ListAccounts lists every member of the directory, all pages.
func (d *Directory) ListAccounts(ctx context.Context) ([]Member, error) {
	return pages(ctx, func(ctx context.Context, page int32) ([]Member, int32, error) {
		var got []Member
		var total int32
		err := d.pool.do(ctx, d.retry, "resourcemanager", "ListAccounts", func(ctx context.Context, cl *rm.Client) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			resp, err := cl.ListAccountsWithOptions(&rm.ListAccountsRequest{PageNumber: tea.Int32(page), PageSize: tea.Int32(rdPageSize)}, rmRT())
			if err != nil {
				return err
			}
			if resp.Body == nil {
				return fmt.Errorf("ListAccounts: empty response")
			}
			got = got[:0]
			if resp.Body.Accounts != nil {
				for _, a := range resp.Body.Accounts.Account {
					got = append(got, Member{AccountID: tea.StringValue(a.AccountId), DisplayName: tea.StringValue(a.DisplayName),
						FolderID: tea.StringValue(a.FolderId), Path: tea.StringValue(a.ResourceDirectoryPath),
						Status: tea.StringValue(a.Status), Type: tea.StringValue(a.Type)})
				}
			}
			total = tea.Int32Value(resp.Body.TotalCount)
			return nil
		})
		return got, total, err
	})
}

// ListAccountsForParent lists the members directly in a folder, all pages.
func (d *Directory) ListAccountsForParent(ctx context.Context, folderID string) ([]Member, error) {
	return pages(ctx, func(ctx context.Context, page int32) ([]Member, int32, error) {
		var got []Member
		var total int32
		err := d.pool.do(ctx, d.retry, "resourcemanager", "ListAccountsForParent", func(ctx context.Context, cl *rm.Client) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			resp, err := cl.ListAccountsForParentWithOptions(&rm.ListAccountsForParentRequest{
				ParentFolderId: tea.String(folderID), PageNumber: tea.Int32(page), PageSize: tea.Int32(rdPageSize)}, rmRT())
			if err != nil {
				return err
			}
			if resp.Body == nil {
				return fmt.Errorf("ListAccountsForParent: empty response")
			}
			got = got[:0]
			if resp.Body.Accounts != nil {
				for _, a := range resp.Body.Accounts.Account {
					got = append(got, Member{AccountID: tea.StringValue(a.AccountId), DisplayName: tea.StringValue(a.DisplayName),
						FolderID: tea.StringValue(a.FolderId), Status: tea.StringValue(a.Status), Type: tea.StringValue(a.Type)})
				}
			}
			total = tea.Int32Value(resp.Body.TotalCount)
			return nil
		})
		return got, total, err
	})
}

// ListFoldersForParent lists the folders directly below a folder ("" for
// the root), all pages.
func (d *Directory) ListFoldersForParent(ctx context.Context, parentID string) ([]Folder, error) {
	return pages(ctx, func(ctx context.Context, page int32) ([]Folder, int32, error) {
		var got []Folder
		var total int32
		err := d.pool.do(ctx, d.retry, "resourcemanager", "ListFoldersForParent", func(ctx context.Context, cl *rm.Client) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			req := &rm.ListFoldersForParentRequest{PageNumber: tea.Int32(page), PageSize: tea.Int32(rdPageSize)}
			if parentID != "" {
				req.ParentFolderId = tea.String(parentID)
			}
			resp, err := cl.ListFoldersForParentWithOptions(req, rmRT())
			if err != nil {
				return err
			}
			if resp.Body == nil {
				return fmt.Errorf("ListFoldersForParent: empty response")
			}
			got = got[:0]
			if resp.Body.Folders != nil {
				for _, f := range resp.Body.Folders.Folder {
					got = append(got, Folder{ID: tea.StringValue(f.FolderId), Name: tea.StringValue(f.FolderName)})
				}
			}
			total = tea.Int32Value(resp.Body.TotalCount)
			return nil
		})
		return got, total, err
	})
}

// GetAccount reads one member: its folder and ResourceDirectoryPath.
func (d *Directory) GetAccount(ctx context.Context, accountID string) (Member, error) {
	var out Member
	err := d.pool.do(ctx, d.retry, "resourcemanager", "GetAccount", func(ctx context.Context, cl *rm.Client) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		resp, err := cl.GetAccountWithOptions(&rm.GetAccountRequest{AccountId: tea.String(accountID)}, rmRT())
		if err != nil {
			return err
		}
		if resp.Body == nil || resp.Body.Account == nil {
			return fmt.Errorf("GetAccount: empty response")
		}
		a := resp.Body.Account
		out = Member{AccountID: tea.StringValue(a.AccountId), DisplayName: tea.StringValue(a.DisplayName),
			FolderID: tea.StringValue(a.FolderId), Path: tea.StringValue(a.ResourceDirectoryPath),
			Status: tea.StringValue(a.Status), Type: tea.StringValue(a.Type)}
		return nil
	})
	return out, err
}

// DirectoryFromConfig returns a Resource Directory adapter for cfg, as
// FactoryFromConfig(cfg, retry).Directory() does.
func DirectoryFromConfig(cfg *openapi.Config, retry cloudapi.Retry) (*Directory, error) {
	return FactoryFromConfig(cfg, retry).Directory()
}
