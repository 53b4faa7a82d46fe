package fakecloud

import (
	"errors"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

// TestAssumeRole: both the role's trust policy and the caller's
// sts:AssumeRole permission are needed; the parameters follow the
// documented rules; root may not assume roles.
func TestAssumeRole(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	// A role in app-1 that the management account may assume with an
	// ExternalId, and a user of the management account without STS rights.
	trust := `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + w.mgmt.ID + `:root"]},` +
		`"Condition":{"StringEquals":{"sts:ExternalId":"abc-123"}}}],"Version":"1"}`
	vendor := must(w.app1.NewRole("Vendor", trust, "AliyunKMSFullAccess"))
	kmsOnly := must(w.mgmt.NewUser("kms-only", "AliyunKMSFullAccess"))
	stsOnly := must(w.app2.NewUser("sts-only", "AliyunSTSAssumeRoleAccess"))
	rdRole := arn.ResourceDirectoryAccessRole(w.app1.ID).String()
	type req = sts.AssumeRoleRequest
	tests := []struct {
		name    string
		creds   Credentials
		req     req
		code    string
		message string
	}{
		{"RD access role", w.pipeline.Credentials(), req{RoleArn: tea.String(rdRole)}, "", ""},
		{"role name in display case", w.pipeline.Credentials(), req{RoleArn: tea.String("acs:ram::" + w.app1.ID + ":role/ResourceDirectoryAccountAccessRole")}, "", ""},
		{"root", w.mgmt.RootCredentials(), req{RoleArn: tea.String(rdRole)}, "NoPermission", "Roles may not be assumed by root accounts."},
		{"caller lacks sts:AssumeRole", kmsOnly.Credentials(), req{RoleArn: tea.String(rdRole)}, "NoPermission", ""},
		{"trust does not admit the caller", stsOnly.Credentials(), req{RoleArn: tea.String(rdRole)}, "NoPermission", ""},
		{"malformed RoleArn", w.pipeline.Credentials(), req{RoleArn: tea.String("acs:ram::" + w.app1.ID + ":user/x")}, "InvalidParameter.RoleArn", ""},
		{"masked RoleArn", w.pipeline.Credentials(), req{RoleArn: tea.String("acs:ram::119285303511****:role/x")}, "InvalidParameter.RoleArn", ""},
		{"missing role", w.pipeline.Credentials(), req{RoleArn: tea.String(arn.RAMRole(w.app1.ID, "ghost").String())}, "EntityNotExist.Role", "The specified Role not exists ."},
		{"session name too short", w.pipeline.Credentials(), req{RoleArn: tea.String(rdRole), RoleSessionName: tea.String("a")}, "InvalidParameter.RoleSessionName", ""},
		{"session name with space", w.pipeline.Credentials(), req{RoleArn: tea.String(rdRole), RoleSessionName: tea.String("a b")}, "InvalidParameter.RoleSessionName", ""},
		{"session name of 64", w.pipeline.Credentials(), req{RoleArn: tea.String(rdRole), RoleSessionName: tea.String(strings.Repeat("s", 64))}, "", ""},
		{"duration below 900", w.pipeline.Credentials(), req{RoleArn: tea.String(rdRole), DurationSeconds: tea.Int64(899)}, "InvalidParameter.DurationSeconds", ""},
		{"duration above the role maximum", w.pipeline.Credentials(), req{RoleArn: tea.String(rdRole), DurationSeconds: tea.Int64(3601)}, "InvalidParameter.DurationSeconds", ""},
		{"ExternalId required", w.pipeline.Credentials(), req{RoleArn: tea.String(vendor.ARN)}, "NoPermission", ""},
		{"ExternalId wrong", w.pipeline.Credentials(), req{RoleArn: tea.String(vendor.ARN), ExternalId: tea.String("abc-124")}, "NoPermission", ""},
		{"ExternalId right", w.pipeline.Credentials(), req{RoleArn: tea.String(vendor.ARN), ExternalId: tea.String("abc-123")}, "", ""},
		{"ExternalId malformed", w.pipeline.Credentials(), req{RoleArn: tea.String(vendor.ARN), ExternalId: tea.String("a")}, "InvalidParameter.ExternalId", ""},
		{"session policy too large", w.pipeline.Credentials(), req{RoleArn: tea.String(rdRole), Policy: tea.String(strings.Repeat(" ", 2049))}, "InvalidParameter.PolicySize", ""},
		{"session policy malformed", w.pipeline.Credentials(), req{RoleArn: tea.String(rdRole), Policy: tea.String(`{"Version":"1"}`)}, "InvalidParameter.PolicyGrammar", ""},
	}
	for _, tc := range tests {
		if tc.req.RoleSessionName == nil {
			tc.req.RoleSessionName = tea.String("test")
		}
		sc := newClients(t, w.c.Config(tc.creds, region)).sts
		_, err := sc.AssumeRoleWithContext(ctxb(), &tc.req, rt)
		if errCode(err) != tc.code || (tc.code == "" && err != nil) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.code)
			continue
		}
		var se *tea.SDKError
		if tc.message != "" && (!errors.As(err, &se) || !strings.Contains(tea.StringValue(se.Data), `"Message":"`+tc.message)) {
			t.Errorf("%s: message %v, want %q", tc.name, err, tc.message)
		}
		if tc.code == "NoPermission" && errStatus(err) != 403 {
			t.Errorf("%s: status %d, want 403", tc.name, errStatus(err))
		}
	}
}

// TestSessionPolicy: a session policy narrows what the session may do to
// the intersection with the role's policies.
func TestSessionPolicy(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	cfg := configFor(t, w.c, inProc)
	// The Security account's own admin user assumes a role there.
	role := must(w.sec.NewRole("KeyOps", `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::`+w.sec.ID+`:root"]}}],"Version":"1"}`, "AliyunKMSFullAccess"))
	// The key's default policy allows every identity of the account, and
	// the role holds AliyunKMSFullAccess: only the session policy stops
	// GenerateDataKey.
	key := w.key
	sc := newClients(t, cfg(w.secAdmin.Credentials())).sts
	out, err := sc.AssumeRoleWithContext(ctxb(), &sts.AssumeRoleRequest{RoleArn: tea.String(role.ARN), RoleSessionName: tea.String("narrow"),
		Policy: tea.String(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:DescribeKey","Resource":"*"}]}`)}, rt)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Body.Credentials
	kc := newClients(t, cfg(NewCredentials(*c.AccessKeyId, *c.AccessKeySecret, *c.SecurityToken))).kms
	_, err = kc.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{KeyId: tea.String(key.ID)}, rt)
	wantCode(t, err, "")
	_, err = kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(key.ID)}, rt)
	wantCode(t, err, "Forbidden.NoPermission")
}

// TestGetCallerIdentity: the identity types and their fields.
func TestGetCallerIdentity(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	cfg := configFor(t, w.c, inProc)
	session := assumeRole(t, cfg, w.pipeline.Credentials(), arn.ResourceDirectoryAccessRole(w.app1.ID).String(), "who")
	roleID := ""
	w.c.mu.RLock()
	roleID = w.c.accounts[w.app1.ID].roles["resourcedirectoryaccountaccessrole"].id
	w.c.mu.RUnlock()
	tests := []struct {
		name                             string
		creds                            Credentials
		typ, account, arn, user, role, p string
	}{
		{"root", w.mgmt.RootCredentials(), "Account", w.mgmt.ID, "acs:ram::" + w.mgmt.ID + ":root", w.mgmt.ID, "", w.mgmt.ID},
		{"user", w.pipeline.Credentials(), "RAMUser", w.mgmt.ID, w.pipeline.ARN, w.pipeline.ID, "", w.pipeline.ID},
		{"role session", session, "AssumedRoleUser", w.app1.ID, "acs:ram::" + w.app1.ID + ":assumed-role/resourcedirectoryaccountaccessrole/who", "", roleID, roleID + ":who"},
	}
	for _, tc := range tests {
		out, err := newClients(t, cfg(tc.creds)).sts.GetCallerIdentity()
		if err != nil {
			t.Fatal(err)
		}
		b := out.Body
		got := []string{tea.StringValue(b.IdentityType), tea.StringValue(b.AccountId), tea.StringValue(b.Arn), tea.StringValue(b.UserId), tea.StringValue(b.RoleId), tea.StringValue(b.PrincipalId)}
		want := []string{tc.typ, tc.account, tc.arn, tc.user, tc.role, tc.p}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, want)
		}
	}
}

// TestServiceAssumeRole: a service acting for an account assumes a role
// whose trust policy names it (workflows W2, W4), and the credentials
// work with the real SDK clients.
func TestServiceAssumeRole(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	outsider := w.c.NewAccount("outsider") // not in the resource directory
	trust := func(service, condition string) string {
		return `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["` + service + `"]}` + condition + `}],"Version":"1"}`
	}
	owner := w.sec
	roles := map[string]*Role{
		"own":    must(owner.NewRole("AliyunECSDiskEncryptDefaultRole", trust("ecs.aliyuncs.com", ""), "AliyunECSDiskEncryptRolePolicy")),
		"app1":   must(owner.NewRole("ShareApp1", trust(w.app1.ID+"@ecs.aliyuncs.com", ""), "AliyunKMSFullAccess")),
		"rd":     must(owner.NewRole("AliyunECSShareEncryptImageDefaultRole", trust("*@ecs.aliyuncs.com", `,"Condition":{"StringEquals":{"sts:ServiceOwnerRDId":"`+w.rd.ID+`"}}`), "AliyunKMSFullAccess")),
		"folder": must(owner.NewRole("AliyunECSShareEncryptSnapshotDefaultRole", trust("*@ecs.aliyuncs.com", `,"Condition":{"StringLike":{"sts:ServiceOwnerRDPath":"`+w.apps.Path+`*"}}`), "AliyunKMSFullAccess")),
	}
	tests := []struct {
		role    string
		service *Service
		code    string
	}{
		{"own", owner.Service("ecs.aliyuncs.com"), ""},
		{"own", w.app1.Service("ecs.aliyuncs.com"), "NoPermission"},
		{"own", owner.Service("oss.aliyuncs.com"), "NoPermission"},
		{"app1", w.app1.Service("ecs.aliyuncs.com"), ""},
		{"app1", w.app2.Service("ecs.aliyuncs.com"), "NoPermission"},
		{"rd", w.app2.Service("ecs.aliyuncs.com"), ""},
		{"rd", w.mgmt.Service("ecs.aliyuncs.com"), ""},
		{"rd", outsider.Service("ecs.aliyuncs.com"), "NoPermission"},
		{"folder", w.app1.Service("ecs.aliyuncs.com"), ""},
		{"folder", w.sec.Service("ecs.aliyuncs.com"), "NoPermission"}, // root folder, not under apps
		{"folder", outsider.Service("ecs.aliyuncs.com"), "NoPermission"},
	}
	for _, tc := range tests {
		creds, err := tc.service.AssumeRole(roles[tc.role].ARN, "ecs-session", 0)
		code := ""
		if fe := (*Error)(nil); errors.As(err, &fe) {
			code = fe.Code
		} else if err != nil {
			code = err.Error()
		}
		if code != tc.code {
			t.Errorf("%s assumed by %s for %s: got %v, want %q", tc.role, tc.service.Host, tc.service.Account.Name, err, tc.code)
		}
		if err == nil && (!creds.IsTemporary() || !strings.HasPrefix(creds.AccessKeyID, "STS.")) {
			t.Errorf("credentials %v", creds)
		}
	}
	// The ECS session created for app-1 uses the owner's key through the
	// real KMS client, as ECS would to create an encrypted disk.
	creds := must(w.app1.Service("ecs.aliyuncs.com").AssumeRole(roles["app1"].ARN, "create-disk", 0))
	kc := newClients(t, w.c.Config(creds, region)).kms
	if _, err := kc.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ID)}, rt); err != nil {
		t.Fatal(err)
	}
	// A RAM user cannot assume a role that trusts only a service.
	sc := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).sts
	_, err := sc.AssumeRoleWithContext(ctxb(), &sts.AssumeRoleRequest{RoleArn: tea.String(roles["own"].ARN), RoleSessionName: tea.String("user")}, rt)
	wantCode(t, err, "NoPermission")
	// Service calls are logged with the service as the caller.
	if n := w.c.Log().Count(Match{Service: "sts", Action: "AssumeRole", Caller: w.app1.ID + "@ecs.aliyuncs.com", Status: 200}); n != 3 {
		t.Errorf("logged %d successful ECS-for-app-1 AssumeRole calls, want 3", n)
	}
}
