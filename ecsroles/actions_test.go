package ecsroles

import (
	"slices"
	"testing"

	"github.com/kmsshare/kmsshare/policy"
)

// TestECSDiskActions checks the one ECS disk action set against Alibaba's
// published disk-role policy (the data file), and what of it a key policy
// grants a disk role of another account.
func TestECSDiskActions(t *testing.T) {
	t.Parallel()
	published, err := policy.Parse([]byte(publishedDiskPermission))
	if err != nil {
		t.Fatal(err)
	}
	var fromFile []string
	for _, s := range published.Statement {
		for _, a := range s.Action.Values {
			if !slices.Contains(fromFile, a) {
				fromFile = append(fromFile, a)
			}
		}
	}
	if got := ECSDiskActions(); !slices.Equal(got, fromFile) {
		t.Errorf("ECSDiskActions() = %q, want the published policy's %q", got, fromFile)
	}
	want := []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:TagResource"}
	got := ECSDiskKeyPolicyActions()
	if !slices.Equal(got, want) {
		t.Errorf("ECSDiskKeyPolicyActions() = %q, want %q", got, want)
	}
	if set, err := policy.CrossAccountActionSet(got); err != nil || !slices.Equal(set, got) {
		t.Errorf("CrossAccountActionSet(%q) = %q, %v: want it unchanged", got, set, err)
	}
	for _, a := range ECSDiskActions() {
		if policy.IsCrossAccountAction(a) != slices.Contains(got, a) {
			t.Errorf("%s: cross-account action %v, in the key policy set %v", a, policy.IsCrossAccountAction(a), slices.Contains(got, a))
		}
	}
}
