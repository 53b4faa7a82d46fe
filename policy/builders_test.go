package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
)

func TestBuildersRefuseBadInput(t *testing.T) {
	t.Parallel()
	key := arn.KMSKey(region, owner, "key-abc")
	tests := []struct {
		name string
		fn   func() (*Document, error)
		want string
	}{
		{"permission without keys", func() (*Document, error) { return KeyPermission(nil) }, "no keys"},
		{"permission on collection", func() (*Document, error) { return KeyPermission(nil, arn.KMSKeyCollection(region, owner)) }, "want a key ARN"},
		{"permission on role", func() (*Document, error) { return KeyPermission(nil, arn.RAMRole(owner, "x")) }, "want a key ARN"},
		{"permission on masked key", func() (*Document, error) {
			return KeyPermission(nil, arn.KMSKey(region, "119285303511****", "key-abc"))
		}, "masks IDs"},
		{"permission non-kms action", func() (*Document, error) { return KeyPermission([]string{"ecs:CreateDisk"}, key) }, "not a kms: action"},
		{"permission no actions", func() (*Document, error) { return KeyPermission([]string{}, key) }, "no actions"},
		{"trust nothing", func() (*Document, error) { return TrustRAM() }, "no principals"},
		{"trust key", func() (*Document, error) { return TrustRAM(key) }, "want an account"},
		{"trust all identities", func() (*Document, error) { return TrustRAM(arn.AccountAll(other)) }, "want an account"},
		{"trust placeholder", func() (*Document, error) { return TrustRAM(arn.AccountRoot("<UID>")) }, "placeholder"},
		{"service any account", func() (*Document, error) { return TrustService(arn.ECS(arn.AnyAccount)) }, "Resource Directory condition"},
		{"service masked", func() (*Document, error) { return TrustService(arn.ECS("119285303511****")) }, "masks IDs"},
		{"rd id without prefix", func() (*Document, error) { return TrustServiceInResourceDirectory("ecs.aliyuncs.com", "54abc") }, `start with "rd-"`},
		{"rd id masked", func() (*Document, error) { return TrustServiceInResourceDirectory("ecs.aliyuncs.com", "rd-54****") }, "masked"},
		{"rd id placeholder", func() (*Document, error) {
			return TrustServiceInResourceDirectory("ecs.aliyuncs.com", "<resource-directory-id>")
		}, "placeholder"},
		{"rd service with account", func() (*Document, error) { return TrustServiceInResourceDirectory(other+"@ecs.aliyuncs.com", "rd-abc") }, "bare service host"},
		{"folder path too short", func() (*Document, error) { return TrustServiceInFolder("ecs.aliyuncs.com", "rd-abc") }, "too short"},
		{"folder path bad root", func() (*Document, error) { return TrustServiceInFolder("ecs.aliyuncs.com", "rd-abc/fd-x") }, `"r-"`},
		{"folder path bad folder", func() (*Document, error) { return TrustServiceInFolder("ecs.aliyuncs.com", "rd-abc/r-x/folder") }, `"fd-"`},
		{"folder path template", func() (*Document, error) {
			return TrustServiceInFolder("ecs.aliyuncs.com", "<resource-directory-id>/<root-folder-id>/<current-folder-id>")
		}, "placeholder"},
		{"external id short", func() (*Document, error) { d, _ := TrustRAM(arn.AccountRoot(other)); return WithExternalID(d, "x") }, "2 to 1224"},
		{"external id chars", func() (*Document, error) {
			d, _ := TrustRAM(arn.AccountRoot(other))
			return WithExternalID(d, "has space")
		}, "letters, digits"},
		{"assume non-role", func() (*Document, error) { return AssumeRolePermission(arn.RAMUser(other, "u")) }, "want a role ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := tt.fn()
			if d != nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, %v; want error mentioning %q", d, err, tt.want)
			}
		})
	}
}

func TestTrustBuildersBehave(t *testing.T) {
	t.Parallel()
	roleARN := arn.RAMRole(owner, "AliyunECSShareEncryptImageDefaultRole").String()
	assume := func(c Caller, ctx ...string) Request {
		return withCtx(Request{Caller: c, Action: "sts:AssumeRole", Resource: roleARN, ResourceAccount: owner}, ctx...)
	}
	rd, _ := TrustServiceInResourceDirectory("ecs.aliyuncs.com", "rd-abc")
	folder, _ := TrustServiceInFolder("ecs.aliyuncs.com", "rd-abc/r-root/fd-apps/")
	ext, _ := TrustRAM(arn.AccountRoot(other))
	ext, _ = WithExternalID(ext, "ext-1")
	tests := []struct {
		name string
		doc  *Document
		req  Request
		want Decision
	}{
		{"rd member", rd, assume(ecsOther, "sts:ServiceOwnerRDId", "rd-abc"), Allowed},
		{"outside rd", rd, assume(ecsOther, "sts:ServiceOwnerRDId", "rd-zzz"), ImplicitDeny},
		{"folder member", folder, assume(ecsOther, "sts:ServiceOwnerRDPath", "rd-abc/r-root/fd-apps/"+other), Allowed},
		{"sub-folder member", folder, assume(ecsOther, "sts:ServiceOwnerRDPath", "rd-abc/r-root/fd-apps/fd-x/"+other), Allowed},
		{"other folder", folder, assume(ecsOther, "sts:ServiceOwnerRDPath", "rd-abc/r-root/fd-ops/"+other), ImplicitDeny},
		{"external id", ext, assume(otherRole, "sts:ExternalId", "ext-1"), Allowed},
		{"missing external id", ext, assume(otherRole), ImplicitDeny},
	}
	for _, tt := range tests {
		if got := Evaluate(tt.req, tt.doc).Decision; got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRoleSpecValidate(t *testing.T) {
	t.Parallel()
	trustDoc, _ := TrustService(arn.ECS(""))
	perm, _ := KeyPermission(nil, arn.KMSKey(region, owner, "key-abc"))
	good := RoleSpec{Name: "AliyunECSDiskEncryptDefaultRole", Trust: trustDoc,
		Policies: []CustomPolicy{{Name: "kmsshare-disk", Document: perm}}, SystemPolicies: []string{"AliyunKMSFullAccess"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := good.ARN(owner).String(); got != "acs:ram::"+owner+":role/aliyunecsdiskencryptdefaultrole" {
		t.Errorf("ARN = %s", got)
	}
	bad := []struct {
		name string
		mod  func(r *RoleSpec)
		want string
	}{
		{"name", func(r *RoleSpec) { r.Name = "bad_name" }, "role name"},
		{"no trust", func(r *RoleSpec) { r.Trust = nil }, "no trust policy"},
		{"permission as trust", func(r *RoleSpec) { r.Trust = perm }, "trust policy"},
		{"trust as permission", func(r *RoleSpec) { r.Policies[0].Document = trustDoc }, "permission policy"},
		{"policy name", func(r *RoleSpec) { r.Policies[0].Name = "has space" }, "policy name"},
		{"duplicate policy", func(r *RoleSpec) {
			r.Policies = append(r.Policies, CustomPolicy{Name: "KMSSHARE-disk", Document: perm})
		}, "listed twice"},
		{"session", func(r *RoleSpec) { r.MaxSessionDuration = 60 }, "MaxSessionDuration"},
		{"system policy name", func(r *RoleSpec) { r.SystemPolicies = []string{""} }, "policy name"},
	}
	for _, tt := range bad {
		r := good
		r.Policies = append([]CustomPolicy{}, good.Policies...)
		tt.mod(&r)
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want error mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestValidateKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kind Kind
		doc  string
		code string // expected problem code; "" means valid
	}{
		{"permission ok", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`, ""},
		{"permission with principal", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":"acs:ram::1:root"},"Action":"kms:Decrypt","Resource":"*"}]}`, "principal-not-allowed"},
		{"permission without resource", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt"}]}`, "resource-required"},
		{"permission without action", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}`, "action-required"},
		{"action and notaction", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","NotAction":"b","Resource":"*"}]}`, "action-required"},
		{"empty action", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, "empty-action"},
		{"empty resource", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","Resource":[]}]}`, "empty-resource"},
		{"no statements", Permission, `{"Version":"1","Statement":[]}`, "no-statement"},
		{"unknown operator", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"k":"v"}}}]}`, "condition-operator"},
		{"permission too large", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","Resource":["` + strings.Repeat("x", 6200) + `"]}]}`, "size-limit"},
		{"trust ok", Trust, `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}`, ""},
		{"trust without principal", Trust, `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow"}],"Version":"1"}`, "principal-required"},
		{"trust other action", Trust, `{"Statement":[{"Action":"kms:Decrypt","Effect":"Allow","Principal":{"RAM":"acs:ram::1:root"}}],"Version":"1"}`, "trust-action"},
		{"key policy ok", KeyPolicy, `{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1:*"]},"Resource":["*"],"Sid":"kms default key policy"}],"Version":"1"}`, ""},
		{"key policy resource", KeyPolicy, `{"Statement":[{"Action":"kms:Decrypt","Effect":"Allow","Principal":{"RAM":"acs:ram::1:*"},"Resource":"acs:kms:*:*:key/x"}],"Version":"1"}`, "resource-not-star"},
		{"key policy no resource", KeyPolicy, `{"Statement":[{"Action":"kms:Decrypt","Effect":"Allow","Principal":{"RAM":"acs:ram::1:*"}}],"Version":"1"}`, "resource-not-star"},
		{"key policy non-kms action", KeyPolicy, `{"Statement":[{"Action":"ecs:*","Effect":"Allow","Principal":{"RAM":"acs:ram::1:*"},"Resource":"*"}],"Version":"1"}`, "action-not-kms"},
		{"key policy service principal", KeyPolicy, `{"Statement":[{"Action":"kms:Decrypt","Effect":"Allow","Principal":{"RAM":"acs:ram::1:*","Service":"ecs.aliyuncs.com"},"Resource":"*"}],"Version":"1"}`, "principal-type"},
		{"key policy no principal", KeyPolicy, `{"Statement":[{"Action":"kms:Decrypt","Effect":"Allow","Resource":"*"}],"Version":"1"}`, "principal-required"},
		{"key policy bad sid", KeyPolicy, `{"Statement":[{"Action":"kms:Decrypt","Effect":"Allow","Principal":{"RAM":"acs:ram::1:*"},"Resource":"*","Sid":"has space"}],"Version":"1"}`, "sid"},
		{"key policy long sid", KeyPolicy, `{"Statement":[{"Action":"kms:Decrypt","Effect":"Allow","Principal":{"RAM":"acs:ram::1:*"},"Resource":"*","Sid":"` + strings.Repeat("a", 129) + `"}],"Version":"1"}`, "sid"},
		{"key policy too large", KeyPolicy, `{"Statement":[{"Action":"kms:Decrypt","Effect":"Allow","Principal":{"RAM":["` + strings.Repeat("acs:ram::1:user/u,", 2000) + `"]},"Resource":"*"}],"Version":"1"}`, "size-limit"},
	}
	for _, tt := range tests {
		d := MustParse(tt.doc)
		err := d.Validate(tt.kind)
		if tt.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Kind != tt.kind {
			t.Errorf("%s: got %v", tt.name, err)
			continue
		}
		found := false
		for _, p := range pe.Problems {
			found = found || p.code == tt.code
		}
		if !found {
			t.Errorf("%s: problems %v lack code %s", tt.name, pe.Problems, tt.code)
		}
	}
}
