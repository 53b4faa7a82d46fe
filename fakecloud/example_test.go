package fakecloud_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
)

// A Security account shares a key with an application account of its
// Resource Directory (workflow W1), and the application uses it once the
// change has propagated.
func Example() {
	ctx, rt := context.Background(), &dara.RuntimeOptions{}
	clock := fakecloud.NewManualClock(time.Time{})
	cloud := fakecloud.New(fakecloud.Options{Clock: clock, Seed: 1, PropagationDelay: time.Minute})
	mgmt := cloud.NewAccount("management")
	rd, _ := cloud.NewResourceDirectory(mgmt)
	app := rd.Root().NewFolder("apps").NewMember("app-1")
	sec := rd.Root().NewMember("security")
	key, _ := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 10}).NewKey(fakecloud.KeyOptions{})
	admin, _ := sec.NewUser("admin", "AdministratorAccess")
	pipeline, _ := mgmt.NewUser("pipeline", "AdministratorAccess")

	// The Security admin adds app-1's access role to the key policy.
	owner, _ := kms.NewClient(cloud.Config(admin.Credentials(), "cn-hangzhou"))
	policy := `{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::` + sec.ID + `:*"]},"Resource":["*"]},` +
		`{"Action":["kms:GenerateDataKey","kms:Decrypt"],"Effect":"Allow","Principal":{"RAM":["` +
		arn.ResourceDirectoryAccessRole(app.ID).String() + `"]},"Resource":["*"]}],"Version":"1"}`
	if _, err := owner.SetKeyPolicyWithContext(ctx, &kms.SetKeyPolicyRequest{KeyId: tea.String(key.ID), Policy: tea.String(policy)}, rt); err != nil {
		fmt.Println(err)
		return
	}

	// The pipeline enters app-1 through its access role and uses the key.
	stsClient, _ := sts.NewClient(cloud.Config(pipeline.Credentials(), "cn-hangzhou"))
	out, err := stsClient.AssumeRoleWithContext(ctx, &sts.AssumeRoleRequest{
		RoleArn: tea.String(arn.ResourceDirectoryAccessRole(app.ID).String()), RoleSessionName: tea.String("deploy")}, rt)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := out.Body.Credentials
	session := fakecloud.NewCredentials(*c.AccessKeyId, *c.AccessKeySecret, *c.SecurityToken)
	appKMS, _ := kms.NewClient(cloud.Config(session, "cn-hangzhou"))
	generate := func() string {
		_, err := appKMS.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{KeyId: tea.String(key.ARN)}, rt)
		var e *tea.SDKError
		if errors.As(err, &e) {
			return tea.StringValue(e.Code)
		}
		return "ok"
	}
	fmt.Println("at once:", generate())
	clock.Advance(time.Minute)
	fmt.Println("a minute later:", generate())
	fmt.Println("SetKeyPolicy calls:", cloud.Log().Count(fakecloud.Match{Action: "SetKeyPolicy", Status: 200}))
	// Output:
	// at once: Forbidden.NoPermission
	// a minute later: ok
	// SetKeyPolicy calls: 1
}
