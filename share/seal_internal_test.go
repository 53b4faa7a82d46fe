package share

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// TestSealIsCanonical: the seal depends on the plan's content only, not on
// how maps iterate or how its documents were written: a plan and its copy
// decoded from the plan's JSON have the same seal, every time; a change of
// content changes it; the zero seal is never accepted.
func TestSealIsCanonical(t *testing.T) {
	t.Parallel()
	doc := policy.MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*",` +
		`"Condition":{"StringEquals":{"acs:SourceVpc":["vpc-a","vpc-b"],"kms:EncryptionContext:app":"x","kms:EncryptionContext:env":"y"},` +
		`"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}`)
	p := &Plan{Operation: OpShare, Spec: Spec{Key: "acs:kms:cn-hangzhou:1192853035118460:key/key-a", Recipients: []Recipient{{Account: "2222222222222222"}}},
		KeyPolicy: KeyPolicyPlan{Current: doc, Desired: doc},
		Recipients: []RecipientPlan{{Recipient: Recipient{Account: "2222222222222222"},
			Steps: []Step{{Action: StepCreatePolicy, Account: "2222222222222222", Policy: "p", Document: doc}}}}}
	s := sealOf(p)
	if s == (seal{}) {
		t.Fatal("zero seal")
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		var q Plan
		if err := json.Unmarshal(data, &q); err != nil {
			t.Fatal(err)
		}
		if sealOf(&q) != s || sealOf(p) != s {
			t.Fatalf("round %d: the seal changed", i)
		}
	}
	if err := checkSeal(p, s, "Plan"); err != nil {
		t.Errorf("checkSeal of the plan as sealed: %v", err)
	}
	p.Recipients[0].Steps[0].Policy = "q"
	if checkSeal(p, s, "Plan") == nil {
		t.Error("a changed plan kept its seal")
	}
	if checkSeal(&Plan{}, seal{}, "Plan") == nil || checkSeal(&Plan{}, sealOf(&Plan{}), "Plan") != nil {
		t.Error("the zero seal is accepted, or a sealed zero plan refused")
	}
}

// BenchmarkSealOrgPlan measures sealing (and, the same work, checking the
// seal of) a plan shaped like the target organisation's, 20 keys × 300
// accounts, each key policy granting all 300 RD access roles and each
// principal getting a policy for the 20 keys: the cost the seal adds to
// PlanManifest and to ApplyManifest. (The real plan has more, findings and
// new-access lists: BenchmarkManifestOrg reports its size and marshal time.)
func BenchmarkSealOrgPlan(b *testing.B) {
	const keys, accounts = 20, 300
	owner := "1192853035118460"
	var rs []Recipient
	for i := 0; i < accounts; i++ {
		rs = append(rs, Recipient{Account: fmt.Sprintf("2%015d", i)})
	}
	p := &OrgPlan{Manifest: Manifest{Version: ManifestVersion}}
	var keyARNs []arn.ARN
	for k := 0; k < keys; k++ {
		key := arn.KMSKey("cn-hangzhou", owner, fmt.Sprintf("key-%d", k))
		keyARNs = append(keyARNs, key)
		cur, _ := policy.DefaultKeyPolicy(owner)
		want, err := grantAll(cur, owner, rs)
		if err != nil {
			b.Fatal(err)
		}
		p.Keys = append(p.Keys, OrgKeyPlan{Key: KeyInfo{ARN: key.String()}, Recipients: rs,
			KeyPolicy: KeyPolicyPlan{Current: cur, Desired: want, Changes: policy.Diff(cur, want)}})
	}
	doc, err := policy.KeyPermission(DefaultActions(), keyARNs...)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rs {
		p.Principals = append(p.Principals, OrgPrincipalPlan{Account: r.Account, Principal: r.PrincipalARN().String(), Recipient: r,
			Steps: []Step{{Action: StepCreatePolicy, Account: r.Account, Policy: "kmsshare-org-1", Document: doc},
				{Action: StepAttachPolicy, Account: r.Account, Role: r.roleOrUserName(), Policy: "kmsshare-org-1", PolicyType: "Custom"}}})
	}
	data, _ := json.Marshal(p)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if sealOf(p) == (seal{}) {
			b.Fatal("zero seal")
		}
	}
}
