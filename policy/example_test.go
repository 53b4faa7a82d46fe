package policy_test

import (
	"fmt"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// A Security account (1192853035118460) shares a key with the Resource
// Directory access role of a member account: the key policy gets a
// library-owned statement with the key-user actions, and nothing else changes.
func ExampleSetCrossAccountUsers() {
	const owner, member = "1192853035118460", "2222222222222222"
	current, err := policy.DefaultKeyPolicy(owner)
	if err != nil {
		panic(err)
	}
	next, err := policy.SetCrossAccountUsers(current, owner, []string{"kms:Decrypt", "kms:GenerateDataKey"},
		arn.ResourceDirectoryAccessRole(member))
	if err != nil {
		panic(err)
	}
	for _, c := range policy.Diff(current, next) {
		fmt.Println(c)
	}
	fmt.Println(next)
	// Output:
	// + Allow RAM acs:ram::2222222222222222:role/resourcedirectoryaccountaccessrole kms:Decrypt on *
	// + Allow RAM acs:ram::2222222222222222:role/resourcedirectoryaccountaccessrole kms:GenerateDataKey on *
	// {"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1192853035118460:*"]},"Resource":["*"],"Sid":"kms default key policy"},{"Action":["kms:Decrypt","kms:GenerateDataKey"],"Effect":"Allow","Principal":{"RAM":["acs:ram::2222222222222222:role/resourcedirectoryaccountaccessrole"]},"Resource":["*"],"Sid":"kmsshare/cross-account-users/Decrypt+GenerateDataKey"}],"Version":"1"}
}

// The trust policy of AliyunECSShareEncryptImageDefaultRole for sharing an
// encrypted image with every account in one folder of a resource directory
// (and the folders below it).
func ExampleTrustServiceInFolder() {
	d, err := policy.TrustServiceInFolder("ecs.aliyuncs.com", "rd-k3a9Zx/r-Wm81Qa/fd-Jyl5U7q2")
	if err != nil {
		panic(err)
	}
	fmt.Println(d)
	// Output:
	// {"Statement":[{"Action":"sts:AssumeRole","Condition":{"StringLike":{"sts:ServiceOwnerRDPath":"rd-k3a9Zx/r-Wm81Qa/fd-Jyl5U7q2*"}},"Effect":"Allow","Principal":{"Service":"*@ecs.aliyuncs.com"}}],"Version":"1"}
}

// Lint catches what the console would accept and regret: a pasted masked ID,
// and administrator actions granted to another account.
func ExampleLint() {
	d := policy.MustParse(`{"Version":"1","Statement":[
		{"Sid":"kms default key policy","Effect":"Allow","Principal":{"RAM":"acs:ram::1192853035118460:*"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Allow","Principal":{"RAM":["acs:ram::119285303511****:role/app","acs:ram::2222222222222222:role/app"]},
		 "Action":["kms:Decrypt","kms:ScheduleKeyDeletion"],"Resource":"*"}]}`)
	for _, f := range policy.Lint(d, policy.KeyPolicy, policy.LintOptions{Owner: "1192853035118460"}) {
		fmt.Println(f.Severity, f.Code, f.Path)
	}
	// Output:
	// error cross-account-admin /Statement/1/Action/1
	// error masked-id /Statement/1/Principal/RAM/0
}

// A member account's role may use the Security account's key only if both
// the key policy and the role's own RAM policy allow it.
func ExampleEvaluateAccess() {
	const owner, member = "1192853035118460", "2222222222222222"
	key := arn.KMSKey("cn-hangzhou", owner, "key-hzz6801a1b2c3d4e5f6g7")
	keyPolicy, _ := policy.DefaultKeyPolicy(owner)
	keyPolicy, _ = policy.SetCrossAccountUsers(keyPolicy, owner, nil, arn.RAMRole(member, "App"))
	ramPolicy, _ := policy.KeyPermission([]string{"kms:Decrypt"}, key)

	req := policy.Request{
		Caller:          policy.Caller{Account: member, ARN: arn.MustParse("acs:ram::" + member + ":assumed-role/App/worker-1")},
		Action:          "kms:Decrypt",
		Resource:        key.String(),
		ResourceAccount: owner,
	}
	a := policy.EvaluateAccess(req, keyPolicy, ramPolicy)
	fmt.Println("Decrypt:", a.Allowed, "| key policy:", a.Resource.Decision, "| RAM policy:", a.Identity.Decision)

	req.Action = "kms:Encrypt" // granted by the key policy only
	a = policy.EvaluateAccess(req, keyPolicy, ramPolicy)
	fmt.Println("Encrypt:", a.Allowed, "| key policy:", a.Resource.Decision, "| RAM policy:", a.Identity.Decision)
	// Output:
	// Decrypt: true | key policy: allowed | RAM policy: allowed
	// Encrypt: false | key policy: allowed | RAM policy: implicitly denied
}
