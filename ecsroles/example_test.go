package ecsroles_test

import (
	"errors"
	"fmt"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/policy"
)

// printSpec prints what share would create: the role, its trust policy and
// its policies.
func printSpec(spec policy.RoleSpec) {
	fmt.Println("role:", spec.Name)
	fmt.Println("trust:", spec.Trust)
	for _, p := range spec.Policies {
		fmt.Println("policy", p.Name+":", p.Document)
	}
	for _, name := range spec.SystemPolicies {
		fmt.Println("system policy:", name)
	}
}

// W2: account A (1192853035118460) shares its key with account B
// (2222222222222222), which creates encrypted disks with it. B owns the disk
// role, scoped here to A's key; A then names the role's ARN as a
// cross-account user in the key policy.
func ExampleDiskEncrypt() {
	const accountA, accountB = "1192853035118460", "2222222222222222"
	sharedKey := arn.KMSKey("cn-hangzhou", accountA, "key-hzz6801a1b2c3d4e5f6g7")

	spec, err := ecsroles.DiskEncrypt(sharedKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	printSpec(spec)
	fmt.Println("A's key policy names:", spec.ARN(accountB))
	// Output:
	// role: AliyunECSDiskEncryptDefaultRole
	// trust: {"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}
	// policy ECSDiskEncryptDefaultRolePolicy: {"Statement":[{"Action":["kms:List*"],"Effect":"Allow","Resource":["acs:kms:cn-hangzhou:1192853035118460:key"]},{"Action":["kms:List*","kms:DescribeKey","kms:TagResource","kms:UntagResource","kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],"Effect":"Allow","Resource":["acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"]}],"Version":"1"}
	// A's key policy names: acs:ram::2222222222222222:role/aliyunecsdiskencryptdefaultrole
}

// W4, specific accounts: the sharer, who owns the key, lets the ECS service
// of two recipient accounts use it for the images it shares with them.
func ExampleShareEncryptImage() {
	const sharer = "1192853035118460"
	key := arn.KMSKey("cn-hangzhou", sharer, "key-hzz6801a1b2c3d4e5f6g7")

	spec, err := ecsroles.ShareEncryptImage(sharer, ecsroles.Accounts("3333333333333333", "2222222222222222"), key)
	if err != nil {
		fmt.Println(err)
		return
	}
	printSpec(spec)
	// Output:
	// role: AliyunECSShareEncryptImageDefaultRole
	// trust: {"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["2222222222222222@ecs.aliyuncs.com","3333333333333333@ecs.aliyuncs.com"]}}],"Version":"1"}
	// policy ECSShareEncryptImageDefaultRolePolicy-cn-hangzhou-key-hzz6801a1b2c3d4e5f6g7: {"Statement":[{"Action":["kms:List*"],"Effect":"Allow","Resource":["acs:kms:cn-hangzhou:1192853035118460:key"]},{"Action":["kms:DescribeKey","kms:TagResource","kms:UntagResource","kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],"Effect":"Allow","Resource":["acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"]}],"Version":"1"}
}

// W4, a whole resource directory: every member account's ECS may use the
// key for shared images. (The RD trust condition is unverified; see the
// package documentation.)
func ExampleShareEncryptImage_resourceDirectory() {
	const sharer = "1192853035118460"
	key := arn.KMSKey("cn-hangzhou", sharer, "key-hzz6801a1b2c3d4e5f6g7")

	spec, err := ecsroles.ShareEncryptImage(sharer, ecsroles.ResourceDirectory("rd-k3a9Zx"), key)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Name, "trusts", ecsroles.ResourceDirectory("rd-k3a9Zx"))
	fmt.Println(spec.Trust)
	// Output:
	// AliyunECSShareEncryptImageDefaultRole trusts ECS of every account in resource directory rd-k3a9Zx
	// {"Statement":[{"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ServiceOwnerRDId":"rd-k3a9Zx"}},"Effect":"Allow","Principal":{"Service":"*@ecs.aliyuncs.com"}}],"Version":"1"}
}

// W4, one folder of a resource directory and the folders below it, for
// snapshots. (Unverified like the whole-directory scope.)
func ExampleShareEncryptSnapshot() {
	const sharer = "1192853035118460"
	key := arn.KMSKey("cn-hangzhou", sharer, "key-hzz6801a1b2c3d4e5f6g7")

	spec, err := ecsroles.ShareEncryptSnapshot(sharer, ecsroles.Folder("rd-k3a9Zx/r-Wm81Qa/fd-bVaRIG01"), key)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Name)
	fmt.Println(spec.Trust)
	fmt.Println(spec.Policies[0].Name)
	// Output:
	// AliyunECSShareEncryptSnapshotDefaultRole
	// {"Statement":[{"Action":"sts:AssumeRole","Condition":{"StringLike":{"sts:ServiceOwnerRDPath":"rd-k3a9Zx/r-Wm81Qa/fd-bVaRIG01*"}},"Effect":"Allow","Principal":{"Service":"*@ecs.aliyuncs.com"}}],"Version":"1"}
	// ECSShareEncryptSnapshotDefaultRolePolicy-cn-hangzhou-key-hzz6801a1b2c3d4e5f6g7
}

// Snapshots encrypted with the ECS service key: no custom policy, the system
// policy AliyunKMSFullAccess instead.
func ExampleShareEncryptSnapshotServiceKey() {
	spec, err := ecsroles.ShareEncryptSnapshotServiceKey("1192853035118460", ecsroles.Accounts("2222222222222222"))
	if err != nil {
		fmt.Println(err)
		return
	}
	printSpec(spec)
	// Output:
	// role: AliyunECSShareEncryptSnapshotDefaultRole
	// trust: {"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["2222222222222222@ecs.aliyuncs.com"]}}],"Version":"1"}
	// system policy: AliyunKMSFullAccess
}

// Inputs copied from documentation, or a key of the wrong account, are
// refused before anything reaches the cloud.
func ExampleError() {
	const sharer = "1192853035118460"
	_, err := ecsroles.ShareEncryptImage(sharer, ecsroles.Accounts("222222222222****"),
		arn.KMSKey("cn-hangzhou", sharer, "key-hzz6801a1b2c3d4e5f6g7"))
	fmt.Println(errors.Is(err, policy.ErrInvalid), errors.Is(err, arn.ErrMasked))

	_, err = ecsroles.ShareEncryptImage(sharer, ecsroles.Accounts("2222222222222222"),
		arn.KMSKey("cn-hangzhou", "2222222222222222", "key-hzz6801a1b2c3d4e5f6g7"))
	var e *ecsroles.Error
	if errors.As(err, &e) {
		fmt.Println(e.Input, e.Value)
	}
	// Output:
	// true true
	// key acs:kms:cn-hangzhou:2222222222222222:key/key-hzz6801a1b2c3d4e5f6g7
}
