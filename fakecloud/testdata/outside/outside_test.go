package outside_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// landingZone is the world of workflow W1: a management account with a
// pipeline user, a Security account with a KMS instance and a key, and two
// application accounts, members of a Resource Directory.
const landingZone = `{
  "accounts": [
    {"name": "management", "users": [{"name": "pipeline", "policies": ["AdministratorAccess"]}]},
    {"name": "security", "instances": [{"name": "main", "region": "cn-hangzhou", "quota": 5, "keys": [{"name": "shared"}]}]},
    {"name": "app-1"},
    {"name": "app-2"}
  ],
  "resourceDirectory": {"management": "management", "members": ["security"],
    "folders": [{"name": "apps", "members": ["app-1", "app-2"]}]},
  "delays": {"propagation": "1m"}
}`

// TestShareW1 shares the Security account's key with both application
// accounts, as a pipeline would: plan, apply, verify (which waits out the
// propagation delay on the emulator's clock), then revoke.
func TestShareW1(t *testing.T) {
	ctx := context.Background()
	clock := fakecloud.NewManualClock(time.Time{})
	world, err := fakecloud.LoadWorld(strings.NewReader(landingZone), fakecloud.WorldOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := world.Config("management/pipeline", "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	client, err := share.New(cfg, func(o *share.Options) { o.Clock = clock })
	if err != nil {
		t.Fatal(err)
	}
	key := world.Key("security", "shared")
	spec := &share.Spec{Key: key.ARN, Recipients: []share.Recipient{
		{Account: world.Account("app-1").ID}, {Account: world.Account("app-2").ID}}}

	plan, err := client.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Changes() {
		t.Fatalf("the plan changes nothing:\n%s", plan)
	}
	res, err := client.Apply(ctx, plan)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, res)
	}
	rep, err := client.Verify(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Outcome != share.OutcomeOK {
			t.Errorf("verify %s: %s", r.Principal, r.Outcome)
		}
	}
	if n := world.Cloud.Log().Count(fakecloud.Match{Action: "SetKeyPolicy", Status: 200}); n != 1 {
		t.Errorf("%d SetKeyPolicy writes, want 1", n)
	}

	// Applying again writes nothing.
	mark := world.Cloud.Log().Mark()
	plan, err = client.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if w := world.Cloud.Log().Since(mark, fakecloud.Match{Writes: true}); len(w) != 0 {
		t.Errorf("re-apply wrote %d times", len(w))
	}

	// Revoke and check the members are refused.
	if _, err := client.Revoke(ctx, spec, share.RevokeOptions{}); err != nil {
		t.Fatal(err)
	}
	gone, err := client.VerifyRevoked(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range gone.Results {
		if r.Outcome != share.OutcomeRevoked {
			t.Errorf("after revoke %s: %s", r.Principal, r.Outcome)
		}
	}
}

// TestEnvelopeRoundTrip encrypts as app-1 under the Security account's
// shared key and decrypts again, through the envelope package and the
// real KMS SDK client on the emulator.
func TestEnvelopeRoundTrip(t *testing.T) {
	ctx := context.Background()
	clock := fakecloud.NewManualClock(time.Time{})
	world, err := fakecloud.LoadWorld(strings.NewReader(landingZone), fakecloud.WorldOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	key := world.Key("security", "shared")
	app := world.Account("app-1")
	// The Security account lets app-1's access role use the key.
	owner, err := kms.NewClient(must(world.Config("security", "cn-hangzhou")))
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"1","Statement":[` +
		`{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + world.Account("security").ID + `:*"]},"Action":["kms:*"],"Resource":["*"]},` +
		`{"Effect":"Allow","Principal":{"RAM":["` + arn.ResourceDirectoryAccessRole(app.ID).String() + `"]},` +
		`"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":["*"]}]}`
	rt := &dara.RuntimeOptions{}
	if _, err := owner.SetKeyPolicyWithContext(ctx, &kms.SetKeyPolicyRequest{KeyId: tea.String(key.ID), Policy: tea.String(doc)}, rt); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute) // the world's propagation delay
	// The pipeline enters app-1 through its access role.
	stsClient, err := sts.NewClient(must(world.Config("management/pipeline", "cn-hangzhou")))
	if err != nil {
		t.Fatal(err)
	}
	out, err := stsClient.AssumeRoleWithContext(ctx, &sts.AssumeRoleRequest{
		RoleArn: tea.String(arn.ResourceDirectoryAccessRole(app.ID).String()), RoleSessionName: tea.String("outside")}, rt)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Body.Credentials
	session := fakecloud.NewCredentials(*c.AccessKeyId, *c.AccessKeySecret, *c.SecurityToken)
	appKMS, err := kms.NewClient(world.Cloud.Config(session, "cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}

	mk := envelope.MasterKey{ARN: key.ARN, Service: envelope.NewKMS(appKMS)}
	encCtx := map[string]string{"purpose": "outside"}
	plaintext := bytes.Repeat([]byte("a user's data "), 1000)
	msg, err := (&envelope.Encryptor{Keys: []envelope.MasterKey{mk}}).Encrypt(ctx, plaintext, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&envelope.Decryptor{Keys: []envelope.MasterKey{mk}}).Decrypt(ctx, msg, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plaintext) {
		t.Error("the round trip changed the data")
	}
	if n := world.Cloud.Log().Count(fakecloud.Match{Service: "kms", Action: "GenerateDataKey", CallerAccount: app.ID, Status: 200}); n != 1 {
		t.Errorf("%d GenerateDataKey calls by app-1, want 1", n)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
