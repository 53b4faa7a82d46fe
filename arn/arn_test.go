package arn

import (
	"errors"
	"strings"
	"testing"
)

const uid = "1192853035118460"

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    ARN
		field   string // non-empty: Parse must fail on this field
		kind    error  // optional: the specific reason
		pattern bool   // parse with ParsePattern instead
	}{
		// Valid concrete ARNs.
		{in: "acs:kms:cn-hangzhou:" + uid + ":key/key-hzz6801a1b2c3d4e5f6g7",
			want: ARN{"kms", "cn-hangzhou", uid, "key/key-hzz6801a1b2c3d4e5f6g7"}},
		{in: "acs:kms:cn-hangzhou:" + uid + ":key", want: ARN{"kms", "cn-hangzhou", uid, "key"}},
		{in: "acs:kms:cn-hangzhou:" + uid + ":key/05754286-3ba2-4fa6-8d41-4323aca6a0b1",
			want: ARN{"kms", "cn-hangzhou", uid, "key/05754286-3ba2-4fa6-8d41-4323aca6a0b1"}},
		{in: "acs:kms:cn-hangzhou:" + uid + ":alias/acs/ecs", want: ARN{"kms", "cn-hangzhou", uid, "alias/acs/ecs"}},
		{in: "acs:kms:ap-southeast-1:" + uid + ":secret/db-password", want: ARN{"kms", "ap-southeast-1", uid, "secret/db-password"}},
		{in: "acs:kms:cn-shanghai-finance-1:" + uid + ":keystore/kst-bjj62d8f5e0sgtx8h",
			want: ARN{"kms", "cn-shanghai-finance-1", uid, "keystore/kst-bjj62d8f5e0sgtx8h"}},
		{in: "acs:ram::" + uid + ":role/resourcedirectoryaccountaccessrole",
			want: ARN{"ram", "", uid, "role/resourcedirectoryaccountaccessrole"}},
		{in: "acs:ram::" + uid + ":role/ECSAdmin", want: ARN{"ram", "", uid, "role/ECSAdmin"}},
		{in: "acs:ram::" + uid + ":role/app.v2-prod", want: ARN{"ram", "", uid, "role/app.v2-prod"}},
		{in: "acs:ram::" + uid + ":user/for_test_policy", want: ARN{"ram", "", uid, "user/for_test_policy"}},
		{in: "acs:ram::" + uid + ":root", want: ARN{"ram", "", uid, "root"}},
		{in: "acs:ram::" + uid + ":*", want: ARN{"ram", "", uid, "*"}},
		{in: "acs:ram::" + uid + ":role/adminrole/alice", want: ARN{"ram", "", uid, "role/adminrole/alice"}},
		{in: "acs:ram::" + uid + ":assumed-role/app/session-1", want: ARN{"ram", "", uid, "assumed-role/app/session-1"}},
		{in: "acs:sts::" + uid + ":assumed-role/App/kmsshare@pipeline", want: ARN{"sts", "", uid, "assumed-role/App/kmsshare@pipeline"}},
		{in: "acs:ram::" + uid + ":saml-provider/okta", want: ARN{"ram", "", uid, "saml-provider/okta"}},
		{in: "acs:ecs:cn-hangzhou:" + uid + ":instance/i-abc:with:colons",
			want: ARN{"ecs", "cn-hangzhou", uid, "instance/i-abc:with:colons"}},
		{in: "acs:oss::" + uid + ":bucket/logs", want: ARN{"oss", "", uid, "bucket/logs"}},
		{in: "acs:kms:cn-hangzhou:1234567890000:key", want: ARN{"kms", "cn-hangzhou", "1234567890000", "key"}},

		// Patterns, accepted only by ParsePattern.
		{in: "acs:kms:*:*:*/*", pattern: true, want: ARN{"kms", "*", "*", "*/*"}},
		{in: "acs:kms:*:*:*", pattern: true, want: ARN{"kms", "*", "*", "*"}},
		{in: "acs:ram:*:" + uid + ":role/*", pattern: true, want: ARN{"ram", "*", uid, "role/*"}},
		{in: "acs:kms:cn-*:" + uid + ":key/key-??", pattern: true, want: ARN{"kms", "cn-*", uid, "key/key-??"}},
		{in: "acs:kms:*:*:*/*", field: "region", kind: ErrWildcard},
		{in: "acs:ram::" + uid + ":role/app*", field: "resource", kind: ErrWildcard},
		{in: "acs:kms:cn-hangzhou:*:key", field: "account", kind: ErrWildcard},

		// Prefix and shape.
		{in: "", field: "prefix"},
		{in: "arn:aws:kms:us-east-1:123456789012:key/abc", field: "prefix"},
		{in: "ACS:kms:cn-hangzhou:" + uid + ":key", field: "prefix"},
		{in: "acs:kms:cn-hangzhou:" + uid, field: "format"},
		{in: "acs:", field: "format"},
		{in: "acs:kms:cn-hangzhou:" + uid + ":", field: "resource"},
		{in: "acs::cn-hangzhou:" + uid + ":key", field: "service"},
		{in: "acs:KMS:cn-hangzhou:" + uid + ":key", field: "service"},

		// Documentation artefacts: masked IDs and placeholders.
		{in: "acs:ram::119285303511****:root", field: "account", kind: ErrMasked},
		{in: "acs:ram::119285303511****:*", field: "account", kind: ErrMasked, pattern: true},
		{in: "acs:kms:cn-hangzhou:" + uid + ":key/key-hzz630494463ejqjx****", field: "resource", kind: ErrMasked},
		{in: "acs:ram::<UID>:role/app", field: "account", kind: ErrPlaceholder},
		{in: "acs:ram::<owner-uid>:*", field: "account", kind: ErrPlaceholder, pattern: true},
		{in: "acs:kms:${region}:" + uid + ":key", field: "region", kind: ErrPlaceholder},
		{in: "acs:kms:<key-region-id>:" + uid + ":key/<key-id>", field: "region", kind: ErrPlaceholder},
		{in: "acs:kms:cn-hangzhou:" + uid + ":key/<key-id>", field: "resource", kind: ErrPlaceholder},

		// Accounts.
		{in: "acs:ram:::root", field: "account"},
		{in: "acs:ram::12345678901234567890123:root", field: "account"},
		{in: "acs:ram::1192-8530-3511:root", field: "account"},
		{in: "acs:ram:: 1192853035118460:root", field: "account"},

		// Regions.
		{in: "acs:ram:cn-hangzhou:" + uid + ":role/app", field: "region"},
		{in: "acs:kms::" + uid + ":key/key-abc", field: "region"},
		{in: "acs:kms:CN-HANGZHOU:" + uid + ":key", field: "region"},
		{in: "acs:kms:hangzhou:" + uid + ":key", field: "region"},
		{in: "acs:kms:cn_hangzhou:" + uid + ":key", field: "region"},

		// Role names and other RAM resources.
		{in: "acs:ram::" + uid + ":role/", field: "role name"},
		{in: "acs:ram::" + uid + ":role/" + strings.Repeat("a", 65), field: "role name"},
		{in: "acs:ram::" + uid + ":role/" + strings.Repeat("a", 64), want: ARN{"ram", "", uid, "role/" + strings.Repeat("a", 64)}},
		{in: "acs:ram::" + uid + ":role/my_role", field: "role name"},
		{in: "acs:ram::" + uid + ":role/rôle", field: "resource"},
		{in: "acs:ram::" + uid + ":role/app/s", field: "session name"},
		{in: "acs:ram::" + uid + ":assumed-role/app", field: "resource"},
		{in: "acs:ram::" + uid + ":assumed-role/app/bad session", field: "resource"},
		{in: "acs:ram::" + uid + ":group", field: "resource"},
		{in: "acs:ram::" + uid + ":roles/app", field: "resource"},
		{in: "acs:ram::" + uid + ":root/x", field: "resource"},
		{in: "acs:ram::" + uid + ":user/", field: "user name"},
		{in: "acs:sts::" + uid + ":role/app", field: "resource"},
		{in: "acs:sts::" + uid + ":root", field: "resource"},

		// KMS resources.
		{in: "acs:kms:cn-hangzhou:" + uid + ":key/", field: "resource"},
		{in: "acs:kms:cn-hangzhou:" + uid + ":keys/key-abc", field: "resource"},
		{in: "acs:kms:cn-hangzhou:" + uid + ":key/key abc", field: "resource"},
		{in: "acs:kms:cn-hangzhou:" + uid + ":key/key-abc/extra", field: "resource"},

		// Unicode and control characters.
		{in: "acs:kms:cn-hangzhou:" + uid + ":key/kéy", field: "resource"},
		{in: "acs:kms:cn-hangzhou:" + uid + ":key/key-abc\n", field: "resource"},
		{in: "acs:kms:cn-hangzhou:１１９２:key", field: "account"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			parse := Parse
			if tt.pattern {
				parse = ParsePattern
			}
			got, err := parse(tt.in)
			if tt.field != "" {
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("Parse(%q) = %+v, %v; want *Error on field %q", tt.in, got, err, tt.field)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %v does not match ErrInvalid", err)
				}
				if ae.Field != tt.field {
					t.Errorf("Parse(%q) failed on field %q (%v); want %q", tt.in, ae.Field, err, tt.field)
				}
				if ae.Input != tt.in {
					t.Errorf("Error.Input = %q, want the whole input %q", ae.Input, tt.in)
				}
				if tt.kind != nil && !errors.Is(err, tt.kind) {
					t.Errorf("error %v does not match %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Errorf("String() = %q, want the input back %q", s, tt.in)
			}
			if !tt.pattern && !IsARN(tt.in) {
				t.Errorf("IsARN(%q) = false", tt.in)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"acs:ram::119285303511****:root", `documentation masks IDs`},
		{"acs:ram::<UID>:root", `unfilled placeholder`},
		{"arn:aws:iam::123456789012:root", `AWS ARN`},
		{"acs:ram:cn-hangzhou:" + uid + ":role/a", `global service`},
		{"acs:ram::" + uid + ":role/a_b", `letters, digits, '.' and '-'`},
		{"acs:kms:cn-hangzhou:" + uid + ":key/*", `ParsePattern`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want it to mention %q", tt.in, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), tt.in) {
			t.Errorf("error %q does not quote the input", err)
		}
	}
}

func TestConstructors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got  ARN
		want string
	}{
		{RAMRole(uid, "AliyunECSDiskEncryptDefaultRole"), "acs:ram::" + uid + ":role/aliyunecsdiskencryptdefaultrole"},
		{RAMUser(uid, "alice"), "acs:ram::" + uid + ":user/alice"},
		{AccountRoot(uid), "acs:ram::" + uid + ":root"},
		{AccountAll(uid), "acs:ram::" + uid + ":*"},
		{KMSKey("cn-hangzhou", uid, "key-abc"), "acs:kms:cn-hangzhou:" + uid + ":key/key-abc"},
		{KMSKeyCollection("cn-hangzhou", uid), "acs:kms:cn-hangzhou:" + uid + ":key"},
		{ResourceDirectoryAccessRole(uid), "acs:ram::" + uid + ":role/resourcedirectoryaccountaccessrole"},
		{RoleSession(uid, "App", "Build-42"), "acs:ram::" + uid + ":assumed-role/app/Build-42"},
	}
	for _, tt := range tests {
		if s := tt.got.String(); s != tt.want {
			t.Errorf("got %q, want %q", s, tt.want)
		}
		if err := tt.got.Validate(); err != nil {
			t.Errorf("Validate(%s): %v", tt.got, err)
		}
		if back := MustParse(tt.want); back != tt.got {
			t.Errorf("MustParse(%q) = %+v, want %+v", tt.want, back, tt.got)
		}
	}
	if err := RAMRole("119285303511****", "app").Validate(); !errors.Is(err, ErrMasked) {
		t.Errorf("Validate of a masked account = %v, want ErrMasked", err)
	}
	if err := KMSKey("", uid, "key-abc").Validate(); err == nil {
		t.Error("Validate of a KMS key without region succeeded")
	}
}

func TestResourceHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, typ, name string
		role, user    bool
	}{
		{"acs:ram::" + uid + ":role/foo", "role", "foo", true, false},
		{"acs:ram::" + uid + ":user/bob", "user", "bob", false, true},
		{"acs:kms:cn-hangzhou:" + uid + ":key/key-abc", "key", "key-abc", false, false},
		{"acs:kms:cn-hangzhou:" + uid + ":key", "key", "", false, false},
		{"acs:ram::" + uid + ":root", "root", "", false, false},
		{"acs:ram::" + uid + ":assumed-role/app/s1", "assumed-role", "app/s1", false, false},
		{"acs:ram::" + uid + ":role/app/s1", "role", "app/s1", false, false},
	}
	for _, tt := range tests {
		a := MustParse(tt.in)
		if a.ResourceType() != tt.typ || a.ResourceName() != tt.name {
			t.Errorf("%s: type, name = %q, %q; want %q, %q", tt.in, a.ResourceType(), a.ResourceName(), tt.typ, tt.name)
		}
		if a.IsRole() != tt.role || a.IsUser() != tt.user {
			t.Errorf("%s: IsRole, IsUser = %v, %v; want %v, %v", tt.in, a.IsRole(), a.IsUser(), tt.role, tt.user)
		}
	}
}

func TestAssumedRole(t *testing.T) {
	t.Parallel()
	want := RAMRole(uid, "App")
	for _, in := range []string{
		"acs:ram::" + uid + ":assumed-role/App/s1",
		"acs:sts::" + uid + ":assumed-role/app/s1",
		"acs:ram::" + uid + ":role/APP/s1",
	} {
		role, session, ok := MustParse(in).AssumedRole()
		if !ok || !role.Equal(want) || session != "s1" {
			t.Errorf("AssumedRole(%s) = %v, %q, %v; want %v, s1, true", in, role, session, ok, want)
		}
		if role != want {
			t.Errorf("AssumedRole(%s) role = %v, want canonical %v", in, role, want)
		}
	}
	if role, session, ok := RoleSession(uid, "App", "s1").AssumedRole(); !ok || role != want || session != "s1" {
		t.Errorf("RoleSession(...).AssumedRole() = %v, %q, %v; want %v, s1, true", role, session, ok, want)
	}
	for _, in := range []string{
		"acs:ram::" + uid + ":role/app",
		"acs:ram::" + uid + ":user/app",
		"acs:kms:cn-hangzhou:" + uid + ":key/key-abc",
	} {
		if _, _, ok := MustParse(in).AssumedRole(); ok {
			t.Errorf("AssumedRole(%s) ok, want not an assumed role", in)
		}
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"acs:ram::" + uid + ":role/ECSAdmin", "acs:ram::" + uid + ":role/ecsadmin", true},
		{"acs:ram::" + uid + ":user/Alice", "acs:ram::" + uid + ":user/alice", true},
		{"acs:ram::" + uid + ":role/a", "acs:ram::" + uid + ":user/a", false},
		{"acs:ram::" + uid + ":role/a", "acs:ram::1111111111111111:role/a", false},
		{"acs:kms:cn-hangzhou:" + uid + ":key/key-ABC", "acs:kms:cn-hangzhou:" + uid + ":key/key-abc", false},
		{"acs:kms:cn-hangzhou:" + uid + ":key/key-abc", "acs:kms:cn-shanghai:" + uid + ":key/key-abc", false},
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		if got := a.Equal(b); got != tt.want {
			t.Errorf("Equal(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := b.Equal(a); got != tt.want {
			t.Errorf("Equal is not symmetric for %s, %s", tt.a, tt.b)
		}
	}
	if got := MustParse("acs:ram::" + uid + ":role/ECSAdmin").Canonical().String(); got != "acs:ram::"+uid+":role/ecsadmin" {
		t.Errorf("Canonical = %s", got)
	}
}

func TestServicePrincipal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ServicePrincipal
		bad  bool
		kind error
	}{
		{in: "ecs.aliyuncs.com", want: ServicePrincipal{"", "ecs.aliyuncs.com"}},
		{in: uid + "@ecs.aliyuncs.com", want: ServicePrincipal{uid, "ecs.aliyuncs.com"}},
		{in: "*@ecs.aliyuncs.com", want: ServicePrincipal{AnyAccount, "ecs.aliyuncs.com"}},
		{in: "keystore.kms.aliyuncs.com", want: ServicePrincipal{"", "keystore.kms.aliyuncs.com"}},
		{in: "<UID>@ecs.aliyuncs.com", bad: true, kind: ErrPlaceholder},
		{in: "119285303511****@ecs.aliyuncs.com", bad: true, kind: ErrMasked},
		{in: "@ecs.aliyuncs.com", bad: true},
		{in: "ecs.amazonaws.com", bad: true},
		{in: "ECS.aliyuncs.com", bad: true},
		{in: "aliyuncs.com", bad: true},
		{in: ".aliyuncs.com", bad: true},
		{in: "ecs..aliyuncs.com", bad: true},
		{in: "e*s.aliyuncs.com", bad: true, kind: ErrWildcard},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseServicePrincipal(tt.in)
		if tt.bad {
			if err == nil || !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseServicePrincipal(%q) = %+v, %v; want ErrInvalid", tt.in, got, err)
			}
			if tt.kind != nil && !errors.Is(err, tt.kind) {
				t.Errorf("ParseServicePrincipal(%q) error %v, want %v", tt.in, err, tt.kind)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != tt.in || !IsServicePrincipal(tt.in) {
			t.Errorf("ParseServicePrincipal(%q) = %+v, %v", tt.in, got, err)
		}
	}
	if n := ECS(uid).Name(); n != "ecs" {
		t.Errorf("Name() = %q", n)
	}
	role := "2222222222222222"
	acts := []struct {
		p      ServicePrincipal
		caller string
		want   bool
	}{
		{ECS(""), role, true},
		{ECS(""), uid, false},
		{ECS(uid), uid, true},
		{ECS(uid), role, false},
		{ECS(AnyAccount), uid, true},
		// Patterns, as trust policies write them.
		{ServicePrincipal{AccountID: "2222*", Service: "*.aliyuncs.com"}, role, true},
		{ServicePrincipal{AccountID: "2222*", Service: "*.aliyuncs.com"}, uid, false},
		{ServicePrincipal{Service: "ECS.aliyuncs.com"}, role, true},
	}
	for _, tt := range acts {
		if got := tt.p.ActsFor("ecs.aliyuncs.com", tt.caller, role); got != tt.want {
			t.Errorf("%s.ActsFor(ecs, %s) = %v, want %v", tt.p, tt.caller, got, tt.want)
		}
	}
	if ECS(AnyAccount).ActsFor("oss.aliyuncs.com", uid, role) {
		t.Error("ECS principal admitted OSS")
	}
}

func TestValidateNames(t *testing.T) {
	t.Parallel()
	if err := ValidateRoleName("AliyunECSShareEncryptImageDefaultRole"); err != nil {
		t.Error(err)
	}
	if err := ValidateRoleName("a/b"); err == nil {
		t.Error("ValidateRoleName(a/b) succeeded")
	}
	if err := ValidateAccountID(uid); err != nil {
		t.Error(err)
	}
	// A nil *Error must not become a non-nil error interface.
	var err error = ValidateAccountID(uid)
	if err != nil {
		t.Error("ValidateAccountID returned a typed nil")
	}
}

// TestSpecialBytes: hasSpecial's eight-byte and tail loops agree with
// isSpecial on every byte, alone and inside a word.
func TestSpecialBytes(t *testing.T) {
	t.Parallel()
	for c := 0; c < 256; c++ {
		alone := string([]byte{byte(c)})
		inWord := "abcdefgh" + alone + "ijklmnop"
		if got := hasSpecial(alone); got != isSpecial(byte(c)) || hasSpecial(inWord) != got {
			t.Errorf("byte %#x: hasSpecial %v, isSpecial %v", c, got, isSpecial(byte(c)))
		}
	}
}

// TestPasted: the rule Parse applies to each field, exported for any string.
func TestPasted(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want error
	}{
		{"<UID>", ErrPlaceholder},
		{"acs:kms:cn-hangzhou:<UID:key/k", ErrPlaceholder},
		{"key/a>b", ErrPlaceholder},
		{"${region}", ErrPlaceholder},
		{"119285303511****", ErrMasked},
		{"rd-54****", ErrMasked},
		{"acs:kms:*:*:key/*", nil},
		{"acs:ram::***:root", nil}, // stars after a separator are a wildcard
		{"$region", nil},
	} {
		if got := Pasted(tt.in); got != tt.want {
			t.Errorf("Pasted(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
