package policy_test

import (
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

func TestEffectiveKeyPolicy(t *testing.T) {
	t.Parallel()
	const owner, other = "1192853035118460", "2208745523640391"
	doc := policy.MustParse(`{"Version":"1","Statement":[
		{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:*"]},"Action":["kms:*"],"Resource":["*"]},
		{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:user/ops"]},"Action":["kms:ReEncryptFrom","kms:Gen*"],"Resource":["*"]},
		{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app","acs:ram::` + other + `:root","acs:ram::` + other + `:*"]},"Action":["kms:*"],"Resource":["*"]},
		{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:user/dev"]},"Action":["kms:Encrypt","kms:ScheduleKeyDeletion"],"Resource":["*"]}
	]}`)
	eff := policy.EffectiveKeyPolicy(doc, owner)
	tests := []struct {
		caller arn.ARN
		action string
		says   bool // what the document says (policy.Evaluate of doc)
		does   bool // what KMS does (of the effective policy)
	}{
		{arn.RAMUser(owner, "admin"), "kms:ScheduleKeyDeletion", true, true},
		{arn.RAMUser(owner, "ops"), "kms:GenerateDataKey", true, true}, // through the owner's kms:*
		{arn.RAMRole(other, "app"), "kms:GenerateDataKey", true, true},
		{arn.RAMRole(other, "app"), "kms:SetKeyPolicy", true, false}, // other accounts are never administrators
		{arn.RAMRole(other, "app"), "kms:ReEncrypt", true, false},    // not a key user action
		{arn.RAMUser(other, "someone"), "kms:Decrypt", true, false},  // :* and :root of another account grant nothing
		{arn.AccountRoot(other), "kms:Decrypt", true, false},         // nor does the root of it
		{arn.RAMUser(other, "dev"), "kms:Encrypt", true, true},       // a user action, to a user
		{arn.RAMUser(other, "dev"), "kms:ScheduleKeyDeletion", true, false},
	}
	for _, tt := range tests {
		req := policy.Request{Caller: policy.Caller{ARN: tt.caller}, Action: tt.action,
			Resource: "acs:kms:cn-hangzhou:" + owner + ":key/key-1", ResourceAccount: owner}
		says := policy.Evaluate(req, doc).Decision == policy.Allowed
		does := policy.Evaluate(req, eff).Decision == policy.Allowed
		if says != tt.says || does != tt.does {
			t.Errorf("%s %s: document says %v, KMS does %v; want %v, %v", tt.caller, tt.action, says, does, tt.says, tt.does)
		}
	}

	// Only owner principals: an action off the documented lists grants nothing.
	off := policy.MustParse(`{"Version":"1","Statement":[
		{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:user/ops"]},"Action":["kms:Gen*"],"Resource":["*"]}]}`)
	req := policy.Request{Caller: policy.Caller{ARN: arn.RAMUser(owner, "ops")}, Action: "kms:GenerateDataKey",
		Resource: "acs:kms:cn-hangzhou:" + owner + ":key/key-1", ResourceAccount: owner}
	if policy.Evaluate(req, policy.EffectiveKeyPolicy(off, owner)).Decision == policy.Allowed {
		t.Error("kms:Gen* (not on the documented lists) granted GenerateDataKey")
	}
}
