package main

import (
	"strings"
	"testing"
)

func TestCheckDemo(t *testing.T) {
	var out strings.Builder
	if check(&out, demo) {
		t.Error("the demo list has invalid identifiers, but check reported all valid")
	}
	got := out.String()
	for _, want := range []string{
		"ok       acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7\n         KMS key key-hzz6801a1b2c3d4e5f6g7 in cn-hangzhou, owned by account 1192853035118460",
		`RAM role "ResourceDirectoryAccountAccessRole" of account 1192853035118460 (canonical ARN acs:ram::1192853035118460:role/resourcedirectoryaccountaccessrole)`,
		`session "pipeline-42" of role acs:ram::1192853035118460:role/approle`,
		"the ecs service acting for account 1192853035118460",
		"INVALID  acs:ram::119285303511****:role/AliyunECSDiskEncryptDefaultRole\n         arn: invalid account",
		"documentation masks IDs",
		"unfilled placeholder",
		"ram is a global service",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q; got:\n%s", want, got)
		}
	}
}

func TestCheckAllValid(t *testing.T) {
	var out strings.Builder
	if !check(&out, []string{"acs:ram::1192853035118460:*", "*@ecs.aliyuncs.com"}) {
		t.Errorf("valid identifiers rejected:\n%s", out.String())
	}
}
