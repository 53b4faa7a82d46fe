package aliesdk_test

import (
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/envelope/aliesdk"
	"github.com/kmsshare/kmsshare/fakecloud"
)

// Master keys of the emulated account: two in cn-hangzhou (a further key
// there is added by ReEncrypt) and one in cn-shanghai (added by Encrypt).
const (
	mainKey   = "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"
	secondKey = "acs:kms:cn-hangzhou:1192853035118460:key/key-hzzsecond000000000000"
	drKey     = "acs:kms:cn-shanghai:1192853035118460:key/key-shh0000dr00000000000a"
)

// world is an emulated Alibaba Cloud reached through the real KMS SDK
// client and the emulator's wire protocol.
type world struct {
	cloud *fakecloud.Cloud
	app   fakecloud.Credentials
}

func newWorld() (*world, error) {
	clock := fakecloud.NewManualClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	w := &world{cloud: fakecloud.New(fakecloud.Options{Clock: clock, Seed: 15})}
	acct, err := w.cloud.NewAccountWithID("1192853035118460", "security")
	if err != nil {
		return nil, err
	}
	for _, k := range []string{mainKey, secondKey, drKey} {
		a := arn.MustParse(k)
		if _, err := acct.NewKMSInstance(a.Region, fakecloud.InstanceOptions{Quota: 5}).NewKeyWithID(a.ResourceName(), fakecloud.KeyOptions{}); err != nil {
			return nil, err
		}
	}
	app, err := acct.NewUser("app", "AliyunKMSFullAccess")
	if err != nil {
		return nil, err
	}
	w.app = app.Credentials()
	return w, nil
}

// kmsClient returns the real SDK client for region, on the emulator.
func (w *world) kmsClient(region string) *kms.Client {
	client, err := kms.NewClient(w.cloud.Config(w.app, region))
	if err != nil {
		panic(err) // kms.NewClient fails only on a missing config
	}
	return client
}

// kms returns aliesdk's key service for region over the real SDK client.
func (w *world) kms(region string) *aliesdk.KMS { return aliesdk.NewKMS(w.kmsClient(region)) }

// calls counts successful requests of an action in the emulator's log.
func (w *world) calls(action string) int {
	return len(w.cloud.Log().Entries(fakecloud.Match{Action: action, Status: 200}))
}
