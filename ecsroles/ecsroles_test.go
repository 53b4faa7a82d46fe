package ecsroles

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

func TestValidation(t *testing.T) {
	t.Parallel()
	key := gKey()
	masked := arn.KMSKey(gRegion, "119285303511****", gKeyID)
	placeholder := arn.KMSKey(gRegion, "<key-owner-uid>", gKeyID)
	maskedKeyID := arn.KMSKey(gRegion, gOwner, "key-hzz630494463ejqjx****")
	image := func(owner string, trust Trusted, keys ...arn.ARN) func() (policy.RoleSpec, error) {
		return func() (policy.RoleSpec, error) { return ShareEncryptImage(owner, trust, keys...) }
	}
	snapshot := func(owner string, trust Trusted, keys ...arn.ARN) func() (policy.RoleSpec, error) {
		return func() (policy.RoleSpec, error) { return ShareEncryptSnapshot(owner, trust, keys...) }
	}
	imageSK := func(owner string, trust Trusted) func() (policy.RoleSpec, error) {
		return func() (policy.RoleSpec, error) { return ShareEncryptImageServiceKey(owner, trust) }
	}
	disk := func(keys ...arn.ARN) func() (policy.RoleSpec, error) {
		return func() (policy.RoleSpec, error) { return DiskEncrypt(keys...) }
	}
	for _, tt := range []struct {
		name  string
		build func() (policy.RoleSpec, error)
		input string  // Error.Input
		is    []error // besides policy.ErrInvalid
		say   string  // a part of the message
	}{
		// owner
		{"masked owner", image("119285303511****", Accounts(gUID1), masked), "owner", []error{arn.ErrInvalid, arn.ErrMasked}, "masks IDs"},
		{"placeholder owner", image("<owner-uid>", Accounts(gUID1), key), "owner", []error{arn.ErrInvalid, arn.ErrPlaceholder}, "placeholder"},
		{"empty owner", snapshot("", Accounts(gUID1), key), "owner", []error{arn.ErrInvalid}, "empty"},
		{"owner not digits", imageSK("acct-1", Accounts(gUID1)), "owner", []error{arn.ErrInvalid}, "digits"},

		// accounts
		{"zero Trusted", image(gOwner, Trusted{}, key), "trust", nil, "no trust scope"},
		{"empty account list", image(gOwner, Accounts(), key), "trust", nil, "empty account list"},
		{"masked account", image(gOwner, Accounts(gUID1, "222222222222****"), key), "account", []error{arn.ErrInvalid, arn.ErrMasked}, "masks IDs"},
		{"placeholder account", snapshot(gOwner, Accounts("<UID1>"), key), "account", []error{arn.ErrInvalid, arn.ErrPlaceholder}, "placeholder"},
		{"account with letters", image(gOwner, Accounts("22222222x2222222"), key), "account", []error{arn.ErrInvalid}, "digits"},
		{"duplicate account", image(gOwner, Accounts(gUID1, gUID2, gUID1), key), "account", nil, "listed twice"},
		{"owner among the accounts", image(gOwner, Accounts(gUID1, gOwner), key), "account", nil, "sharing with yourself"},
		{"owner alone, service key", imageSK(gOwner, Accounts(gOwner)), "account", nil, "sharer's own account"},

		// resource directory and folder
		{"RD ID without prefix", image(gOwner, ResourceDirectory("k3a9Zx"), key), "resource directory ID", nil, `does not start with "rd-"`},
		{"RD ID masked", image(gOwner, ResourceDirectory("rd-k3****"), key), "resource directory ID", []error{arn.ErrMasked}, "masked"},
		{"RD ID placeholder", image(gOwner, ResourceDirectory("<resource-directory-id>"), key), "resource directory ID", []error{arn.ErrPlaceholder}, "placeholder"},
		{"RD ID empty", snapshot(gOwner, ResourceDirectory(""), key), "resource directory ID", nil, "rd-"},
		{"RD ID is a folder path", image(gOwner, ResourceDirectory(gFolder), key), "resource directory ID", nil, "other than letters and digits"},
		{"folder path: RD ID only", image(gOwner, Folder(gRD), key), "folder path", nil, "too short"},
		{"folder path: no root", image(gOwner, Folder("rd-k3a9Zx/fd-bVaRIG01"), key), "folder path", nil, `"r-"`},
		{"folder path: wrong order", image(gOwner, Folder("r-Wm81Qa/rd-k3a9Zx/fd-bVaRIG01"), key), "folder path", nil, `"rd-"`},
		{"folder path: member account at the end", image(gOwner, Folder(gFolder+"/"+gUID1), key), "folder path", nil, `"fd-"`},
		{"folder path: masked", snapshot(gOwner, Folder("rd-k3****/r-Wm****/fd-Jyl5U7****"), key), "folder path", []error{arn.ErrMasked}, "masked"},
		{"folder path: placeholder", image(gOwner, Folder("<resource-directory-id>/<root-folder-id>"), key), "folder path", []error{arn.ErrPlaceholder}, "placeholder"},
		{"folder path: empty segment", image(gOwner, Folder("rd-k3a9Zx/r-Wm81Qa//fd-Jyl5U7q2"), key), "folder path", nil, `"fd-"`},
		{"folder path: wildcard", image(gOwner, Folder("rd-k3a9Zx/r-Wm81Qa/*"), key), "folder path", nil, `"fd-"`},

		// keys of share roles
		{"no key", image(gOwner, Accounts(gUID1)), "key", nil, "ShareEncryptImageServiceKey"},
		{"no key, snapshot", snapshot(gOwner, Accounts(gUID1)), "key", nil, "ShareEncryptSnapshotServiceKey"},
		{"key of another account", image(gOwner, Accounts(gUID2), gRecipientKey()), "key", nil, "not to the sharer"},
		{"second key of another account", snapshot(gOwner, Accounts(gUID2), key, gRecipientKey()), "key", nil, "not to the sharer"},
		{"key collection", image(gOwner, Accounts(gUID1), arn.KMSKeyCollection(gRegion, gOwner)), "key", nil, "key collection"},
		{"alias", image(gOwner, Accounts(gUID1), arn.MustParse("acs:kms:cn-hangzhou:"+gOwner+":alias/ecs")), "key", nil, "want a KMS key ARN"},
		{"RAM role instead of key", image(gOwner, Accounts(gUID1), arn.RAMRole(gOwner, "App")), "key", nil, "want a KMS key ARN"},
		{"masked key account", image(gOwner, Accounts(gUID1), masked), "key", []error{arn.ErrInvalid, arn.ErrMasked}, "masks IDs"},
		{"masked key ID", image(gOwner, Accounts(gUID1), maskedKeyID), "key", []error{arn.ErrInvalid, arn.ErrMasked}, "masks IDs"},
		{"placeholder key account", snapshot(gOwner, Accounts(gUID1), placeholder), "key", []error{arn.ErrInvalid, arn.ErrPlaceholder}, "placeholder"},
		{"wildcard key", image(gOwner, Accounts(gUID1), arn.KMSKey(gRegion, gOwner, "*")), "key", []error{arn.ErrInvalid, arn.ErrWildcard}, "wildcard"},
		{"key without region", image(gOwner, Accounts(gUID1), arn.KMSKey("", gOwner, gKeyID)), "key", []error{arn.ErrInvalid}, "region"},
		{"zero key", image(gOwner, Accounts(gUID1), arn.ARN{}), "key", []error{arn.ErrInvalid}, "service"},
		{"duplicate key", image(gOwner, Accounts(gUID1), key, gKey2(), key), "key", nil, "listed twice"},

		// keys of the disk role
		{"disk: key collection", disk(arn.KMSKeyCollection(gRegion, gOwner)), "key", nil, "key collection"},
		{"disk: masked key", disk(gRecipientKey(), masked), "key", []error{arn.ErrInvalid, arn.ErrMasked}, "masks IDs"},
		{"disk: placeholder key", disk(placeholder), "key", []error{arn.ErrInvalid, arn.ErrPlaceholder}, "placeholder"},
		{"disk: alias", disk(arn.MustParse("acs:kms:cn-hangzhou:" + gOwner + ":alias/ecs")), "key", nil, "want a KMS key ARN"},
		{"disk: duplicate key", disk(key, key), "key", nil, "listed twice"},
		{"disk: too many keys", disk(manyKeys(120)...), "key", nil, "do not fit in one permission policy"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec, err := tt.build()
			if err == nil {
				t.Fatalf("no error; spec %+v", spec)
			}
			if spec.Name != "" || spec.Trust != nil {
				t.Errorf("non-zero spec returned with an error: %+v", spec)
			}
			for _, target := range append([]error{policy.ErrInvalid}, tt.is...) {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false", err, target)
				}
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%T is not an *ecsroles.Error", err)
			}
			if e.Input != tt.input {
				t.Errorf("Input = %q, want %q (%v)", e.Input, tt.input, err)
			}
			if e.Role == "" || !strings.Contains(err.Error(), e.Role) {
				t.Errorf("message does not name the role: %v", err)
			}
			if !strings.Contains(err.Error(), tt.say) {
				t.Errorf("message %q does not say %q", err, tt.say)
			}
		})
	}
}

// manyKeys returns n distinct keys of two accounts.
func manyKeys(n int) []arn.ARN {
	keys := make([]arn.ARN, n)
	for i := range keys {
		account := gOwner
		if i%2 == 1 {
			account = gUID1
		}
		keys[i] = arn.KMSKey(gRegion, account, fmt.Sprintf("key-hzz%018d", i))
	}
	return keys
}

// TestDiskEncryptManyKeys checks that keys up to the size limit are accepted
// and grouped into one policy.
func TestDiskEncryptManyKeys(t *testing.T) {
	t.Parallel()
	spec, err := DiskEncrypt(manyKeys(40)...)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Policies) != 1 {
		t.Fatalf("%d policies, want 1", len(spec.Policies))
	}
	d := spec.Policies[0].Document
	if got := len(d.Statement[1].Resource.Values); got != 40 {
		t.Errorf("%d key resources, want 40", got)
	}
	if got := len(d.Statement[0].Resource.Values); got != 2 {
		t.Errorf("%d collections, want 2 (one per account): %v", got, d.Statement[0].Resource.Values)
	}
}

func TestRoleNamesAndVariants(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		build      func() (policy.RoleSpec, error)
		role       string
		policies   int
		systemPols []string
	}{
		{"disk published", func() (policy.RoleSpec, error) { return DiskEncrypt() }, DiskEncryptRoleName, 1, nil},
		{"disk scoped", func() (policy.RoleSpec, error) { return DiskEncrypt(gKey()) }, DiskEncryptRoleName, 1, nil},
		{"image", func() (policy.RoleSpec, error) { return ShareEncryptImage(gOwner, Accounts(gUID1), gKey(), gKey2()) }, ShareImageRoleName, 2, nil},
		{"snapshot", func() (policy.RoleSpec, error) { return ShareEncryptSnapshot(gOwner, Folder(gFolder), gKey()) }, ShareSnapshotRoleName, 1, nil},
		{"image service key", func() (policy.RoleSpec, error) { return ShareEncryptImageServiceKey(gOwner, ResourceDirectory(gRD)) }, ShareImageRoleName, 0, []string{KMSFullAccessPolicy}},
		{"snapshot service key", func() (policy.RoleSpec, error) { return ShareEncryptSnapshotServiceKey(gOwner, Accounts(gUID2)) }, ShareSnapshotRoleName, 0, []string{KMSFullAccessPolicy}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			if spec.Name != tt.role {
				t.Errorf("Name = %q, want %q", spec.Name, tt.role)
			}
			if len(spec.Policies) != tt.policies {
				t.Errorf("%d custom policies, want %d", len(spec.Policies), tt.policies)
			}
			if fmt.Sprint(spec.SystemPolicies) != fmt.Sprint(tt.systemPols) {
				t.Errorf("SystemPolicies = %q, want %q", spec.SystemPolicies, tt.systemPols)
			}
			if spec.MaxSessionDuration != 0 {
				t.Errorf("MaxSessionDuration = %d, want RAM's default", spec.MaxSessionDuration)
			}
			if err := spec.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestShareTrustNeverPlainECS checks that no share role trusts the plain
// ecs.aliyuncs.com (ECS of the role's own account), which makes sharing fail
// with AssumeRoleError.
func TestShareTrustNeverPlainECS(t *testing.T) {
	t.Parallel()
	for _, e := range emitted(t) {
		if e.spec.Name == DiskEncryptRoleName {
			continue
		}
		for _, s := range e.spec.Trust.Statement {
			for _, p := range s.Principal.Service.Values {
				if !strings.Contains(p, "@") {
					t.Errorf("%s trusts %q", e.name, p)
				}
			}
			if s.Principal.RAM.IsSet() || s.Principal.Federated.IsSet() {
				t.Errorf("%s trusts more than ECS: %+v", e.name, s.Principal)
			}
		}
	}
}

func TestPolicyNames(t *testing.T) {
	t.Parallel()
	long := arn.KMSKey(gRegion, gOwner, "key-"+strings.Repeat("a", 120))
	long2 := arn.KMSKey(gRegion, gOwner, "key-"+strings.Repeat("a", 119)+"b")
	underscore := arn.KMSKey(gRegion, gOwner, "key_with_underscores")
	for _, tt := range []struct {
		role string
		key  arn.ARN
		want string
	}{
		{ShareImageRoleName, gKey(), "ECSShareEncryptImageDefaultRolePolicy-cn-hangzhou-" + gKeyID},
		{ShareSnapshotRoleName, gKey(), "ECSShareEncryptSnapshotDefaultRolePolicy-cn-hangzhou-" + gKeyID},
		{ShareImageRoleName, arn.KMSKey("ap-southeast-1", gOwner, "1234abcd-12ab-34cd-56ef-1234567890ab"),
			"ECSShareEncryptImageDefaultRolePolicy-ap-southeast-1-1234abcd-12ab-34cd-56ef-1234567890ab"},
		{ShareImageRoleName, long, "ECSShareEncryptImageDefaultRolePolicy-" + sha24(long)},
		{ShareImageRoleName, long2, "ECSShareEncryptImageDefaultRolePolicy-" + sha24(long2)},
		{ShareSnapshotRoleName, underscore, "ECSShareEncryptSnapshotDefaultRolePolicy-" + sha24(underscore)},
	} {
		got := keyPolicyName(tt.role, tt.key)
		if got != tt.want {
			t.Errorf("keyPolicyName(%s, %s) = %q, want %q", tt.role, tt.key, got, tt.want)
		}
		if err := policy.ValidatePolicyName(got); err != nil {
			t.Error(err)
		}
	}
	if keyPolicyName(ShareImageRoleName, long) == keyPolicyName(ShareImageRoleName, long2) {
		t.Error("two long key IDs share a policy name")
	}
	spec, err := ShareEncryptImage(gOwner, Accounts(gUID1), long, underscore, gKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Validate(); err != nil {
		t.Error(err)
	}
	disk, err := DiskEncrypt()
	if err != nil {
		t.Fatal(err)
	}
	if got := disk.Policies[0].Name; got != "ECSDiskEncryptDefaultRolePolicy" {
		t.Errorf("disk policy name %q", got)
	}
	scoped, err := DiskEncrypt(gKey())
	if err != nil {
		t.Fatal(err)
	}
	if scoped.Policies[0].Name != disk.Policies[0].Name {
		t.Errorf("the scoped disk policy is named %q, the published one %q; switching would leave the old one attached",
			scoped.Policies[0].Name, disk.Policies[0].Name)
	}
}

// sha24 is the expected hash fallback, computed independently of the code
// under test's formatting.
func sha24(k arn.ARN) string {
	return fmt.Sprintf("%x", sha256Sum(k.String()))[:24]
}

// TestDeterministic checks that the same inputs give byte-identical output
// whatever the order of the accounts, so re-applying finds nothing to change.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	a, err := ShareEncryptImage(gOwner, Accounts(gUID2, gUID1, "4444444444444444"), gKey())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ShareEncryptImage(gOwner, Accounts("4444444444444444", gUID1, gUID2), gKey())
	if err != nil {
		t.Fatal(err)
	}
	if a.Trust.String() != b.Trust.String() {
		t.Errorf("trust depends on the order of the accounts:\n%s\n%s", a.Trust, b.Trust)
	}
	want := `["2222222222222222@ecs.aliyuncs.com","3333333333333333@ecs.aliyuncs.com","4444444444444444@ecs.aliyuncs.com"]`
	if got := a.Trust.Statement[0].Principal.Service; string(mustJSON(t, got)) != want {
		t.Errorf("principals %s, want %s", mustJSON(t, got), want)
	}
}

// TestInputsNotAliased checks that a Trusted keeps its own copy of the
// accounts and that specs share no documents.
func TestInputsNotAliased(t *testing.T) {
	t.Parallel()
	uids := []string{gUID1, gUID2}
	trust := Accounts(uids...)
	uids[0] = gOwner // would be refused if the Trusted saw it
	spec, err := ShareEncryptSnapshot(gOwner, trust, gKey())
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.Trust.Statement[0].Principal.Service.Values[0]; got != gUID1+"@ecs.aliyuncs.com" {
		t.Errorf("first principal %q", got)
	}
	d1, err := DiskEncrypt()
	if err != nil {
		t.Fatal(err)
	}
	d1.Policies[0].Document.Statement[0].Effect = policy.Deny
	d2, err := DiskEncrypt()
	if err != nil {
		t.Fatal(err)
	}
	if d2.Policies[0].Document.Statement[0].Effect != policy.Allow {
		t.Error("editing one DiskEncrypt spec changed the next")
	}
}

func TestTrustedString(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		t    Trusted
		want string
	}{
		{Accounts(gUID1, gUID2), "ECS of accounts 2222222222222222, 3333333333333333"},
		{ResourceDirectory(gRD), "ECS of every account in resource directory rd-k3a9Zx"},
		{Folder(gFolder), "ECS of every account in folder " + gFolder + " and below"},
		{Trusted{}, "nobody"},
	} {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := ShareEncryptImage(gOwner, Accounts(gUID1), gRecipientKey())
	want := `ecsroles: AliyunECSShareEncryptImageDefaultRole: key "acs:kms:cn-shanghai:2222222222222222:key/key-shh1111111111111111111": ` +
		`belongs to account 2222222222222222, not to the sharer 1192853035118460; the share role lives in the account that owns the key and shares what it encrypts`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	_, err = ShareEncryptImage("119285303511****", Accounts(gUID1), gKey())
	want = `ecsroles: AliyunECSShareEncryptImageDefaultRole: owner "119285303511****": arn: invalid account in "119285303511****": documentation masks IDs with "****"; use the real, unmasked ID`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
