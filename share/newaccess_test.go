package share

import (
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/policy"
)

func TestCheckNewAccess(t *testing.T) {
	t.Parallel()
	const owner, app, other = "1111111111111111", "2222222222222222", "3333333333333333"
	current, err := policy.DefaultKeyPolicy(owner)
	if err != nil {
		t.Fatal(err)
	}
	recipient := Recipient{Account: app}
	withApp, err := policy.SetCrossAccountUsers(current, owner, []string{"kms:Decrypt"}, recipient.PrincipalARN())
	if err != nil {
		t.Fatal(err)
	}
	withOther, err := policy.SetCrossAccountUsers(withApp, owner, []string{"kms:Decrypt"}, Recipient{Account: other}.PrincipalARN())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name              string
		op                Operation
		current, desired  *policy.Document
		newAccess, refuse int
	}{
		{"share adds its recipient", OpShare, current, withApp, 1, 0},
		{"share adds someone else", OpShare, withApp, withOther, 1, 1},
		{"revoke removes", OpRevoke, withApp, current, 0, 0},
		{"revoke that would add", OpRevoke, withApp, withOther, 1, 1},
	}
	for _, tt := range tests {
		p := &Plan{Operation: tt.op, Spec: Spec{Recipients: []Recipient{recipient}},
			KeyPolicy: KeyPolicyPlan{Current: tt.current, Desired: tt.desired}}
		checkNewAccess(p, owner)
		if len(p.KeyPolicy.NewAccess) != tt.newAccess || len(p.Problems) != tt.refuse {
			t.Errorf("%s: %d new access, %d problems %v; want %d and %d", tt.name, len(p.KeyPolicy.NewAccess), len(p.Problems), p.Problems, tt.newAccess, tt.refuse)
		}
		for _, pr := range p.Problems {
			if pr.Code != ProblemUnintendedAccess || !strings.Contains(pr.Message, other) {
				t.Errorf("%s: problem %+v", tt.name, pr)
			}
		}
	}
}
