package share_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// TestBadInputRejectedBeforeAnyCall: every malformed spec is refused by
// Plan, PlanRevoke, Verify and Inventory with a typed error, and the
// emulator's request log stays empty.
func TestBadInputRejectedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	const (
		owner = "1192853035118460"
		other = "2222222222222222"
		key   = "acs:kms:cn-hangzhou:" + owner + ":key/key-hzz6801a1b2c3d4e5f6g7"
	)
	okTrust, _ := policy.TrustRAM(arn.AccountRoot(other))
	wildTrust := policy.MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"*"}}]}`)
	permAsTrust, _ := policy.KeyPermission(nil, arn.MustParse(key))
	rcp := func(r share.Recipient) []share.Recipient { return []share.Recipient{r} }
	tests := []struct {
		name string
		spec share.Spec
		want string // in the error text
		kind error  // optional extra errors.Is target
	}{
		{"empty spec", share.Spec{}, "missing", nil},
		{"masked key account", share.Spec{Key: "acs:kms:cn-hangzhou:119285303511****:key/key-abc", Recipients: rcp(share.Recipient{Account: other})}, "masks IDs", arn.ErrMasked},
		{"masked key id", share.Spec{Key: "acs:kms:cn-hangzhou:" + owner + ":key/key-hzz630494463ejqjx****", Recipients: rcp(share.Recipient{Account: other})}, "masks IDs", arn.ErrMasked},
		{"placeholder key", share.Spec{Key: "acs:kms:<key-region-id>:<key-owner-uid>:key/<key-id>", Recipients: rcp(share.Recipient{Account: other})}, "placeholder", arn.ErrPlaceholder},
		{"bare key id", share.Spec{Key: "key-hzz6801a1b2c3d4e5f6g7", Recipients: rcp(share.Recipient{Account: other})}, "name the key by its ARN", arn.ErrInvalid},
		{"alias ARN", share.Spec{Key: "acs:kms:cn-hangzhou:" + owner + ":alias/prod", Recipients: rcp(share.Recipient{Account: other})}, "not a key ARN", nil},
		{"key collection", share.Spec{Key: "acs:kms:cn-hangzhou:" + owner + ":key", Recipients: rcp(share.Recipient{Account: other})}, "not a key ARN", nil},
		{"role ARN as key", share.Spec{Key: "acs:ram::" + owner + ":role/app", Recipients: rcp(share.Recipient{Account: other})}, "not a key ARN", nil},
		{"wildcard key", share.Spec{Key: "acs:kms:cn-hangzhou:" + owner + ":key/*", Recipients: rcp(share.Recipient{Account: other})}, "wildcards", arn.ErrWildcard},
		{"wrong region", share.Spec{Key: "acs:kms:cn-shanghai:" + owner + ":key/key-abc", Recipients: rcp(share.Recipient{Account: other})}, "region cn-shanghai but the client is configured for cn-hangzhou", nil},
		{"AWS ARN", share.Spec{Key: "arn:aws:kms:us-east-1:123456789012:key/abc", Recipients: rcp(share.Recipient{Account: other})}, "AWS ARN", nil},
		{"no recipients", share.Spec{Key: key}, "no recipients", nil},
		{"masked recipient", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: "222222222222****"})}, "masks IDs", arn.ErrMasked},
		{"placeholder recipient", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: "<UID>"})}, "placeholder", arn.ErrPlaceholder},
		{"recipient not digits", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: "app-team"})}, "digits", nil},
		{"empty recipient", share.Spec{Key: key, Recipients: rcp(share.Recipient{})}, "empty", nil},
		{"owner as recipient", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: owner})}, "key's own account", nil},
		{"admin action", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Actions: []string{"kms:Decrypt", "kms:ScheduleKeyDeletion"}})}, "administrator actions are never granted", policy.ErrInvalid},
		{"kms:*", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Actions: []string{"kms:*"}})}, "administrator actions", nil},
		{"wildcard action", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Actions: []string{"kms:Generate*"}})}, "administrator actions", nil},
		{"SetKeyPolicy", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Actions: []string{"kms:SetKeyPolicy"}})}, "administrator actions", nil},
		{"unsupported action", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Actions: []string{"kms:GenerateDataKeyWithoutPlaintext"}})}, "not a key user action", nil},
		{"non-kms action", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Actions: []string{"ecs:CreateDisk"}})}, "not a key user action", nil},
		{"empty action list", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Actions: []string{}})}, "no actions", nil},
		{"unknown principal kind", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Principal: "group"})}, "unknown principal kind", nil},
		{"role without name", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Principal: share.PrincipalRole})}, "empty", nil},
		{"role name invalid", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Principal: share.PrincipalRole, Name: "my_role"})}, "letters, digits, '.' and '-'", nil},
		{"role name too long", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Principal: share.PrincipalRole, Name: strings.Repeat("r", 65)})}, "longer than 64", nil},
		{"user without name", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Principal: share.PrincipalUser})}, "RAM user name", nil},
		{"user name invalid", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Principal: share.PrincipalUser, Name: "bob smith"})}, "RAM user name", nil},
		{"name on RD role", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Name: "custom"})}, "fixed name", nil},
		{"name on ECS role", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Principal: share.PrincipalECSDiskRole, Name: "x"})}, "fixed name", nil},
		{"trust on RD role", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Trust: okTrust})}, "only for an application role", nil},
		{"wildcard trust", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Principal: share.PrincipalRole, Name: "app", Trust: wildTrust})}, "admits every identity", nil},
		{"permission policy as trust", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, Principal: share.PrincipalRole, Name: "app", Trust: permAsTrust})}, "trust policy", nil},
		{"access role invalid", share.Spec{Key: key, Recipients: rcp(share.Recipient{Account: other, AccessRole: "bad_role"})}, "letters, digits", nil},
		{"duplicate recipient", share.Spec{Key: key, Recipients: []share.Recipient{{Account: other}, {Account: other, Principal: share.PrincipalRDAccessRole}}}, "listed twice", nil},
		{"duplicate role by case", share.Spec{Key: key, Recipients: []share.Recipient{{Account: other, Principal: share.PrincipalRole, Name: "App"}, {Account: other, Principal: share.PrincipalRole, Name: "app"}}}, "listed twice", nil},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d cases", len(tests))
	}
	lz := newLandingZone(t, lzOptions{})
	c := lz.client(t)
	ctx := context.Background()
	before := lz.lastSeq()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			calls := []struct {
				name string
				fn   func() error
			}{
				{"Plan", func() error { _, err := c.Plan(ctx, &spec); return err }},
				{"PlanRevoke", func() error { _, err := c.PlanRevoke(ctx, &spec, share.RevokeOptions{}); return err }},
				{"Verify", func() error { _, err := c.Verify(ctx, &spec); return err }},
			}
			for _, call := range calls {
				err := call.fn()
				var se *share.SpecError
				if !errors.As(err, &se) || !errors.Is(err, share.ErrInvalidSpec) {
					t.Fatalf("%s: got %v, want a *SpecError", call.name, err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: error %q does not mention %q", call.name, err, tt.want)
				}
				if tt.kind != nil && !errors.Is(err, tt.kind) {
					t.Errorf("%s: error does not match %v", call.name, tt.kind)
				}
			}
		})
	}
	if _, err := c.Inventory(ctx, "acs:kms:cn-hangzhou:119285303511****:key/key-abc", nil); !errors.Is(err, arn.ErrMasked) {
		t.Errorf("Inventory of a masked key: %v", err)
	}
	if after := lz.lastSeq(); after != before {
		t.Errorf("bad input reached the cloud: %d requests", after-before)
	}
}

// TestSpecErrorListsEveryProblem: one error names all problems at once.
func TestSpecErrorListsEveryProblem(t *testing.T) {
	t.Parallel()
	s := share.Spec{Key: "acs:kms:cn-hangzhou:1192853035118460:key/key-abc", Recipients: []share.Recipient{
		{Account: "119285303511****"}, {Account: "2222222222222222", Actions: []string{"kms:*"}}, {Account: "<UID>"}}}
	err := s.Validate("")
	var se *share.SpecError
	if !errors.As(err, &se) || len(se.Problems) != 3 {
		t.Fatalf("got %v", err)
	}
	if se.Problems[1].Field != "recipients[1].actions" {
		t.Errorf("field %q", se.Problems[1].Field)
	}
}
