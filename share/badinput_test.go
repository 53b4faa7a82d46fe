package share_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
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

// TestApplyRefusesEditedPlan: Apply acts on a plan, which may have been
// stored and edited; a plan whose spec is invalid, or whose recipients or
// steps do not follow from its spec, is refused with a *SpecError before
// any API call. (An edited "actions": ["kms:ScheduleKeyDeletion"] used to
// be applied as the default action set: all 11 user actions.)
func TestApplyRefusesEditedPlan(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 2})
	c := lz.client(t)
	m0, m1 := lz.members[0], lz.members[1]
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
		{Account: m0.ID, Principal: share.PrincipalRole, Name: "app", Actions: []string{"kms:Decrypt"}},
		{Account: m1.ID}}}
	other, err := lz.instance.NewKey(fakecloud.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	star := policy.MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	tests := []struct {
		name string
		edit func(p *share.Plan)
		want string
	}{
		{"admin action in spec and recipient", func(p *share.Plan) {
			p.Spec.Recipients[0].Actions = []string{"kms:ScheduleKeyDeletion"}
			p.Recipients[0].Recipient.Actions = []string{"kms:ScheduleKeyDeletion"}
		}, "administrator actions are never granted"},
		{"admin action in recipient only", func(p *share.Plan) {
			p.Recipients[0].Recipient.Actions = []string{"kms:ScheduleKeyDeletion"}
		}, "differs from spec.recipients[0]"},
		{"wider actions in recipient only", func(p *share.Plan) {
			p.Recipients[1].Recipient.Actions = []string{"kms:Decrypt", "kms:Encrypt"}
		}, "differs from spec.recipients[1]"},
		{"masked account in spec", func(p *share.Plan) { p.Spec.Recipients[1].Account = "222222222222****" }, "masks IDs"},
		{"other key", func(p *share.Plan) { p.Key.ARN = other.ARN }, "is not the spec's key"},
		{"recipient dropped", func(p *share.Plan) { p.Recipients = p.Recipients[:1] }, "1 recipient plans for the spec's 2 recipients"},
		{"unknown operation", func(p *share.Plan) { p.Operation = "delete" }, "unknown operation"},
		{"principal changed", func(p *share.Plan) {
			p.Recipients[1].Principal = "acs:ram::" + m1.ID + ":role/admin"
		}, "is not the recipient's principal"},
		{"step in another account", func(p *share.Plan) { p.Recipients[0].Steps[0].Account = m1.ID }, "not the recipient's " + m0.ID},
		{"policy document widened", func(p *share.Plan) { p.Recipients[0].Steps[1].Document = star }, "not the recipient's permission on the key"},
		{"attach to another role", func(p *share.Plan) { p.Recipients[0].Steps[2].Role = "admin" }, "names admin, not the recipient's principal app"},
		{"attach a system policy", func(p *share.Plan) {
			p.Recipients[0].Steps[2].Policy, p.Recipients[0].Steps[2].PolicyType = "AdministratorAccess", "System"
		}, "names policy AdministratorAccess"},
		{"role trusts everyone", func(p *share.Plan) { p.Recipients[0].Steps[0].Document = star }, "trust policy is not the one"},
		{"role not marked as ours", func(p *share.Plan) { p.Recipients[0].Steps[0].Description = "ops" }, "is described as"},
		{"delete step in a share", func(p *share.Plan) {
			p.Recipients[1].Steps = []share.Step{{Action: share.StepDeleteRole, Account: m1.ID, Role: "ResourceDirectoryAccountAccessRole"}}
		}, "a share plan never has a delete-role step"},
		{"create the RD access role", func(p *share.Plan) {
			p.Recipients[1].Steps = []share.Step{{Action: share.StepCreateRole, Account: m1.ID, Role: "ResourceDirectoryAccountAccessRole", Document: star}}
		}, "never creates or changes a rd-access-role"},
	}
	ctx := context.Background()
	before := lz.key.PolicyDocument()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPlan(t, c, spec)
			if len(p.Recipients[0].Steps) != 3 {
				t.Fatalf("steps %v", p.Recipients[0].Steps)
			}
			tt.edit(p)
			seq := lz.lastSeq()
			res, err := c.Apply(ctx, p)
			var se *share.SpecError
			if !errors.As(err, &se) || !errors.Is(err, share.ErrInvalidSpec) || res != nil {
				t.Fatalf("Apply = %v, %v; want a *SpecError", res, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if n := lz.lastSeq() - seq; n != 0 {
				t.Errorf("the edited plan reached the cloud: %d requests", n)
			}
		})
	}
	if lz.key.PolicyDocument() != before {
		t.Errorf("the key policy changed: %s", lz.key.PolicyDocument())
	}
	// The plan as made applies, also after a round trip through JSON.
	b, err := json.Marshal(mustPlan(t, c, spec))
	if err != nil {
		t.Fatal(err)
	}
	var p share.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, &p); err != nil {
		t.Fatal(err)
	}
}
