package policy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/golden"
)

// Values used by the golden documents and the Alibaba fixtures
// (testdata/alibaba/README.md lists the substitutions).
const (
	gOwner   = "1192853035118460"
	gUID1    = "2222222222222222"
	gUID2    = "3333333333333333"
	gKeyID   = "key-hzz6801a1b2c3d4e5f6g7"
	gRD      = "rd-k3a9Zx"
	gFolder  = "rd-k3a9Zx/r-Wm81Qa/fd-bVaRIG01/fd-Jyl5U7q2"
	gRegion  = "cn-hangzhou"
	gMgmtUID = "1000000000000001"
)

// emitted lists every document the package's builders can produce, by golden
// file name, with its kind and (for documents Alibaba publishes) the fixture
// it must be Equivalent to.
func emitted(t *testing.T) []struct {
	name    string
	kind    Kind
	doc     *Document
	fixture string
} {
	must := func(d *Document, err error) *Document {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	key := arn.KMSKey(gRegion, gOwner, gKeyID)
	def := must(DefaultKeyPolicy(gOwner))
	xacct := must(SetCrossAccountUsers(def, gOwner, nil, arn.ResourceDirectoryAccessRole(gUID1), arn.RAMRole(gUID2, "AliyunECSDiskEncryptDefaultRole")))
	narrow := must(SetCrossAccountUsers(xacct, gOwner, []string{"kms:Decrypt", "kms:DescribeKey"}, arn.RAMUser(gUID2, "reader")))
	admins := must(AddKeyAdministrators(def, gOwner, arn.RAMUser(gOwner, "key-admin"), arn.RAMRole(gOwner, "KeyAdmins")))
	users := must(AddKeyUsers(admins, gOwner, arn.RAMRole(gOwner, "App")))
	perm := must(KeyPermission([]string{"kms:DescribeKey", "kms:TagResource", "kms:UntagResource", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}, key))
	userPerm := must(KeyPermission(nil, key, arn.KMSKey("cn-shanghai", gOwner, "key-dr0000000000000000001")))
	return []struct {
		name    string
		kind    Kind
		doc     *Document
		fixture string
	}{
		{"key-policy-default", KeyPolicy, def, "kms-default-key-policy.json"},
		{"key-policy-cross-account-users", KeyPolicy, xacct, ""},
		{"key-policy-cross-account-narrow", KeyPolicy, narrow, ""},
		{"key-policy-administrators", KeyPolicy, admins, ""},
		{"key-policy-administrators-and-users", KeyPolicy, users, ""},
		{"permission-key-scoped", Permission, perm, "ecs-share-encrypt-role-permission.json"},
		{"permission-key-users-two-regions", Permission, userPerm, ""},
		{"permission-assume-role", Permission, must(AssumeRolePermission(arn.ResourceDirectoryAccessRole(gUID1), arn.ResourceDirectoryAccessRole(gUID2))), ""},
		{"trust-account", Trust, must(TrustRAM(arn.AccountRoot(gMgmtUID))), ""},
		{"trust-role", Trust, must(TrustRAM(arn.RAMRole(gMgmtUID, "Pipeline"))), ""},
		{"trust-account-external-id", Trust, must(WithExternalID(must(TrustRAM(arn.AccountRoot(gMgmtUID))), "kmsshare-3f9a")), ""},
		{"trust-ecs-same-account", Trust, must(TrustService(arn.ECS(""))), ""},
		{"trust-ecs-single-account", Trust, must(TrustService(arn.ECS(gUID1))), "ecs-share-encrypt-role-trust-single-account.json"},
		{"trust-ecs-accounts", Trust, must(TrustService(arn.ECS(gUID1), arn.ECS(gUID2))), "ecs-share-encrypt-role-trust-accounts.json"},
		{"trust-ecs-resource-directory", Trust, must(TrustServiceInResourceDirectory("ecs.aliyuncs.com", gRD)), "ecs-share-encrypt-role-trust-resource-directory.json"},
		{"trust-ecs-resource-folder", Trust, must(TrustServiceInFolder("ecs.aliyuncs.com", gFolder)), "ecs-share-encrypt-role-trust-resource-folder.json"},
	}
}

func TestGolden(t *testing.T) {
	for _, e := range emitted(t) {
		t.Run(e.name, func(t *testing.T) {
			got, err := e.doc.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "golden", e.name+".json"), got, "go test ./policy -run TestGolden -update")
			if err := e.doc.Validate(e.kind); err != nil {
				t.Errorf("emitted document is not a valid %v: %v", e.kind, err)
			}
			for _, f := range Lint(e.doc, e.kind, LintOptions{Owner: gOwner}) {
				if f.Severity == SeverityError {
					t.Errorf("lint error on an emitted document: %v", f)
				}
			}
			if e.fixture != "" {
				fixture, err := os.ReadFile(filepath.Join("testdata", "alibaba", e.fixture))
				if err != nil {
					t.Fatal(err)
				}
				pub, err := Parse(fixture)
				if err != nil {
					t.Fatalf("Alibaba's %s does not parse: %v", e.fixture, err)
				}
				if !Equivalent(e.doc, pub) {
					t.Errorf("not Equivalent to Alibaba's %s:\n got %s\nwant %s\ndiff %v", e.fixture, got, pub, Diff(pub, e.doc))
				}
			}
		})
	}
}

// TestActionListsMatchAlibaba compares the action sets with the console's
// lists as Alibaba publishes them.
func TestActionListsMatchAlibaba(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file string
		want []string
	}{
		{"kms-key-admin-actions.json", KeyAdministratorActions()},
		{"kms-key-user-actions.json", KeyUserActions()},
		{"kms-key-cross-account-user-actions.json", CrossAccountUserActions()},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "alibaba", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Statement []struct{ Action []string } }
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil || len(doc.Statement) != 1 {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if got := doc.Statement[0].Action; !slices.Equal(got, tt.want) {
			t.Errorf("%s lists %v, we have %v", tt.file, got, tt.want)
		}
	}
}

// TestAlibabaFixturesLint checks that the linter does not reject Alibaba's
// own documents.
func TestAlibabaFixturesLint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file string
		kind Kind
	}{
		{"kms-default-key-policy.json", KeyPolicy},
		{"ecs-disk-encrypt-role-permission.json", Permission},
		{"ecs-share-encrypt-role-permission.json", Permission},
		{"ecs-share-encrypt-role-trust-accounts.json", Trust},
		{"ecs-share-encrypt-role-trust-single-account.json", Trust},
		{"ecs-share-encrypt-role-trust-resource-directory.json", Trust},
		{"ecs-share-encrypt-role-trust-resource-folder.json", Trust},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "alibaba", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		for _, f := range Lint(d, tt.kind, LintOptions{Owner: gOwner}) {
			if f.Severity == SeverityError {
				t.Errorf("%s: %v", tt.file, f)
			}
		}
	}
}
