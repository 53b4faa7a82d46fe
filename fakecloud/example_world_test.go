package fakecloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/fakecloud"
)

// A world file describes the whole cloud; the World hands out an SDK
// configuration for any principal: "<account>" is the account's root,
// "<account>/<user>" a RAM user.
func ExampleLoadWorld() {
	const world = `{
	  "accounts": [
	    {"name": "security", "id": "1234567890123456",
	     "users": [{"name": "admin", "policies": ["AliyunKMSFullAccess"]}],
	     "instances": [{"name": "main", "region": "cn-hangzhou", "quota": 5,
	       "keys": [{"name": "orders", "id": "key-hzz0000000000000000000001"}]}]}
	  ]
	}`
	w, err := fakecloud.LoadWorld(strings.NewReader(world), fakecloud.WorldOptions{Name: "world.json"})
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, _ := w.Config("security/admin", "cn-hangzhou")
	client, _ := kms.NewClient(cfg)
	out, err := client.DescribeKeyWithContext(context.Background(),
		&kms.DescribeKeyRequest{KeyId: tea.String(w.Key("security", "orders").ID)}, &dara.RuntimeOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*out.Body.KeyMetadata.Arn, *out.Body.KeyMetadata.KeyState)

	// A mistake names its place, and nothing is built.
	_, err = fakecloud.LoadWorld(strings.NewReader(`{"accounts": [{"name": "a", "id": "119285303511****"}]}`), fakecloud.WorldOptions{Name: "bad.json"})
	var we *fakecloud.WorldError
	fmt.Println(errors.As(err, &we), we.Line, we.Column, we.Path)
	// Output:
	// acs:kms:cn-hangzhou:1234567890123456:key/key-hzz0000000000000000000001 Enabled
	// true 1 35 accounts[0].id
}

// World.Handler serves the cloud and its admin endpoints; the
// examples/fakecloud command does this on 127.0.0.1 for each region.
func ExampleWorld_Handler() {
	w, err := fakecloud.LoadWorld(strings.NewReader(`{"clock": {"kind": "manual"}, "accounts": [{"name": "a"}]}`), fakecloud.WorldOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(w.Handler("cn-hangzhou"))
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL+fakecloud.AdminPath+"advance?by=10m", "", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var answer struct{ Now time.Time }
	json.NewDecoder(resp.Body).Decode(&answer)
	fmt.Println(resp.StatusCode, answer.Now.Format(time.RFC3339))
	// Output: 200 2026-01-01T00:10:00Z
}

// Serve puts the cloud behind real HTTP servers on 127.0.0.1, one per
// region; Server.Config points the SDK at them.
func ExampleCloud_Serve() {
	cloud := fakecloud.New(fakecloud.Options{Seed: 1})
	acct, _ := cloud.NewAccountWithID("1234567890123456", "a")
	srv := cloud.Serve()
	defer srv.Close()
	client, _ := sts.NewClient(srv.Config(acct.RootCredentials(), "cn-hangzhou"))
	out, err := client.GetCallerIdentity()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*out.Body.Arn)
	fmt.Println(strings.HasPrefix(srv.Endpoint("cn-hangzhou"), "127.0.0.1:"))
	// Output:
	// acs:ram::1234567890123456:root
	// true
}

// Faults make matching requests fail: here every GetCallerIdentity of one
// account is throttled, and the log says the fault was injected.
func ExampleFaults_Add() {
	cloud := fakecloud.New(fakecloud.Options{Seed: 1})
	acct := cloud.NewAccount("a")
	id := cloud.Faults().Add(fakecloud.Fault{Service: "sts", Action: "GetCallerIdentity", Account: acct.ID, Throttle: 1})
	client, _ := sts.NewClient(cloud.Config(acct.RootCredentials(), "cn-hangzhou"))
	call := func() string {
		_, err := client.GetCallerIdentity()
		var e *tea.SDKError
		if errors.As(err, &e) {
			return *e.Code
		}
		return "ok"
	}
	fmt.Println(call())
	cloud.Faults().Remove(id)
	fmt.Println(call())
	fmt.Println(cloud.Log().Entries(fakecloud.Match{Action: "GetCallerIdentity"})[0].Fault)
	// Output:
	// Throttling.User
	// ok
	// throttle
}

// A ManualClock moves only when told to: tests advance it past delays and
// expiries instead of sleeping.
func ExampleManualClock() {
	clock := fakecloud.NewManualClock(time.Time{})
	cloud := fakecloud.New(fakecloud.Options{Clock: clock, Seed: 1})
	acct := cloud.NewAccount("a")
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + acct.ID + `:root"]}}]}`
	role, _ := acct.NewRole("app", trust, "AliyunKMSFullAccess")
	user, _ := acct.NewUser("deployer", "AliyunSTSAssumeRoleAccess")
	stsClient, _ := sts.NewClient(cloud.Config(user.Credentials(), "cn-hangzhou"))
	out, err := stsClient.AssumeRoleWithContext(context.Background(), &sts.AssumeRoleRequest{
		RoleArn: tea.String(role.ARN), RoleSessionName: tea.String("deploy"), DurationSeconds: tea.Int64(900)}, &dara.RuntimeOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := out.Body.Credentials
	session := fakecloud.NewCredentials(*c.AccessKeyId, *c.AccessKeySecret, *c.SecurityToken)
	who := func() string {
		client, _ := sts.NewClient(cloud.Config(session, "cn-hangzhou"))
		_, err := client.GetCallerIdentity()
		var e *tea.SDKError
		if errors.As(err, &e) {
			return *e.Code
		}
		return "ok"
	}
	fmt.Println(clock.Now().Format(time.RFC3339), who())
	clock.Advance(15 * time.Minute)
	fmt.Println(clock.Now().Format(time.RFC3339), who())
	// Output:
	// 2026-01-01T00:00:00Z ok
	// 2026-01-01T00:15:00Z InvalidSecurityToken.Expired
}

// Mark and Since assert on one phase of a test, such as "a second apply
// writes nothing".
func ExampleLog_Mark() {
	cloud := fakecloud.New(fakecloud.Options{Seed: 1})
	acct := cloud.NewAccount("a")
	key, _ := acct.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{}).NewKey(fakecloud.KeyOptions{})
	client, _ := kms.NewClient(cloud.Config(acct.RootCredentials(), "cn-hangzhou"))
	ctx, rt := context.Background(), &dara.RuntimeOptions{}

	mark := cloud.Log().Mark()
	client.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(key.ID)}, rt)
	client.DisableKeyWithContext(ctx, &kms.DisableKeyRequest{KeyId: tea.String(key.ID)}, rt)
	for _, e := range cloud.Log().Since(mark, fakecloud.Match{}) {
		fmt.Println(e.Service, e.Action, e.Status, e.Write)
	}
	fmt.Println("writes:", len(cloud.Log().Since(mark, fakecloud.Match{Writes: true})))
	// Output:
	// kms DescribeKey 200 false
	// kms DisableKey 200 true
	// writes: 1
}

// A service such as ECS acts for an account by assuming a role that
// trusts it; only the role's trust policy decides (workflow W2).
func ExampleService_AssumeRole() {
	cloud := fakecloud.New(fakecloud.Options{Seed: 1})
	acct := cloud.NewAccount("b")
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["ecs.aliyuncs.com"]}}]}`
	role, _ := acct.NewRole("AliyunECSDiskEncryptDefaultRole", trust, "AliyunECSDiskEncryptRolePolicy")
	creds, err := acct.Service("ecs.aliyuncs.com").AssumeRole(role.ARN, "ecs-disk", 0)
	fmt.Println(err, creds.IsTemporary())
	_, err = cloud.NewAccount("other").Service("ecs.aliyuncs.com").AssumeRole(role.ARN, "ecs-disk", 0)
	var e *fakecloud.Error
	fmt.Println(errors.As(err, &e), e.Code)
	// Output:
	// <nil> true
	// true NoPermission
}

// Accounts and keys can have chosen IDs, so that a spec's ARNs resolve in
// the emulator.
func ExampleInstance_NewKeyWithID() {
	cloud := fakecloud.New(fakecloud.Options{Seed: 1})
	acct, _ := cloud.NewAccountWithID("1192853035118460", "security")
	key, err := acct.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{}).NewKeyWithID("key-hzz6801a1b2c3d4e5f6g7", fakecloud.KeyOptions{})
	fmt.Println(key.ARN, err)
	_, err = cloud.NewAccountWithID("119285303511****", "copied")
	fmt.Println(err)
	// Output:
	// acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7 <nil>
	// fakecloud: arn: invalid account in "119285303511****": documentation masks IDs with "****"; use the real, unmasked ID
}

// An external key (Hold Your Own Key) works only while the XKI proxy is
// connected and the external key is enabled.
func ExampleAccount_NewExternalKMSInstance() {
	cloud := fakecloud.New(fakecloud.Options{Seed: 1})
	acct := cloud.NewAccount("a")
	inst := acct.NewExternalKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{})
	key, _ := inst.NewKey(fakecloud.KeyOptions{})
	client, _ := kms.NewClient(cloud.Config(acct.RootCredentials(), "cn-hangzhou"))
	generate := func() string {
		_, err := client.GenerateDataKeyWithContext(context.Background(),
			&kms.GenerateDataKeyRequest{KeyId: tea.String(key.ID)}, &dara.RuntimeOptions{})
		var e *tea.SDKError
		if errors.As(err, &e) {
			return *e.Code
		}
		return "ok"
	}
	fmt.Println(generate())
	inst.SetProxyConnected(false)
	fmt.Println(generate())
	inst.SetProxyConnected(true)
	key.SetExternalKeyEnabled(false)
	fmt.Println(generate())
	// Output:
	// ok
	// Rejected.Unavailable
	// Rejected.Unavailable
}

// A test keeps its world in testdata/ and reads it with one call; the
// principals and keys come back by the names the file gives them.
func ExampleLoadWorldFile() {
	w, err := fakecloud.LoadWorldFile("testdata/world.json", fakecloud.WorldOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range w.Principals() {
		fmt.Println(p.Name, p.ARN)
	}
	fmt.Println(w.Key("security", "shared").ARN)
	cfg, _ := w.Config("management/pipeline", "cn-hangzhou") // for kms.NewClient, share.New, …
	fmt.Println(*cfg.RegionId)
	// Output:
	// management acs:ram::1000000000000001:root
	// security acs:ram::1000000000000002:root
	// app-1 acs:ram::1000000000000003:root
	// management/pipeline acs:ram::1000000000000001:user/pipeline
	// acs:kms:cn-hangzhou:1000000000000002:key/key-hzz0000000000000000000001
	// cn-hangzhou
}
