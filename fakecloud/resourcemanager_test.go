package fakecloud

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rm "github.com/alibabacloud-go/resourcemanager-20200331/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

var rmRT = &util.RuntimeOptions{}

// exerciseResourceManager calls every ResourceManager operation once
// successfully as the management account's pipeline user (TestOperations
// checks that every operation of the dispatch table ran).
func exerciseResourceManager(t *testing.T, w *world, cfg func(Credentials) *openapi.Config) {
	t.Helper()
	cl := must(rm.NewClient(cfg(w.pipeline.Credentials())))
	if _, err := cl.GetResourceDirectoryWithOptions(rmRT); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ListAccountsWithOptions(&rm.ListAccountsRequest{}, rmRT); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ListAccountsForParentWithOptions(&rm.ListAccountsForParentRequest{ParentFolderId: tea.String(w.apps.ID)}, rmRT); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ListFoldersForParentWithOptions(&rm.ListFoldersForParentRequest{}, rmRT); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetAccountWithOptions(&rm.GetAccountRequest{AccountId: tea.String(w.app1.ID)}, rmRT); err != nil {
		t.Fatal(err)
	}
}

// TestResourceDirectoryAPI reads the directory through the real
// ResourceManager client over both transports: the directory, paged member
// listings, folders, one member's folder and path; members moving between
// folders and leaving; who may call.
func TestResourceDirectoryAPI(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, Options{Seed: 3})
			prod := w.apps.NewFolder("prod")
			var prodMembers []*Account
			for i := 0; i < 23; i++ {
				prodMembers = append(prodMembers, prod.NewMember(fmt.Sprintf("prod-%02d", i)))
			}
			cfg := configFor(t, w.c, tr)
			cl := must(rm.NewClient(cfg(w.pipeline.Credentials())))

			d, err := cl.GetResourceDirectoryWithOptions(rmRT)
			if err != nil {
				t.Fatal(err)
			}
			if r := d.Body.ResourceDirectory; tea.StringValue(r.ResourceDirectoryId) != w.rd.ID ||
				tea.StringValue(r.RootFolderId) != w.rd.Root().ID || tea.StringValue(r.MasterAccountId) != w.mgmt.ID {
				t.Fatalf("GetResourceDirectory = %v", r)
			}

			// ListAccounts: default page size 10, every member once, paths.
			first, err := cl.ListAccountsWithOptions(&rm.ListAccountsRequest{}, rmRT)
			if err != nil {
				t.Fatal(err)
			}
			total := 1 + 2 + 1 + 23 // management, app-1, app-2, security, prod
			if n := len(first.Body.Accounts.Account); n != 10 || tea.Int32Value(first.Body.TotalCount) != int32(total) || tea.Int32Value(first.Body.PageSize) != 10 {
				t.Fatalf("first page: %d accounts, total %d, size %d", n, tea.Int32Value(first.Body.TotalCount), tea.Int32Value(first.Body.PageSize))
			}
			seen := map[string]string{}
			for page := int32(1); ; page++ {
				resp, err := cl.ListAccountsWithOptions(&rm.ListAccountsRequest{PageNumber: tea.Int32(page), PageSize: tea.Int32(7)}, rmRT)
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.Body.Accounts.Account) == 0 {
					break
				}
				for _, a := range resp.Body.Accounts.Account {
					id := tea.StringValue(a.AccountId)
					if _, dup := seen[id]; dup {
						t.Fatalf("account %s listed twice", id)
					}
					seen[id] = tea.StringValue(a.ResourceDirectoryPath)
				}
			}
			if len(seen) != total {
				t.Fatalf("paged listing saw %d accounts, want %d", len(seen), total)
			}
			if want := prod.Path + "/" + prodMembers[3].ID; seen[prodMembers[3].ID] != want {
				t.Errorf("path of a prod member = %q, want %q", seen[prodMembers[3].ID], want)
			}
			if want := w.rd.Root().Path + "/" + w.mgmt.ID; seen[w.mgmt.ID] != want {
				t.Errorf("path of the management account = %q, want %q", seen[w.mgmt.ID], want)
			}
			_, err = cl.ListAccountsWithOptions(&rm.ListAccountsRequest{PageSize: tea.Int32(101)}, rmRT)
			wantCode(t, err, "InvalidParameter")

			// ListAccountsForParent: direct members only, paged.
			var inProd []string
			for page := int32(1); page < 10; page++ {
				resp, err := cl.ListAccountsForParentWithOptions(&rm.ListAccountsForParentRequest{
					ParentFolderId: tea.String(prod.ID), PageNumber: tea.Int32(page), PageSize: tea.Int32(10)}, rmRT)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range resp.Body.Accounts.Account {
					if tea.StringValue(a.FolderId) != prod.ID {
						t.Errorf("member %s of prod has FolderId %s", tea.StringValue(a.AccountId), tea.StringValue(a.FolderId))
					}
					inProd = append(inProd, tea.StringValue(a.AccountId))
				}
			}
			if len(inProd) != 23 {
				t.Fatalf("prod has %d members listed, want 23", len(inProd))
			}
			apps, err := cl.ListAccountsForParentWithOptions(&rm.ListAccountsForParentRequest{ParentFolderId: tea.String(w.apps.ID)}, rmRT)
			if err != nil || tea.Int32Value(apps.Body.TotalCount) != 2 {
				t.Fatalf("apps members = %v, %v (want the 2 direct members)", apps, err)
			}
			_, err = cl.ListAccountsForParentWithOptions(&rm.ListAccountsForParentRequest{}, rmRT)
			wantCode(t, err, "MissingParameter")
			_, err = cl.ListAccountsForParentWithOptions(&rm.ListAccountsForParentRequest{ParentFolderId: tea.String("fd-nosuchfolder")}, rmRT)
			wantCode(t, err, "EntityNotExists.Folder")

			// Folders: the root's children by default, then below apps.
			top, err := cl.ListFoldersForParentWithOptions(&rm.ListFoldersForParentRequest{}, rmRT)
			if err != nil || len(top.Body.Folders.Folder) != 1 || tea.StringValue(top.Body.Folders.Folder[0].FolderId) != w.apps.ID ||
				tea.StringValue(top.Body.Folders.Folder[0].FolderName) != "apps" {
				t.Fatalf("root folders = %v, %v", top, err)
			}
			sub, err := cl.ListFoldersForParentWithOptions(&rm.ListFoldersForParentRequest{ParentFolderId: tea.String(w.apps.ID)}, rmRT)
			if err != nil || len(sub.Body.Folders.Folder) != 1 || tea.StringValue(sub.Body.Folders.Folder[0].FolderId) != prod.ID {
				t.Fatalf("apps folders = %v, %v", sub, err)
			}

			// GetAccount: folder and path; moving and leaving show at once.
			m := prodMembers[0]
			get := func(id string) (*rm.GetAccountResponseBodyAccount, error) {
				resp, err := cl.GetAccountWithOptions(&rm.GetAccountRequest{AccountId: tea.String(id)}, rmRT)
				if err != nil {
					return nil, err
				}
				return resp.Body.Account, nil
			}
			a, err := get(m.ID)
			if err != nil || tea.StringValue(a.FolderId) != prod.ID || tea.StringValue(a.ResourceDirectoryPath) != prod.Path+"/"+m.ID {
				t.Fatalf("GetAccount = %v, %v", a, err)
			}
			if err := w.apps.AddMember(m); err != nil { // moves it up to apps
				t.Fatal(err)
			}
			if a, err := get(m.ID); err != nil || tea.StringValue(a.FolderId) != w.apps.ID {
				t.Fatalf("after the move: %v, %v", a, err)
			}
			if f := w.rd.FolderOf(m); f == nil || f.ID != w.apps.ID {
				t.Fatalf("FolderOf after the move = %v", f)
			}
			if err := w.rd.RemoveMember(m); err != nil {
				t.Fatal(err)
			}
			_, err = get(m.ID)
			wantCode(t, err, "EntityNotExists.Account")
			if w.rd.FolderOf(m) != nil {
				t.Fatal("FolderOf a removed member is not nil")
			}
			if err := w.rd.RemoveMember(w.mgmt); err == nil {
				t.Fatal("the management account left its directory")
			}
			if err := w.rd.RemoveMember(m); err == nil {
				t.Fatal("a non-member was removed")
			}
			if err := prod.AddMember(m); err != nil { // and it joins again
				t.Fatal(err)
			}
			if a, err := get(m.ID); err != nil || tea.StringValue(a.FolderId) != prod.ID {
				t.Fatalf("after joining again: %v, %v", a, err)
			}
			_, err = get(w.c.NewAccount("outsider").ID)
			wantCode(t, err, "EntityNotExists.Account")

			// Who may call: a member reads its directory but lists nothing;
			// an account outside any directory has none; a RAM user needs
			// resourcemanager permissions.
			member := must(rm.NewClient(cfg(w.app1.RootCredentials())))
			if d, err := member.GetResourceDirectoryWithOptions(rmRT); err != nil || tea.StringValue(d.Body.ResourceDirectory.ResourceDirectoryId) != w.rd.ID {
				t.Fatalf("member GetResourceDirectory = %v, %v", d, err)
			}
			_, err = member.ListAccountsWithOptions(&rm.ListAccountsRequest{}, rmRT)
			wantCode(t, err, "NoPermission")
			_, err = member.GetAccountWithOptions(&rm.GetAccountRequest{AccountId: tea.String(w.app2.ID)}, rmRT)
			wantCode(t, err, "NoPermission")
			outsider := must(rm.NewClient(cfg(w.c.NewAccount("alone").RootCredentials())))
			_, err = outsider.GetResourceDirectoryWithOptions(rmRT)
			wantCode(t, err, "EntityNotExists.ResourceDirectory")
			reader := must(w.mgmt.NewUser("reader", "AliyunResourceDirectoryReadOnlyAccess"))
			nobody := must(w.mgmt.NewUser("nobody"))
			if _, err := must(rm.NewClient(cfg(reader.Credentials()))).ListAccountsWithOptions(&rm.ListAccountsRequest{}, rmRT); err != nil {
				t.Fatalf("read-only user: %v", err)
			}
			_, err = must(rm.NewClient(cfg(nobody.Credentials()))).ListAccountsWithOptions(&rm.ListAccountsRequest{}, rmRT)
			wantCode(t, err, "NoPermission")

			// The log names the service and the directory's management account.
			var actions []string
			for _, e := range w.c.Log().Entries(Match{Service: "resourcemanager", Status: 200}) {
				if e.TargetAccount != w.mgmt.ID {
					t.Errorf("log entry %+v: target is not the management account", e)
				}
				if !strings.Contains(strings.Join(actions, ","), e.Action) {
					actions = append(actions, e.Action)
				}
			}
			sort.Strings(actions)
			if len(actions) != 5 {
				t.Errorf("logged actions %v, want all five", actions)
			}
		})
	}
}
