package fakecloud_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/fakecloud"
)

// Keys of a VPC-only KMS instance answer cryptographic calls from a VPC,
// over the Internet only once the owner turned Internet access on for the
// caller's account, and through the dedicated gateway only from a bound
// VPC.
func ExampleOrigin() {
	ctx, rt := context.Background(), &dara.RuntimeOptions{}
	cloud := fakecloud.New(fakecloud.Options{Clock: fakecloud.NewManualClock(time.Time{})})
	sec := cloud.NewAccount("security")
	inst := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{VPCOnly: true,
		BindVPCs: []fakecloud.VPC{{ID: "vpc-apps"}}})
	key, _ := inst.NewKey(fakecloud.KeyOptions{})
	app, _ := sec.NewUser("app", "AliyunKMSFullAccess")

	generate := func(from string, client *kms.Client) {
		_, err := client.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{KeyId: tea.String(key.ARN)}, rt)
		var sdk *tea.SDKError
		var dns *net.DNSError
		switch {
		case err == nil:
			fmt.Printf("%s: ok\n", from)
		case errors.As(err, &sdk):
			fmt.Printf("%s: %s\n", from, tea.StringValue(sdk.Code))
		case errors.As(err, &dns):
			fmt.Printf("%s: %s: %s\n", from, dns.Name, dns.Err)
		default:
			fmt.Printf("%s: %v\n", from, err)
		}
	}
	internet, _ := kms.NewClient(cloud.Config(app.Credentials(), "cn-hangzhou"))
	generate("Internet", internet)
	inst.SetInternetAccess(sec.ID, true)
	generate("Internet, switched on", internet)

	other, _ := kms.NewClient(cloud.DedicatedConfig(app.Credentials(), "cn-hangzhou", inst.ID, fakecloud.FromVPC(sec.ID, "vpc-other")))
	generate("dedicated gateway from vpc-other", other)
	bound, _ := kms.NewClient(cloud.DedicatedConfig(app.Credentials(), "cn-hangzhou", inst.ID, fakecloud.FromVPC(sec.ID, "vpc-apps")))
	generate("dedicated gateway from vpc-apps", bound)
	// Output:
	// Internet: Forbidden.InternetAccessDisabled
	// Internet, switched on: ok
	// dedicated gateway from vpc-other: kst-hzz4ji7gygxdhrmr7e5q.cryptoservice.kms.aliyuncs.com: no such host
	// dedicated gateway from vpc-apps: ok
}
