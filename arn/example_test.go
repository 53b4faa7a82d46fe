package arn_test

import (
	"errors"
	"fmt"

	"github.com/kmsshare/kmsshare/arn"
)

func ExampleParse() {
	key, err := arn.Parse("acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7")
	if err != nil {
		panic(err)
	}
	fmt.Println(key.Service, key.Region, key.AccountID)
	fmt.Println(key.ResourceType(), key.ResourceName())
	// Output:
	// kms cn-hangzhou 1192853035118460
	// key key-hzz6801a1b2c3d4e5f6g7
}

func ExampleParse_maskedID() {
	// Pasted from the documentation, where account IDs are masked.
	_, err := arn.Parse("acs:ram::119285303511****:role/ecsadmin")
	fmt.Println(errors.Is(err, arn.ErrInvalid), errors.Is(err, arn.ErrMasked))
	fmt.Println(err)
	// Output:
	// true true
	// arn: invalid account in "acs:ram::119285303511****:role/ecsadmin": "119285303511****": documentation masks IDs with "****"; use the real, unmasked ID
}

func ExampleARN_AssumedRole() {
	caller := arn.MustParse("acs:ram::1192853035118460:assumed-role/AppRole/pipeline-42")
	role, session, ok := caller.AssumedRole()
	fmt.Println(role, session, ok)
	// Output: acs:ram::1192853035118460:role/approle pipeline-42 true
}

func ExampleRAMRole() {
	// Role names are case-insensitive; ARNs carry them in lower case.
	fmt.Println(arn.RAMRole("1192853035118460", "AliyunECSDiskEncryptDefaultRole"))
	fmt.Println(arn.ResourceDirectoryAccessRole("1192853035118460"))
	fmt.Println(arn.KMSKey("cn-hangzhou", "1192853035118460", "key-abc"))
	fmt.Println(arn.KMSKeyCollection("cn-hangzhou", "1192853035118460"))
	fmt.Println(arn.AccountAll("1192853035118460"))
	// Output:
	// acs:ram::1192853035118460:role/aliyunecsdiskencryptdefaultrole
	// acs:ram::1192853035118460:role/resourcedirectoryaccountaccessrole
	// acs:kms:cn-hangzhou:1192853035118460:key/key-abc
	// acs:kms:cn-hangzhou:1192853035118460:key
	// acs:ram::1192853035118460:*
}

func ExampleParseServicePrincipal() {
	p, err := arn.ParseServicePrincipal("1192853035118460@ecs.aliyuncs.com")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.AccountID, p.Name())
	// Output: 1192853035118460 ecs
}

func ExampleMatch() {
	fmt.Println(arn.Match("acs:kms:*:*:key/*", "acs:kms:cn-hangzhou:1192853035118460:key/key-abc"))
	fmt.Println(arn.Match("acs:kms:*:*:key/*", "acs:kms:cn-hangzhou:1192853035118460:key"))
	fmt.Println(arn.MatchAction("kms:generate*", "kms:GenerateDataKey"))
	fmt.Println(arn.MatchResource("acs:ram::1192853035118460:role/ECSAdmin", "acs:ram::1192853035118460:role/ecsadmin"))
	// Output:
	// true
	// false
	// true
	// true
}
