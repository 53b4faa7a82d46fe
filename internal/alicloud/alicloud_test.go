package alicloud_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	t.Parallel()
	c := alicloud.NewCredentials("STS.tmp-id", "the-secret", "the-token", time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		if strings.Contains(s, "the-secret") || strings.Contains(s, "the-token") {
			t.Errorf("credentials printed as %q", s)
		}
	}
	if !strings.Contains(c.String(), "STS.tmp-id") {
		t.Errorf("String() = %q, want the access key ID", c.String())
	}
}

// TestConcurrentUse: one Clients value is used by many goroutines at once.
// The SDK clients underneath are not safe for that (darabonba-openapi
// writes Client.Headers on every call); the adapters' pools make it safe,
// which -race checks here.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	cloud := fakecloud.New(fakecloud.Options{Seed: 1})
	sec := cloud.NewAccount("security")
	key, err := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 2}).NewKey(fakecloud.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := alicloud.FactoryFromConfig(cloud.Config(sec.RootCredentials(), "cn-hangzhou"), cloudapi.DefaultRetry()).Base()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := clients.KMS.DescribeKey(context.Background(), key.ID); err != nil {
				errs <- err
			}
			if _, err := clients.STS.GetCallerIdentity(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSetKeyPolicyIsNotRetried: a throttled SetKeyPolicy comes back at
// once, because resending a merged document after a backoff could erase
// what another writer saved meanwhile; other calls are retried.
func TestSetKeyPolicyIsNotRetried(t *testing.T) {
	t.Parallel()
	cloud := fakecloud.New(fakecloud.Options{Seed: 1})
	sec := cloud.NewAccount("security")
	key, err := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 2}).NewKey(fakecloud.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	retry := cloudapi.DefaultRetry()
	retry.Sleep = func(context.Context, time.Duration) error { return nil }
	clients, err := alicloud.FactoryFromConfig(cloud.Config(sec.RootCredentials(), "cn-hangzhou"), retry).Base()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	doc, err := clients.KMS.GetKeyPolicy(ctx, key.ID)
	if err != nil {
		t.Fatal(err)
	}
	cloud.Faults().Add(fakecloud.Fault{Service: "kms", Throttle: 1})
	if err := clients.KMS.SetKeyPolicy(ctx, key.ID, doc); !errors.Is(err, cloudapi.ErrThrottled) {
		t.Fatalf("SetKeyPolicy = %v", err)
	}
	if n := len(cloud.Log().Entries(fakecloud.Match{Action: "SetKeyPolicy"})); n != 1 {
		t.Errorf("SetKeyPolicy sent %d times, want once", n)
	}
	if _, err := clients.KMS.GetKeyPolicy(ctx, key.ID); !errors.Is(err, cloudapi.ErrThrottled) {
		t.Fatalf("GetKeyPolicy = %v", err)
	}
	if n := len(cloud.Log().Entries(fakecloud.Match{Action: "GetKeyPolicy", Code: "Rejected.Throttling"})); n != retry.MaxAttempts {
		t.Errorf("GetKeyPolicy tried %d times, want %d", n, retry.MaxAttempts)
	}
}

// TestListKeysAndEncrypt: ListKeys reads every page (more keys than one
// page holds), and Encrypt's blob decrypts back under the same key.
func TestListKeysAndEncrypt(t *testing.T) {
	t.Parallel()
	cloud := fakecloud.New(fakecloud.Options{Seed: 2})
	sec := cloud.NewAccount("security")
	inst := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 2, KeyQuota: 300})
	want := map[string]bool{}
	var first *fakecloud.Key
	for i := 0; i < 230; i++ {
		k, err := inst.NewKey(fakecloud.KeyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = k
		}
		want[k.ARN] = true
	}
	clients, err := alicloud.FactoryFromConfig(cloud.Config(sec.RootCredentials(), "cn-hangzhou"), cloudapi.DefaultRetry()).Base()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := clients.KMS.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("ListKeys returned %d keys, want %d", len(got), len(want))
	}
	for _, a := range got {
		if !want[a] {
			t.Errorf("unexpected key %s", a)
		}
	}
	if n := len(cloud.Log().Entries(fakecloud.Match{Action: "ListKeys"})); n != 3 {
		t.Errorf("%d ListKeys calls for 230 keys, want 3 pages", n)
	}
	ec := map[string]string{"purpose": "test"}
	blob, keyID, err := clients.KMS.Encrypt(ctx, first.ARN, []byte("hello"), ec)
	if err != nil || keyID != first.ID {
		t.Fatalf("Encrypt: key %q, %v", keyID, err)
	}
	usedKey, pt, err := clients.KMS.Decrypt(ctx, blob, ec)
	if err != nil || string(pt) != "hello" || usedKey != first.ID {
		t.Errorf("Decrypt: %q under %q, %v", pt, usedKey, err)
	}
}

// TestCreateDefaultPolicyVersion: each update becomes the default version,
// and the five-version limit never blocks one (the oldest non-default
// version is rotated out).
func TestCreateDefaultPolicyVersion(t *testing.T) {
	t.Parallel()
	cloud := fakecloud.New(fakecloud.Options{Seed: 1})
	app := cloud.NewAccount("app")
	clients, err := alicloud.FactoryFromConfig(cloud.Config(app.RootCredentials(), "cn-hangzhou"), cloudapi.DefaultRetry()).Base()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	doc := func(i int) string {
		return fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:DescribeKey"],"Resource":["acs:kms:*:*:key/key-%d"]}]}`, i)
	}
	if err := clients.RAM.CreatePolicy(ctx, "Use-Key", "", doc(0)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 7; i++ {
		id, err := clients.RAM.CreateDefaultPolicyVersion(ctx, "Use-Key", doc(i))
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		p, err := clients.RAM.GetPolicy(ctx, "Use-Key", "Custom")
		if err != nil {
			t.Fatal(err)
		}
		if id == "" || p.DefaultVersion != id || p.Document != doc(i) {
			t.Fatalf("update %d: created version %q; policy's default is %q with %s", i, id, p.DefaultVersion, p.Document)
		}
	}
}
