package envelope_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"

	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/fakecloud"
)

// TestEnvelopeUnderKMSThrottling: KMS throttles with HTTP 429
// Rejected.Throttling. With 20% of KMS calls throttled so, envelope
// encryption and decryption through the real SDK client still complete:
// the throttle is classified as one and retried.
func TestEnvelopeUnderKMSThrottling(t *testing.T) {
	t.Parallel()
	clk := fakecloud.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	cloud := fakecloud.New(fakecloud.Options{Clock: clk, Seed: 29})
	sec := cloud.NewAccount("security")
	key, err := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 5}).NewKey(fakecloud.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	app, err := sec.NewUser("app", "AliyunKMSFullAccess")
	if err != nil {
		t.Fatal(err)
	}
	client, err := kms.NewClient(cloud.Config(app.Credentials(), "cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}
	cloud.Faults().Add(fakecloud.Fault{Service: "kms", Throttle: 0.20})
	svc := envelope.NewKMS(client, func(o *envelope.KMSOptions) {
		o.Retry.MaxAttempts = 20
		o.Retry.Sleep = func(ctx context.Context, d time.Duration) error { clk.Advance(d); return ctx.Err() }
	})
	keys := []envelope.MasterKey{{ARN: key.ARN, Service: svc}}
	enc := &envelope.Encryptor{Keys: keys}
	dec := &envelope.Decryptor{Keys: keys}
	ctx := context.Background()
	for i := range 40 {
		pt := []byte(fmt.Sprintf("message %d", i))
		ec := map[string]string{"n": fmt.Sprint(i)}
		msg, err := enc.Encrypt(ctx, pt, ec)
		if err != nil {
			t.Fatalf("Encrypt %d: %v", i, err)
		}
		got, err := dec.Decrypt(ctx, msg, ec)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Decrypt %d: %q, %v", i, got, err)
		}
	}
	if n := cloud.Log().Count(fakecloud.Match{Service: "kms", Code: "Rejected.Throttling", Status: 429}); n == 0 {
		t.Fatal("no Rejected.Throttling was injected")
	}
}
