package share_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// A manifest grants keys to a Resource Directory folder and its
// sub-folders; the plan shows each member with its folder, one key-policy
// write per key, and the instance's quota. Onboard then gives a member that
// joins later the same keys, without reading any other account.
func ExampleClient_PlanManifest() {
	clock := fakecloud.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	cloud := fakecloud.New(fakecloud.Options{Clock: clock, Seed: 42})
	mgmt := cloud.NewAccount("management")
	rd, _ := cloud.NewResourceDirectory(mgmt)
	security := rd.Root().NewMember("security")
	apps := rd.Root().NewFolder("apps")
	prod := apps.NewFolder("prod")
	apps.NewMember("app-1")
	prod.NewMember("prod-1")
	inst := security.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 5})
	k1, _ := inst.NewKey(fakecloud.KeyOptions{})
	k2, _ := inst.NewKey(fakecloud.KeyOptions{})
	pipeline, _ := mgmt.NewUser("pipeline", "AdministratorAccess")

	m, err := share.ParseManifest([]byte(`{"version": 1, "grants": [
	  {"keys": ["` + k1.ARN + `", "` + k2.ARN + `"],
	   "recipients": {"folders": [{"folder": "apps", "subfolders": true}]}}]}`))
	if err != nil {
		panic(err)
	}
	c, err := share.New(cloud.Config(pipeline.Credentials(), "cn-hangzhou"), func(o *share.Options) {
		o.Clock = manualClock{clock}
		o.SettleDelay = time.Millisecond
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	plan, err := c.PlanManifest(ctx, m, share.ManifestOptions{})
	if err != nil {
		panic(err)
	}
	for _, a := range plan.Accounts {
		fmt.Printf("%s in %s gets %d keys\n", a.Name, a.Folder, len(a.Keys))
	}
	res, err := c.ApplyManifest(ctx, plan)
	if err != nil {
		panic(err)
	}
	fmt.Println("key-policy writes:", res.Writes())

	newcomer := prod.NewMember("prod-2")
	ob, err := c.Onboard(ctx, m, newcomer.ID)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s (found in prod: %v) onboarded: %d keys, %d key-policy writes\n", newcomer.Name, ob.Account.FolderID == prod.ID, len(ob.Account.Keys), ob.Result.Writes())
	// Output:
	// app-1 in Root/apps gets 2 keys
	// prod-1 in Root/apps/prod gets 2 keys
	// key-policy writes: 2
	// prod-2 (found in prod: true) onboarded: 2 keys, 2 key-policy writes
}
