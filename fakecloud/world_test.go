package fakecloud

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

// worldJSON is a Landing Zone (W1) with every kind of thing a world file
// holds.
const worldJSON = `{
  "seed": 7,
  "clock": {"kind": "manual", "start": "2026-03-01T00:00:00Z"},
  "delays": {"propagation": "1m", "quotaRelease": "2m", "visibility": "5s"},
  "logLimit": 50,
  "accounts": [
    {"name": "management", "users": [{"name": "pipeline", "policies": ["AdministratorAccess"]}]},
    {"name": "security", "id": "1234567890123456",
     "users": [{"name": "admin", "policies": ["AdministratorAccess"]}],
     "instances": [{"name": "main", "region": "cn-hangzhou", "quota": 4, "vpcs": ["vpc-a", "vpc-b"],
       "keys": [
         {"name": "shared", "id": "key-hzz001", "alias": "shared",
          "policy": {"Version": "1", "Statement": [
            {"Effect": "Allow", "Principal": {"RAM": ["acs:ram::${uid:security}:*"]}, "Action": ["kms:*"], "Resource": ["*"]},
            {"Effect": "Allow", "Principal": {"RAM": ["acs:ram::${uid:app-1}:role/ResourceDirectoryAccountAccessRole"]},
             "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": ["*"]}]}},
         {"name": "private"}
       ]}],
     "defaultKeys": [{"name": "legacy", "region": "cn-shanghai"}]},
    {"name": "app-1",
     "policies": [{"name": "Reader", "document": "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Describe*\",\"Resource\":\"*\"}]}"}],
     "users": [{"name": "reader", "policies": ["Reader"]}],
     "roles": [{"name": "Deployer", "description": "deploys",
       "trust": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::${uid:management}:root"]}}]},
       "policies": ["AliyunKMSFullAccess"]}]}
  ],
  "resourceDirectory": {"management": "management", "members": ["security"],
    "folders": [{"name": "apps", "members": ["app-1"], "folders": [{"name": "empty"}]}]},
  "faults": [{"service": "kms", "action": "Encrypt", "account": "app-1", "unavailable": 1}]
}`

func TestWorldFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, err := LoadWorld(strings.NewReader(worldJSON), WorldOptions{Name: "lz.json"})
	if err != nil {
		t.Fatal(err)
	}
	c := w.Cloud
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if !c.Now().Equal(start) || c.PropagationDelay() != time.Minute || c.quotaRelease != 2*time.Minute || c.visibility != 5*time.Second || c.log.limit != 50 {
		t.Errorf("options: now %v, propagation %v, release %v, visibility %v, log limit %d", c.Now(), c.PropagationDelay(), c.quotaRelease, c.visibility, c.log.limit)
	}
	sec, app := w.Account("security"), w.Account("app-1")
	if sec.ID != "1234567890123456" || app == nil || w.Account("nobody") != nil {
		t.Fatalf("accounts: security %v, app-1 %v", sec, app)
	}
	if got := w.Regions(); strings.Join(got, ",") != "cn-hangzhou,cn-shanghai" {
		t.Errorf("Regions() = %v", got)
	}
	var names []string
	for _, p := range w.Principals() {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "management,security,app-1,management/pipeline,security/admin,app-1/reader" {
		t.Errorf("principals %s", got)
	}

	// The directory: app-1 sits in apps, with its access role.
	c.mu.RLock()
	appPath, rdID := c.accounts[app.ID].rdPath(), w.ResourceDirectory().ID
	c.mu.RUnlock()
	if !strings.HasPrefix(appPath, rdID+"/") || strings.Count(appPath, "/") != 3 {
		t.Errorf("app-1's RD path %q", appPath)
	}

	// Keys: fixed ID, alias, quota (2 VPCs + app-1), a default key.
	key := w.Key("security", "shared")
	if key == nil || key.ID != "key-hzz001" || key.ARN != arn.KMSKey("cn-hangzhou", sec.ID, "key-hzz001").String() {
		t.Fatalf("shared key %+v", key)
	}
	if n := w.Instance("security", "main").QuotaUsed(); n != 3 {
		t.Errorf("quota used %d, want 3 (two VPCs and app-1)", n)
	}
	if got := strings.Join(w.KeyNames(), ","); got != "security/shared,security/private,security/legacy" {
		t.Errorf("KeyNames() = %s", got)
	}
	if k := w.Key("security", "legacy"); k == nil || k.Instance != nil || k.Region != "cn-shanghai" {
		t.Errorf("default key %+v", k)
	}

	// The pipeline enters app-1 and uses the shared key; a role and a
	// custom policy work; the fault fires.
	cfg, err := w.Config("management/pipeline", "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	stsClient := must(sts.NewClient(cfg))
	// Deployer holds AliyunKMSFullAccess, but the key policy does not name
	// it: across accounts both sides must grant.
	for role, want := range map[string]string{arn.ResourceDirectoryAccessRole(app.ID).String(): "", w.Role("app-1", "Deployer").ARN: "Forbidden.NoPermission"} {
		out, err := stsClient.AssumeRoleWithContext(ctx, &sts.AssumeRoleRequest{RoleArn: tea.String(role), RoleSessionName: tea.String("world-test")}, rt)
		if err != nil {
			t.Fatalf("AssumeRole %s: %v", role, err)
		}
		cr := out.Body.Credentials
		appKMS := must(kms.NewClient(c.Config(NewCredentials(*cr.AccessKeyId, *cr.AccessKeySecret, *cr.SecurityToken), "cn-hangzhou")))
		if _, err := appKMS.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{KeyId: tea.String(key.ARN)}, rt); errCode(err) != want || (want == "" && err != nil) {
			t.Errorf("GenerateDataKey as %s: %v, want code %q", role, err, want)
		}
		_, err = appKMS.EncryptWithContext(ctx, &kms.EncryptRequest{KeyId: tea.String(key.ARN), Plaintext: tea.String("aGk=")}, rt)
		if errStatus(err) != 503 {
			t.Errorf("Encrypt as %s: %v, want the injected 503", role, err)
		}
	}
	readerCfg := must(w.Config("app-1/reader", "cn-hangzhou"))
	if _, err := must(kms.NewClient(readerCfg)).ListKeysWithContext(ctx, &kms.ListKeysRequest{}, rt); errCode(err) != "Forbidden.NoPermission" {
		t.Errorf("reader ListKeys: %v, want Forbidden.NoPermission (Reader allows kms:Describe* only)", err)
	}
	if _, err := w.Config("app-1/nobody", "cn-hangzhou"); err == nil {
		t.Error("Config of an unknown principal succeeded")
	}

	if err := w.Advance(time.Hour); err != nil || !c.Now().Equal(start.Add(time.Hour)) {
		t.Errorf("Advance: %v, now %v", err, c.Now())
	}
	if err := w.Advance(-time.Second); err == nil {
		t.Error("Advance(-1s) succeeded")
	}
}

// TestWorldFileClocks: the default clock follows real time and moves
// ahead on Advance; a caller's clock replaces the file's.
func TestWorldFileClocks(t *testing.T) {
	t.Parallel()
	const one = `{"accounts": [{"name": "a"}]}`
	w := must(LoadWorld(strings.NewReader(one), WorldOptions{}))
	before := time.Now()
	if err := w.Advance(48 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if now := w.Cloud.Now(); now.Before(before.Add(48*time.Hour)) || now.After(time.Now().Add(49*time.Hour)) {
		t.Errorf("real clock after Advance(48h): %v", now)
	}
	sleeper, ok := w.Clock().(interface {
		Sleep(context.Context, time.Duration) error
	})
	if !ok {
		t.Fatalf("the real clock %T has no Sleep", w.Clock())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleeper.Sleep(ctx, time.Hour); err == nil {
		t.Error("Sleep ignored a cancelled context")
	}
	mine := NewManualClock(time.Time{})
	w = must(LoadWorld(strings.NewReader(`{"clock": {"kind": "scaled", "scale": 60}, "accounts": [{"name": "a"}]}`), WorldOptions{Clock: mine}))
	if w.Clock() != Clock(mine) {
		t.Error("WorldOptions.Clock was not used")
	}
	w = must(LoadWorld(strings.NewReader(`{"clock": {"kind": "scaled", "scale": 60}, "accounts": [{"name": "a"}]}`), WorldOptions{}))
	if err := w.Advance(time.Minute); err == nil {
		t.Error("a scaled clock was advanced")
	}
}

// TestWorldFileErrors: every mistake names its line, column and field,
// and nothing is built.
func TestWorldFileErrors(t *testing.T) {
	t.Parallel()
	// Each case is a whole file; the mistake sits on the line marked ←.
	cases := []struct {
		name, file, path, msg string
	}{
		{"unknown field", `{"accounts": [
			{"name": "a", "polices": []} ←
		]}`, "accounts[0].polices", `unknown field "polices"`},
		{"unknown top-level field", `{"accounts": [{"name": "a"}],
			"faults": [], "fault": [] ←
		}`, "fault", `unknown field "fault"`},
		{"field twice", `{"accounts": [
			{"name": "a", "name": "b"} ←
		]}`, "", `field "name" given twice`},
		{"syntax", `{"accounts": [
			{"name": "a",} ←
		]}`, "", "JSON syntax"},
		{"wrong type", `{"accounts": [{"name": "a", "instances": [
			{"name": "i", "region": "cn-hangzhou", "quota": "10"} ←
		]}]}`, "accounts[0].instances[0].quota", "want a whole number, found a string"},
		{"duplicate account", `{"accounts": [{"name": "a"},
			{"name": "a"} ←
		]}`, "accounts[1].name", `duplicate account name "a" (first at line 1`},
		{"slash in an account name", `{"accounts": [
			{"name": "a/b"} ←
		]}`, "accounts[0].name", `account names cannot hold "/"`},
		{"duplicate user, other case", `{"accounts": [{"name": "a", "users": [{"name": "Bob"},
			{"name": "bob"} ←
		]}]}`, "accounts[0].users[1].name", `duplicate user name "bob"`},
		{"duplicate key", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou", "keys": [{"name": "k"},
			{"name": "k"} ←
		]}]}]}`, "accounts[0].instances[0].keys[1].name", `duplicate key name "k"`},
		{"masked account ID", `{"accounts": [
			{"name": "a", "id": "119285303511****"} ←
		]}`, "accounts[0].id", "masked"},
		{"masked key ID", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou", "keys": [
			{"name": "k", "id": "key-hzz630494463ejqjx****"} ←
		]}]}]}`, "accounts[0].instances[0].keys[0].id", "masked"},
		{"account ID twice", `{"accounts": [{"name": "a", "id": "1234567890123456"},
			{"name": "b", "id": "1234567890123456"} ←
		]}`, "accounts[1].id", "already used"},
		{"policy does not parse", `{"accounts": [{"name": "a", "policies": [
			{"name": "p", "document": {"Version": "1", "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}} ←
		]}]}`, "accounts[0].policies[0].document", "permission policy"},
		{"policy string does not parse", `{"accounts": [{"name": "a", "policies": [
			{"name": "p", "document": "{not json"} ←
		]}]}`, "accounts[0].policies[0].document", "permission policy"},
		{"trust missing", `{"accounts": [{"name": "a", "roles": [
			{"name": "r"} ←
		]}]}`, "accounts[0].roles[0]", "trust is missing"},
		{"unknown policy", `{"accounts": [{"name": "a", "users": [{"name": "u", "policies": [
			"NoSuchPolicy"] ←
		}]}]}`, "accounts[0].users[0].policies[0]", `no policy "NoSuchPolicy"`},
		{"unknown uid", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou", "keys": [
			{"name": "k", "policy": {"Version": "1", "Statement": [{"Effect": "Allow", "Principal": {"RAM": ["acs:ram::${uid:b}:*"]}, "Action": "kms:*", "Resource": "*"}]}} ←
		]}]}]}`, "accounts[0].instances[0].keys[0].policy", `${uid:b}: no account "b"`},
		{"key policy names a missing role", `{"accounts": [{"name": "a"}, {"name": "b", "id": "1234567890123456", "instances": [{"name": "i", "region": "cn-hangzhou", "keys": [
			{"name": "k", "policy": {"Version": "1", "Statement": [{"Effect": "Allow", "Principal": {"RAM": ["acs:ram::${uid:a}:role/nope"]}, "Action": "kms:Decrypt", "Resource": "*"}]}} ←
		]}]}]}`, "accounts[1].instances[0].keys[0].policy", "role nope does not exist"},
		{"share quota exceeded", `{"accounts": [{"name": "a"}, {"name": "b", "instances": [{"name": "i", "region": "cn-hangzhou", "quota": 1, "vpcs": ["vpc-1"], "keys": [
			{"name": "k", "policy": {"Version": "1", "Statement": [{"Effect": "Allow", "Principal": {"RAM": ["acs:ram::${uid:a}:*"]}, "Action": "kms:Decrypt", "Resource": "*"}]}} ←
		]}]}]}`, "accounts[1].instances[0].keys[0].policy", "Rejected.ShareQuotaExceedLimit"},
		{"alias twice", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou", "keys": [{"name": "k", "alias": "x"},
			{"name": "l", "alias": "alias/x"} ←
		]}]}]}`, "accounts[0].instances[0].keys[1].alias", `alias "alias/x" is already used in cn-hangzhou`},
		{"unknown spec", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou", "keys": [
			{"name": "k", "spec": "AES_512"} ←
		]}]}]}`, "accounts[0].instances[0].keys[0].spec", `unknown key spec "AES_512"`},
		{"member twice", `{"accounts": [{"name": "m"}, {"name": "a"}], "resourceDirectory": {"management": "m", "members": ["a"],
			"folders": [{"name": "f", "members": ["a"]}]} ←
		}`, "resourceDirectory.folders[0].members[0]", `account "a" is already in the directory`},
		{"unknown member", `{"accounts": [{"name": "m"}], "resourceDirectory": {"management": "m",
			"members": ["ghost"]} ←
		}`, "resourceDirectory.members[0]", `no account "ghost"`},
		{"bad fault", `{"accounts": [{"name": "a"}], "faults": [
			{"service": "kms", "throttle": 1.5} ←
		]}`, "faults[0].throttle", "probability"},
		{"fault on an operation the emulator lacks", `{"accounts": [{"name": "a"}], "faults": [
			{"service": "kms", "action": "CreateSecret", "throttle": 0.5} ←
		]}`, "faults[0].action", `no operation "CreateSecret" in kms`},
		{"bad duration", `{"accounts": [{"name": "a"}],
			"delays": {"propagation": "soon"} ←
		}`, "delays.propagation", "duration"},
		{"no accounts", `{"seed": 1} ←`, "accounts", "at least one account"},
		{"gateway clock both ways", `{"accounts": [{"name": "a"}],
			"gatewayClock": {"ahead": "1m", "behind": "1m"} ←
		}`, "gatewayClock", "not both"},
		{"internet without vpcOnly", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou",
			"internet": ["a"]} ←
		]}]}`, "accounts[0].instances[0].internet", `without "vpcOnly": true`},
		{"internet of an unknown account", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou", "vpcOnly": true,
			"internet": ["ghost"]} ←
		]}]}`, "accounts[0].instances[0].internet[0]", `no account "ghost"`},
		{"bound VPC as a number", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou",
			"vpcs": [2]} ←
		]}]}`, "accounts[0].instances[0].vpcs[0]", "want a VPC ID or an object"},
		{"unknown field of a bound VPC", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou",
			"vpcs": [{"id": "vpc-1", "owner": "a"}]} ←
		]}]}`, "accounts[0].instances[0].vpcs[0].owner", `unknown field "owner"`},
		{"bound VPC of an unknown account", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou",
			"vpcs": [{"id": "vpc-1", "account": "ghost"}]} ←
		]}]}`, "accounts[0].instances[0].vpcs[0].account", `no account "ghost"`},
		{"bad vSwitch", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou",
			"vpcs": [{"id": "vpc-1", "vSwitch": "vpc-2"}]} ←
		]}]}`, "accounts[0].instances[0].vpcs[0].vSwitch", "want a vSwitch ID"},
		{"bad instance VPC", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou",
			"vpc": "vsw-1"} ←
		]}]}`, "accounts[0].instances[0].vpc", "want a VPC ID"},
		{"own VPC bound", `{"accounts": [{"name": "a", "instances": [{"name": "i", "region": "cn-hangzhou", "vpc": "vpc-1",
			"vpcs": ["vpc-1"]} ←
		]}]}`, "accounts[0].instances[0].vpcs[0]", "the instance's own VPC"},
		{"fault probabilities over 1", `{"accounts": [{"name": "a"}], "faults": [
			{"service": "kms", "throttle": 0.5, "internal": 0.6} ←
		]}`, "faults[0]", "throttle + unavailable + internal exceed 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantLine := 1 + strings.Count(tc.file[:strings.Index(tc.file, "←")], "\n")
			file := strings.ReplaceAll(tc.file, "←", "")
			w, err := LoadWorld(strings.NewReader(file), WorldOptions{Name: "bad.json"})
			if err == nil {
				t.Fatalf("loaded: %v", w)
			}
			t.Log(err)
			var we *WorldError
			if !errors.As(err, &we) {
				t.Fatalf("error %v (%T), want a *WorldError", err, err)
			}
			if we.File != "bad.json" || we.Line != wantLine || we.Path != tc.path || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %q (line %d, path %q)\nwant line %d, path %q, message containing %q", err, we.Line, we.Path, wantLine, tc.path, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "bad.json:") {
				t.Errorf("message %q does not start with the file name", err)
			}
		})
	}
}

// TestWorldDocFields: the package doc's field reference names every field
// of the world file's schema.
func TestWorldDocFields(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(rt reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] || rt == docType {
			return
		}
		seen[rt] = true
		for _, name := range fieldNames(rt) {
			if !strings.Contains(string(doc), `"`+name+`":`) {
				t.Errorf("doc.go's world file reference lacks %q (%s)", name, rt.Name())
			}
		}
		for i := 0; i < rt.NumField(); i++ {
			walk(rt.Field(i).Type)
		}
	}
	walk(reflect.TypeOf(worldFile{}))
	if len(seen) < 10 {
		t.Errorf("walked %d schema types", len(seen))
	}
}

// FuzzLoadWorld: any input either builds a world or is refused with a
// *WorldError whose place lies inside the file; nothing panics.
func FuzzLoadWorld(f *testing.F) {
	f.Add(worldJSON)
	f.Add(`{"accounts": [{"name": "a", "id": "119285303511****"}]}`)
	f.Add(`{"accounts": [{"name": "a", "name": "b"}]}`)
	f.Add(`{"accounts": [{"name": "a",}]}`)
	f.Add(`[1, {"x": null}, "s"]`)
	f.Fuzz(func(t *testing.T, file string) {
		_, err := LoadWorld(strings.NewReader(file), WorldOptions{Name: "f.json", Clock: NewManualClock(time.Time{})})
		if err == nil {
			return
		}
		var we *WorldError
		if !errors.As(err, &we) {
			t.Fatalf("error %v (%T) is not a *WorldError", err, err)
		}
		if we.Line < 1 || we.Column < 1 || we.Line > strings.Count(file, "\n")+1 {
			t.Fatalf("place %d:%d outside the file: %v", we.Line, we.Column, err)
		}
	})
}
