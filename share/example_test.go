package share_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// exampleCloud builds a small emulated Landing Zone: a management account
// with a pipeline user, a Security account with a KMS instance and a key,
// and one application account, all members of a resource directory. Its
// clock moves only when someone waits on it.
func exampleCloud() (cloud *fakecloud.Cloud, clock *fakecloud.ManualClock, pipeline *fakecloud.User, key *fakecloud.Key, app *fakecloud.Account) {
	clock = fakecloud.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	cloud = fakecloud.New(fakecloud.Options{Clock: clock, Seed: 42})
	mgmt := cloud.NewAccount("management")
	rd, _ := cloud.NewResourceDirectory(mgmt)
	security := rd.Root().NewMember("security")
	app = rd.Root().NewFolder("apps").NewMember("app-1")
	key, _ = security.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 5}).NewKey(fakecloud.KeyOptions{})
	pipeline, _ = mgmt.NewUser("pipeline", "AdministratorAccess")
	return cloud, clock, pipeline, key, app
}

// Plan shows what sharing a key with a member account's RD access role
// changes, before anything is changed.
func ExampleClient_Plan() {
	cloud, _, pipeline, key, app := exampleCloud()
	c, err := share.New(cloud.Config(pipeline.Credentials(), "cn-hangzhou"))
	if err != nil {
		panic(err)
	}
	spec := &share.Spec{Key: key.ARN, Recipients: []share.Recipient{{Account: app.ID, Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"}}}}
	plan, err := c.Plan(context.Background(), spec)
	if err != nil {
		panic(err)
	}
	fmt.Print(plan)
	// Output:
	// Share key acs:kms:cn-hangzhou:2318598454655885:key/key-hzz502sih69sa95g7u1bt49t
	//   key: Enabled, Aliyun_AES_256, ENCRYPT/DECRYPT, in KMS instance kst-hzzjzhzwundsgpnri3g0
	// Key policy (account 2318598454655885):
	//   + Allow RAM acs:ram::8356085866094522:role/resourcedirectoryaccountaccessrole kms:Decrypt, kms:GenerateDataKey on *
	//   access management quota of kst-hzzjzhzwundsgpnri3g0: 0 of 5 used, 1 new account(s)
	// Recipient acs:ram::8356085866094522:role/resourcedirectoryaccountaccessrole (rd-access-role):
	//   no change: its own RAM policies already allow the actions on the key
}

// Apply makes the change; Verify then uses the key from the member's own
// identity, polling until the share has propagated.
func ExampleClient_Verify() {
	cloud, clock, pipeline, key, app := exampleCloud()
	c, err := share.New(cloud.Config(pipeline.Credentials(), "cn-hangzhou"), func(o *share.Options) {
		o.Clock = clock // waiting (settle delays, Verify's polling) advances the emulated clock
	})
	if err != nil {
		panic(err)
	}
	spec := &share.Spec{Key: key.ARN, Recipients: []share.Recipient{{Account: app.ID}}}
	ctx := context.Background()
	res, err := c.Share(ctx, spec) // Plan, then Apply
	if err != nil {
		panic(err)
	}
	fmt.Print(res)
	rep, err := c.Verify(ctx, spec)
	if err != nil {
		panic(err)
	}
	for _, r := range rep.Results {
		fmt.Println(r.Principal, r.Outcome, r.Checked)
	}
	// Output:
	// acs:ram::8356085866094522:role/resourcedirectoryaccountaccessrole: granted in the key policy
	// Key policy: done (1 write(s))
	// acs:ram::8356085866094522:role/resourcedirectoryaccountaccessrole ok [DescribeKey GenerateDataKey Decrypt Encrypt]
}

// Apply makes the changes of a plan: the recipient's side first (here an
// application role and its policy on the key), then one write of the key
// policy, confirmed by reading it back. The result says what was done,
// step by step; applying the same plan again changes nothing.
func ExampleClient_Apply() {
	cloud, clock, pipeline, key, app := exampleCloud()
	c, err := share.New(cloud.Config(pipeline.Credentials(), "cn-hangzhou"), func(o *share.Options) {
		o.Clock = clock // waiting (settle delays, Verify's polling) advances the emulated clock
	})
	if err != nil {
		panic(err)
	}
	spec := &share.Spec{Key: key.ARN, Recipients: []share.Recipient{
		{Account: app.ID, Principal: share.PrincipalRole, Name: "orders", Actions: []string{"kms:Decrypt"}}}}
	ctx := context.Background()
	plan, err := c.Plan(ctx, spec)
	if err != nil {
		panic(err)
	}
	res, err := c.Apply(ctx, plan)
	if err != nil {
		panic(err)
	}
	for _, s := range res.Recipients[0].Steps {
		target := s.Step.Role // the role, or the policy a step is about
		if s.Step.Policy != "" {
			target = s.Step.Policy
		}
		fmt.Println(s.Status, s.Step.Action, target)
	}
	fmt.Println("key policy:", res.KeyPolicy.Status, res.KeyPolicy.Writes)

	plan, err = c.Plan(ctx, spec)
	if err != nil {
		panic(err)
	}
	res, err = c.Apply(ctx, plan)
	if err != nil {
		panic(err)
	}
	fmt.Println("again:", plan.Changes(), res.KeyPolicy.Status, res.KeyPolicy.Writes)
	// Output:
	// done create-role orders
	// done create-policy kmsshare-key-hzz502sih69sa95g7u1bt49t-884ee38a
	// done attach-policy kmsshare-key-hzz502sih69sa95g7u1bt49t-884ee38a
	// key policy: done 1
	// again: false already-done 0
}
