package alicloud_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// TestDirectory reads a Resource Directory through the adapter: every
// page of a listing of more members than a page holds, folders, one
// member's path, and refusals classified.
func TestDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cloud := fakecloud.New(fakecloud.Options{Seed: 2})
	mgmt := cloud.NewAccount("management")
	rd, err := cloud.NewResourceDirectory(mgmt)
	if err != nil {
		t.Fatal(err)
	}
	apps := rd.Root().NewFolder("apps")
	prod := apps.NewFolder("prod")
	for i := 0; i < 230; i++ {
		prod.NewMember(fmt.Sprintf("m%d", i))
	}
	one := apps.NewMember("one")
	pipeline, err := mgmt.NewUser("pipeline", "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	d, err := alicloud.DirectoryFromConfig(cloud.Config(pipeline.Credentials(), "cn-hangzhou"), cloudapi.DefaultRetry())
	if err != nil {
		t.Fatal(err)
	}
	info, err := d.GetResourceDirectory(ctx)
	if err != nil || info.ID != rd.ID || info.RootFolderID != rd.Root().ID || info.Management != mgmt.ID {
		t.Fatalf("GetResourceDirectory = %+v, %v", info, err)
	}
	all, err := d.ListAccounts(ctx)
	if err != nil || len(all) != 232 { // the management account, 230 in prod, one
		t.Fatalf("ListAccounts: %d members, %v", len(all), err)
	}
	seen := map[string]bool{}
	for _, m := range all {
		if seen[m.AccountID] || m.Path == "" {
			t.Fatalf("member %+v listed twice or without a path", m)
		}
		seen[m.AccountID] = true
	}
	inProd, err := d.ListAccountsForParent(ctx, prod.ID)
	if err != nil || len(inProd) != 230 {
		t.Fatalf("ListAccountsForParent: %d, %v", len(inProd), err)
	}
	top, err := d.ListFoldersForParent(ctx, "")
	if err != nil || len(top) != 1 || top[0].ID != apps.ID || top[0].Name != "apps" {
		t.Fatalf("ListFoldersForParent(root) = %+v, %v", top, err)
	}
	m, err := d.GetAccount(ctx, one.ID)
	if err != nil || m.FolderID != apps.ID || m.Path != apps.Path+"/"+one.ID {
		t.Fatalf("GetAccount = %+v, %v", m, err)
	}
	if _, err := d.GetAccount(ctx, cloud.NewAccount("outsider").ID); !errors.Is(err, cloudapi.ErrNotFound) {
		t.Fatalf("GetAccount of an outsider: %v, want ErrNotFound", err)
	}
	member, err := alicloud.DirectoryFromConfig(cloud.Config(one.RootCredentials(), "cn-hangzhou"), cloudapi.DefaultRetry())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := member.ListAccounts(ctx); !errors.Is(err, cloudapi.ErrAccessDenied) {
		t.Fatalf("ListAccounts as a member: %v, want ErrAccessDenied", err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.ListAccounts(ctx2); !errors.Is(err, context.Canceled) {
		t.Fatalf("ListAccounts with a cancelled context: %v", err)
	}
}
