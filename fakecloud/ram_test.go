package fakecloud

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

const (
	ecsTrust = `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}`
	kmsAll   = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`
)

func permDoc(actions ...string) string {
	return `{"Version":"1","Statement":[{"Effect":"Allow","Action":["` + strings.Join(actions, `","`) + `"],"Resource":"*"}]}`
}

// TestPolicyVersions: at most five versions; RotateStrategy drops the
// oldest non-default one; the default version cannot be deleted; a policy
// with versions needs CascadingDelete.
func TestPolicyVersions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	rc := newClients(t, w.c.Config(w.app1.RootCredentials(), region)).ram
	name := tea.String("KeyUsers")
	must(rc.CreatePolicyWithContext(ctxb(), &ram.CreatePolicyRequest{PolicyName: name, PolicyDocument: tea.String(permDoc("kms:Describe*"))}, rt))
	for i := 2; i <= 5; i++ {
		out, err := rc.CreatePolicyVersionWithContext(ctxb(), &ram.CreatePolicyVersionRequest{PolicyName: name, PolicyDocument: tea.String(permDoc("kms:Get" + strconv.Itoa(i)))}, rt)
		if err != nil || tea.StringValue(out.Body.PolicyVersion.VersionId) != "v"+strconv.Itoa(i) {
			t.Fatalf("version %d: %v, %v", i, out, err)
		}
	}
	_, err := rc.CreatePolicyVersionWithContext(ctxb(), &ram.CreatePolicyVersionRequest{PolicyName: name, PolicyDocument: tea.String(permDoc("kms:X"))}, rt)
	wantCode(t, err, "LimitExceeded.Policy.Version")
	if errStatus(err) != 409 {
		t.Errorf("status %d, want 409", errStatus(err))
	}
	must(rc.SetDefaultPolicyVersionWithContext(ctxb(), &ram.SetDefaultPolicyVersionRequest{PolicyName: name, VersionId: tea.String("v3")}, rt))
	out, err := rc.CreatePolicyVersionWithContext(ctxb(), &ram.CreatePolicyVersionRequest{PolicyName: name, PolicyDocument: tea.String(permDoc("kms:Y")),
		RotateStrategy: tea.String("DeleteOldestNonDefaultVersionWhenLimitExceeded")}, rt)
	if err != nil || tea.StringValue(out.Body.PolicyVersion.VersionId) != "v6" {
		t.Fatalf("rotate: %v, %v", out, err)
	}
	lv := must(rc.ListPolicyVersionsWithContext(ctxb(), &ram.ListPolicyVersionsRequest{PolicyName: name, PolicyType: tea.String("Custom")}, rt))
	var ids []string
	for _, v := range lv.Body.PolicyVersions.PolicyVersion {
		id := tea.StringValue(v.VersionId)
		if tea.BoolValue(v.IsDefaultVersion) {
			id += "*"
		}
		ids = append(ids, id)
	}
	if got := strings.Join(ids, ","); got != "v2,v3*,v4,v5,v6" {
		t.Errorf("versions after rotation = %s, want v2,v3*,v4,v5,v6 (v1, the oldest non-default, dropped)", got)
	}
	// The default v3 survives a second rotation; v2 goes.
	must(rc.CreatePolicyVersionWithContext(ctxb(), &ram.CreatePolicyVersionRequest{PolicyName: name, PolicyDocument: tea.String(permDoc("kms:Z")),
		RotateStrategy: tea.String("DeleteOldestNonDefaultVersionWhenLimitExceeded")}, rt))
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"delete default version", func() error {
			_, err := rc.DeletePolicyVersionWithContext(ctxb(), &ram.DeletePolicyVersionRequest{PolicyName: name, VersionId: tea.String("v3")}, rt)
			return err
		}, "DeleteConflict.Policy.Version.Default"},
		{"delete rotated-out version", func() error {
			_, err := rc.DeletePolicyVersionWithContext(ctxb(), &ram.DeletePolicyVersionRequest{PolicyName: name, VersionId: tea.String("v2")}, rt)
			return err
		}, "EntityNotExist.Policy.Version"},
		{"malformed version ID", func() error {
			_, err := rc.GetPolicyVersionWithContext(ctxb(), &ram.GetPolicyVersionRequest{PolicyName: name, PolicyType: tea.String("Custom"), VersionId: tea.String("3")}, rt)
			return err
		}, "InvalidParameter.VersionId.Format"},
		{"bad rotate strategy", func() error {
			_, err := rc.CreatePolicyVersionWithContext(ctxb(), &ram.CreatePolicyVersionRequest{PolicyName: name, PolicyDocument: tea.String(permDoc("kms:Q")), RotateStrategy: tea.String("Oldest")}, rt)
			return err
		}, "InvalidParameter.RotateStrategy"},
		{"delete policy with versions", func() error {
			_, err := rc.DeletePolicyWithContext(ctxb(), &ram.DeletePolicyRequest{PolicyName: name}, rt)
			return err
		}, "DeleteConflict.Policy.Version"},
		{"system policies are read-only", func() error {
			_, err := rc.CreatePolicyVersionWithContext(ctxb(), &ram.CreatePolicyVersionRequest{PolicyName: tea.String("AdministratorAccess"), PolicyDocument: tea.String(permDoc("kms:Q"))}, rt)
			return err
		}, "EntityNotExist.Policy"},
		{"cascading delete", func() error {
			_, err := rc.DeletePolicyWithContext(ctxb(), &ram.DeletePolicyRequest{PolicyName: name, CascadingDelete: tea.Bool(true)}, rt)
			return err
		}, ""},
	}
	for _, tc := range tests {
		if err := tc.call(); errCode(err) != tc.code || (tc.code == "" && err != nil) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.code)
		}
	}
	gp, err := rc.GetPolicyWithContext(ctxb(), &ram.GetPolicyRequest{PolicyName: tea.String("administratoraccess"), PolicyType: tea.String("System")}, rt)
	if err != nil || tea.StringValue(gp.Body.Policy.PolicyName) != "AdministratorAccess" || tea.StringValue(gp.Body.Policy.PolicyDocument) != "N/A" {
		t.Errorf("GetPolicy(system) = %v, %v", gp, err)
	}
}

// TestRAMNamesAndAttachments: names are unique case-insensitively and
// keep their display case; GetRole prints the ARN in lower case; the
// attachment conflicts have their documented codes.
func TestRAMNamesAndAttachments(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	rc := newClients(t, w.c.Config(w.app1.RootCredentials(), region)).ram
	role := func(name string) *ram.CreateRoleRequest {
		return &ram.CreateRoleRequest{RoleName: tea.String(name), AssumeRolePolicyDocument: tea.String(ecsTrust)}
	}
	attach := func(roleName, policy, typ string) error {
		_, err := rc.AttachPolicyToRoleWithContext(ctxb(), &ram.AttachPolicyToRoleRequest{RoleName: tea.String(roleName), PolicyName: tea.String(policy), PolicyType: tea.String(typ)}, rt)
		return err
	}
	detach := func(roleName, policy, typ string) error {
		_, err := rc.DetachPolicyFromRoleWithContext(ctxb(), &ram.DetachPolicyFromRoleRequest{RoleName: tea.String(roleName), PolicyName: tea.String(policy), PolicyType: tea.String(typ)}, rt)
		return err
	}
	must(rc.CreateRoleWithContext(ctxb(), role("AppKeyUser"), rt))
	must(rc.CreatePolicyWithContext(ctxb(), &ram.CreatePolicyRequest{PolicyName: tea.String("Kms-All"), PolicyDocument: tea.String(kmsAll)}, rt))
	must(w.app1.NewUser("ops"))
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"role exists in other case", func() error { _, err := rc.CreateRoleWithContext(ctxb(), role("appkeyuser"), rt); return err }, "EntityAlreadyExists.Role"},
		{"policy exists in other case", func() error {
			_, err := rc.CreatePolicyWithContext(ctxb(), &ram.CreatePolicyRequest{PolicyName: tea.String("KMS-ALL"), PolicyDocument: tea.String(kmsAll)}, rt)
			return err
		}, "EntityAlreadyExists.Policy"},
		{"attach", func() error { return attach("appkeyuser", "kms-all", "Custom") }, ""},
		{"attach again", func() error { return attach("AppKeyUser", "Kms-All", "Custom") }, "EntityAlreadyExists.Role.Policy"},
		{"attach unknown policy", func() error { return attach("AppKeyUser", "Nope", "Custom") }, "EntityNotExist.Policy"},
		{"attach to unknown role", func() error { return attach("Nope", "Kms-All", "Custom") }, "EntityNotExist.Role"},
		{"attach with bad type", func() error { return attach("AppKeyUser", "Kms-All", "Managed") }, "InvalidParameter.PolicyType"},
		{"attach without type", func() error { return attach("AppKeyUser", "Kms-All", "") }, "MissingParameter"},
		{"detach not attached", func() error { return detach("AppKeyUser", "AliyunKMSFullAccess", "System") }, "EntityNotExist.Role.Policy"},
		{"delete role with policies", func() error {
			_, err := rc.DeleteRoleWithContext(ctxb(), &ram.DeleteRoleRequest{RoleName: tea.String("AppKeyUser")}, rt)
			return err
		}, "DeleteConflict.Role.Policy"},
		{"delete policy attached to a role", func() error {
			_, err := rc.DeletePolicyWithContext(ctxb(), &ram.DeletePolicyRequest{PolicyName: tea.String("Kms-All")}, rt)
			return err
		}, "DeleteConflict.Role.Policy"},
		{"detach", func() error { return detach("APPKEYUSER", "Kms-All", "Custom") }, ""},
		{"attach to user", func() error {
			_, err := rc.AttachPolicyToUserWithContext(ctxb(), &ram.AttachPolicyToUserRequest{UserName: tea.String("ops"), PolicyName: tea.String("Kms-All"), PolicyType: tea.String("Custom")}, rt)
			return err
		}, ""},
		{"delete policy attached to a user", func() error {
			_, err := rc.DeletePolicyWithContext(ctxb(), &ram.DeletePolicyRequest{PolicyName: tea.String("Kms-All")}, rt)
			return err
		}, "DeleteConflict.Policy.User"},
		{"user attach again", func() error {
			_, err := rc.AttachPolicyToUserWithContext(ctxb(), &ram.AttachPolicyToUserRequest{UserName: tea.String("OPS"), PolicyName: tea.String("kms-all"), PolicyType: tea.String("Custom")}, rt)
			return err
		}, "EntityAlreadyExists.User.Policy"},
		{"delete role", func() error {
			_, err := rc.DeleteRoleWithContext(ctxb(), &ram.DeleteRoleRequest{RoleName: tea.String("appKEYuser")}, rt)
			return err
		}, ""},
	}
	for _, tc := range tests {
		if err := tc.call(); errCode(err) != tc.code || (tc.code == "" && err != nil) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.code)
		}
	}
	// Limits: ten custom policies per role.
	must(rc.CreateRoleWithContext(ctxb(), role("Many"), rt))
	for i := range 11 {
		name := "P" + strconv.Itoa(i)
		must(rc.CreatePolicyWithContext(ctxb(), &ram.CreatePolicyRequest{PolicyName: tea.String(name), PolicyDocument: tea.String(kmsAll)}, rt))
		err := attach("Many", name, "Custom")
		if want := map[bool]string{true: "LimitExceeded.Role.Policy", false: ""}[i == 10]; errCode(err) != want {
			t.Fatalf("attach #%d: %v, want %q", i+1, err, want)
		}
	}
}

// TestRAMValidation: documented limits and formats.
func TestRAMValidation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	rc := newClients(t, w.c.Config(w.app1.RootCredentials(), region)).ram
	long := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Describe*","Resource":"acs:kms:*:*:key/` + strings.Repeat("a", 6144) + `"}]}`
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"policy over 6144 characters", func() error {
			_, err := rc.CreatePolicyWithContext(ctxb(), &ram.CreatePolicyRequest{PolicyName: tea.String("Big"), PolicyDocument: tea.String(long)}, rt)
			return err
		}, "InvalidParameter.PolicyDocument.Length"},
		{"malformed policy", func() error {
			_, err := rc.CreatePolicyWithContext(ctxb(), &ram.CreatePolicyRequest{PolicyName: tea.String("Bad"), PolicyDocument: tea.String(`{"Version":"1","Statement":[{"Effect":"Allow"}]}`)}, rt)
			return err
		}, "MalformedPolicyDocument"},
		{"policy with a Principal", func() error {
			_, err := rc.CreatePolicyWithContext(ctxb(), &ram.CreatePolicyRequest{PolicyName: tea.String("Bad"), PolicyDocument: tea.String(ecsTrust)}, rt)
			return err
		}, "MalformedPolicyDocument"},
		{"policy name with underscore", func() error {
			_, err := rc.CreatePolicyWithContext(ctxb(), &ram.CreatePolicyRequest{PolicyName: tea.String("bad_name"), PolicyDocument: tea.String(kmsAll)}, rt)
			return err
		}, "InvalidParameter.PolicyName.InvalidChars"},
		{"trust policy granting kms", func() error {
			_, err := rc.CreateRoleWithContext(ctxb(), &ram.CreateRoleRequest{RoleName: tea.String("r"), AssumeRolePolicyDocument: tea.String(strings.Replace(ecsTrust, "sts:AssumeRole", "kms:Decrypt", 1))}, rt)
			return err
		}, "MalformedPolicyDocument"},
		{"role name with space", func() error {
			_, err := rc.CreateRoleWithContext(ctxb(), &ram.CreateRoleRequest{RoleName: tea.String("a b"), AssumeRolePolicyDocument: tea.String(ecsTrust)}, rt)
			return err
		}, "InvalidParameter.RoleName.InvalidChars"},
		{"role name of 65", func() error {
			_, err := rc.CreateRoleWithContext(ctxb(), &ram.CreateRoleRequest{RoleName: tea.String(strings.Repeat("r", 65)), AssumeRolePolicyDocument: tea.String(ecsTrust)}, rt)
			return err
		}, "InvalidParameter.RoleName.Length"},
		{"max session below 3600", func() error {
			_, err := rc.CreateRoleWithContext(ctxb(), &ram.CreateRoleRequest{RoleName: tea.String("r"), AssumeRolePolicyDocument: tea.String(ecsTrust), MaxSessionDuration: tea.Int64(900)}, rt)
			return err
		}, "InvalidParameter.MaxSessionDuration"},
		{"description over 1024", func() error {
			_, err := rc.CreateRoleWithContext(ctxb(), &ram.CreateRoleRequest{RoleName: tea.String("r"), AssumeRolePolicyDocument: tea.String(ecsTrust), Description: tea.String(strings.Repeat("d", 1025))}, rt)
			return err
		}, "InvalidParameter.Description.Length"},
		{"unknown role", func() error {
			_, err := rc.GetRoleWithContext(ctxb(), &ram.GetRoleRequest{RoleName: tea.String("ghost")}, rt)
			return err
		}, "EntityNotExist.Role"},
		{"ListRoles MaxItems 0", func() error {
			_, err := rc.ListRolesWithContext(ctxb(), &ram.ListRolesRequest{MaxItems: tea.Int32(0)}, rt)
			return err
		}, "InvalidParameter.MaxItems"},
	}
	for _, tc := range tests {
		err := tc.call()
		if errCode(err) != tc.code || (tc.code == "" && err != nil) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.code)
		}
		if tc.code == "MalformedPolicyDocument" && errStatus(err) != 409 {
			t.Errorf("%s: status %d, want 409", tc.name, errStatus(err))
		}
	}
}

// TestRAMAuthorization: RAM users need an identity-policy Allow on the
// documented resource acs:ram:*:<account>:role/<name>.
func TestRAMAuthorization(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	scoped := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:CreateRole","ram:GetRole"],"Resource":"acs:ram:*:` + w.app1.ID + `:role/app-*"}]}`
	must(w.app1.NewPolicy("CreateAppRoles", scoped))
	builder := must(w.app1.NewUser("builder", "CreateAppRoles"))
	kmsOnly := must(w.app1.NewUser("kms-only", "AliyunKMSFullAccess"))
	tests := []struct {
		name  string
		creds Credentials
		role  string
		code  string
	}{
		{"scoped allow", builder.Credentials(), "app-orders", ""},
		{"scoped allow, name case differs", builder.Credentials(), "APP-Billing", ""},
		{"outside the scope", builder.Credentials(), "db-admin", "NoPermission"},
		{"no RAM permission", kmsOnly.Credentials(), "app-x", "NoPermission"},
		{"root", w.app1.RootCredentials(), "anything", ""},
	}
	for _, tc := range tests {
		rc := newClients(t, w.c.Config(tc.creds, region)).ram
		_, err := rc.CreateRoleWithContext(ctxb(), &ram.CreateRoleRequest{RoleName: tea.String(tc.role), AssumeRolePolicyDocument: tea.String(ecsTrust)}, rt)
		if errCode(err) != tc.code || (tc.code == "" && err != nil) || (err != nil && errStatus(err) != 403) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.code)
		}
	}
}

// TestEventualConsistency: with VisibilityDelay, a freshly created role or
// policy is briefly invisible to AttachPolicyToRole; a retry loop gets
// through once emulator time has moved on.
func TestEventualConsistency(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{VisibilityDelay: 3 * time.Second})
	rc := newClients(t, w.c.Config(w.app1.RootCredentials(), region)).ram
	must(rc.CreateRoleWithContext(ctxb(), &ram.CreateRoleRequest{RoleName: tea.String("Fresh"), AssumeRolePolicyDocument: tea.String(ecsTrust)}, rt))
	must(rc.CreatePolicyWithContext(ctxb(), &ram.CreatePolicyRequest{PolicyName: tea.String("FreshPolicy"), PolicyDocument: tea.String(kmsAll)}, rt))
	attach := func(ctx context.Context) error {
		_, err := rc.AttachPolicyToRoleWithContext(ctx, &ram.AttachPolicyToRoleRequest{RoleName: tea.String("Fresh"), PolicyName: tea.String("FreshPolicy"), PolicyType: tea.String("Custom")}, rt)
		return cloudapi.Classify("ram", "AttachPolicyToRole", err)
	}
	err := attach(ctxb())
	if !errors.Is(err, cloudapi.ErrNotFound) || errCode(err) != "EntityNotExist.Role" {
		t.Fatalf("first attach: %v, want EntityNotExist.Role", err)
	}
	// The fresh policy is as invisible to a user's attach as to a role's.
	must(rc.CreateUserWithContext(ctxb(), &ram.CreateUserRequest{UserName: tea.String("ops")}, rt))
	attachUser := func() error {
		_, err := rc.AttachPolicyToUserWithContext(ctxb(), &ram.AttachPolicyToUserRequest{UserName: tea.String("ops"), PolicyName: tea.String("FreshPolicy"), PolicyType: tea.String("Custom")}, rt)
		return err
	}
	if err := attachUser(); errCode(err) != "EntityNotExist.Policy" {
		t.Errorf("user attach of a fresh policy: %v, want EntityNotExist.Policy", err)
	}
	// Existing (set-up) entities are visible at once.
	if _, err := rc.AttachPolicyToRoleWithContext(ctxb(), &ram.AttachPolicyToRoleRequest{RoleName: tea.String("ResourceDirectoryAccountAccessRole"),
		PolicyName: tea.String("AliyunKMSFullAccess"), PolicyType: tea.String("System")}, rt); err != nil {
		t.Fatal(err)
	}
	retries := 0
	retry := cloudapi.Retry{MaxAttempts: 10, Backoff: func(int) time.Duration { return time.Second },
		Check: func(err error) bool { return errors.Is(err, cloudapi.ErrNotFound) },
		Sleep: func(_ context.Context, d time.Duration) error { retries++; w.clock.Advance(d); return nil }}
	if err := retry.Do(ctxb(), attach); err != nil {
		t.Fatal(err)
	}
	if retries != 3 {
		t.Errorf("succeeded after %d retries, want 3 (3 s at 1 s each)", retries)
	}
	if err := attachUser(); err != nil {
		t.Errorf("user attach once the policy is visible: %v", err)
	}
}
