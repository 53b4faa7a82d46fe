package ecsroles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/golden"
	"github.com/kmsshare/kmsshare/policy"
)

// Values used by the golden documents and the Alibaba fixtures
// (testdata/alibaba/README.md lists the substitutions).
const (
	gOwner  = "1192853035118460" // owns the key; the sharer in W4, account A in W2
	gUID1   = "2222222222222222" // a recipient; account B in W2
	gUID2   = "3333333333333333"
	gKeyID  = "key-hzz6801a1b2c3d4e5f6g7"
	gRD     = "rd-k3a9Zx"
	gFolder = "rd-k3a9Zx/r-Wm81Qa/fd-bVaRIG01/fd-Jyl5U7q2"
	gRegion = "cn-hangzhou"
)

// Fixture file names in testdata/alibaba.
const (
	fxDiskTrust      = "ecs-disk-encrypt-role-trust.json"
	fxDiskPermission = "ecs-disk-encrypt-role-permission.json"
	fxSharePerm      = "ecs-share-encrypt-role-permission.json"
	fxTrustSingle    = "ecs-share-encrypt-role-trust-single-account.json"
	fxTrustAccounts  = "ecs-share-encrypt-role-trust-accounts.json"
	fxTrustRD        = "ecs-share-encrypt-role-trust-resource-directory.json"
	fxTrustFolder    = "ecs-share-encrypt-role-trust-resource-folder.json"
)

func gKey() arn.ARN          { return arn.KMSKey(gRegion, gOwner, gKeyID) }
func gKey2() arn.ARN         { return arn.KMSKey("cn-shanghai", gOwner, "key-shh0000000000000000001") }
func gRecipientKey() arn.ARN { return arn.KMSKey("cn-shanghai", gUID1, "key-shh1111111111111111111") }

// emittedSpec is one spec the package can produce, with the account that
// owns the role and, for documents Alibaba publishes, the fixture each
// document must be Equivalent to ("" for none).
type emittedSpec struct {
	name          string
	owner         string
	spec          policy.RoleSpec
	trustFixture  string
	permFixtures  []string // one per custom policy
	wantSystemPol []string
}

// emitted lists every role, trust scope and permission variant the package
// produces, by golden file prefix.
func emitted(t *testing.T) []emittedSpec {
	t.Helper()
	must := func(s policy.RoleSpec, err error) policy.RoleSpec {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	out := []emittedSpec{
		{"disk-published", gUID1, must(DiskEncrypt()), fxDiskTrust, []string{fxDiskPermission}, nil},
		{"disk-shared-key", gUID1, must(DiskEncrypt(gKey(), gRecipientKey())), fxDiskTrust, []string{""}, nil},
	}
	for _, k := range []struct {
		prefix     string
		build      func(string, Trusted, ...arn.ARN) (policy.RoleSpec, error)
		serviceKey func(string, Trusted) (policy.RoleSpec, error)
	}{
		{"image", ShareEncryptImage, ShareEncryptImageServiceKey},
		{"snapshot", ShareEncryptSnapshot, ShareEncryptSnapshotServiceKey},
	} {
		out = append(out,
			emittedSpec{k.prefix + "-single-account", gOwner, must(k.build(gOwner, Accounts(gUID1), gKey())), fxTrustSingle, []string{fxSharePerm}, nil},
			emittedSpec{k.prefix + "-accounts", gOwner, must(k.build(gOwner, Accounts(gUID2, gUID1), gKey())), fxTrustAccounts, []string{fxSharePerm}, nil},
			emittedSpec{k.prefix + "-resource-directory", gOwner, must(k.build(gOwner, ResourceDirectory(gRD), gKey())), fxTrustRD, []string{fxSharePerm}, nil},
			emittedSpec{k.prefix + "-resource-folder", gOwner, must(k.build(gOwner, Folder(gFolder), gKey())), fxTrustFolder, []string{fxSharePerm}, nil},
			emittedSpec{k.prefix + "-two-keys", gOwner, must(k.build(gOwner, Accounts(gUID1, gUID2), gKey(), gKey2())), fxTrustAccounts, []string{fxSharePerm, ""}, nil},
			emittedSpec{k.prefix + "-service-key", gOwner, must(k.serviceKey(gOwner, Accounts(gUID1))), fxTrustSingle, nil, []string{KMSFullAccessPolicy}},
			emittedSpec{k.prefix + "-service-key-resource-folder", gOwner, must(k.serviceKey(gOwner, Folder(gFolder))), fxTrustFolder, nil, []string{KMSFullAccessPolicy}},
		)
	}
	return out
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "golden", name), got, "go test ./ecsroles -run TestGolden -update")
}

func readFixture(t *testing.T, name string) *policy.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "alibaba", name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := policy.Parse(b)
	if err != nil {
		t.Fatalf("Alibaba's %s does not parse: %v", name, err)
	}
	return d
}

// checkDocument compares one emitted document with its golden file, checks
// its kind and lint findings, and its equivalence with a fixture.
func checkDocument(t *testing.T, golden string, d *policy.Document, kind policy.Kind, owner, fixture string) {
	t.Helper()
	got, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, golden, got)
	if err := d.Validate(kind); err != nil {
		t.Errorf("%s: not a valid %v: %v", golden, kind, err)
	}
	for _, f := range policy.Lint(d, kind, policy.LintOptions{Owner: owner}) {
		if f.Severity == policy.SeverityError {
			t.Errorf("%s: lint error on an emitted document: %v", golden, f)
		}
	}
	if fixture != "" {
		pub := readFixture(t, fixture)
		if !policy.Equivalent(d, pub) {
			t.Errorf("%s: not Equivalent to Alibaba's %s:\n got %s\nwant %s\ndiff %v", golden, fixture, got, pub, policy.Diff(pub, d))
		}
	}
}

// TestGolden checks every emitted document byte for byte against
// testdata/golden, and the spec's names and descriptions against
// testdata/golden/specs.txt (policy names must not drift: re-applying a spec
// finds its policies by name).
func TestGolden(t *testing.T) {
	var summary strings.Builder
	for _, e := range emitted(t) {
		t.Run(e.name, func(t *testing.T) {
			if err := e.spec.Validate(); err != nil {
				t.Errorf("RoleSpec.Validate: %v", err)
			}
			checkDocument(t, e.name+"-trust.json", e.spec.Trust, policy.Trust, e.owner, e.trustFixture)
			if len(e.spec.Policies) != len(e.permFixtures) {
				t.Fatalf("%d custom policies, want %d", len(e.spec.Policies), len(e.permFixtures))
			}
			for i, p := range e.spec.Policies {
				checkDocument(t, fmt.Sprintf("%s-policy-%d.json", e.name, i+1), p.Document, policy.Permission, e.owner, e.permFixtures[i])
			}
			if fmt.Sprint(e.spec.SystemPolicies) != fmt.Sprint(e.wantSystemPol) {
				t.Errorf("system policies %q, want %q", e.spec.SystemPolicies, e.wantSystemPol)
			}
		})
		fmt.Fprintf(&summary, "== %s\nName: %s\nARN: %s\nDescription: %s\nMaxSessionDuration: %d\nSystemPolicies: %s\n",
			e.name, e.spec.Name, e.spec.ARN(e.owner), e.spec.Description, e.spec.MaxSessionDuration, strings.Join(e.spec.SystemPolicies, ", "))
		for i, p := range e.spec.Policies {
			fmt.Fprintf(&summary, "Policy %d: %s\n  %s\n", i+1, p.Name, p.Description)
		}
	}
	checkGolden(t, "specs.txt", []byte(summary.String()))
}

// TestPublishedDiskPolicyExact checks that the embedded policy is the
// reference copy byte for byte, and that DiskEncrypt emits it unchanged
// (Marshal compacts it, nothing else).
func TestPublishedDiskPolicyExact(t *testing.T) {
	t.Parallel()
	ref, err := os.ReadFile(filepath.Join("testdata", "alibaba", fxDiskPermission))
	if err != nil {
		t.Fatal(err)
	}
	if publishedDiskPermission != string(ref) {
		t.Fatalf("published/%s differs from testdata/alibaba/%s", fxDiskPermission, fxDiskPermission)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, ref); err != nil {
		t.Fatal(err)
	}
	spec, err := DiskEncrypt()
	if err != nil {
		t.Fatal(err)
	}
	got, err := spec.Policies[0].Document.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, compact.Bytes()) {
		t.Errorf("DiskEncrypt() does not emit the published policy exactly:\n got %s\nwant %s", got, compact.Bytes())
	}
}

// TestAlibabaFixturesLint checks that the linter accepts the fixtures the
// emitted documents are compared with.
func TestAlibabaFixturesLint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file  string
		kind  policy.Kind
		owner string
	}{
		{fxDiskTrust, policy.Trust, gUID1},
		{fxDiskPermission, policy.Permission, gUID1},
		{fxSharePerm, policy.Permission, gOwner},
		{fxTrustSingle, policy.Trust, gOwner},
		{fxTrustAccounts, policy.Trust, gOwner},
		{fxTrustRD, policy.Trust, gOwner},
		{fxTrustFolder, policy.Trust, gOwner},
	} {
		d := readFixture(t, tt.file)
		if err := d.Validate(tt.kind); err != nil {
			t.Errorf("%s: %v", tt.file, err)
		}
		for _, f := range policy.Lint(d, tt.kind, policy.LintOptions{Owner: tt.owner}) {
			if f.Severity == policy.SeverityError {
				t.Errorf("%s: %v", tt.file, f)
			}
		}
	}
}
