package share_test

import (
	"context"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// TestSealedPlanMeansItsJSON: an edit the plan's JSON cannot show (an empty
// action list where the plan had none: both marshal alike) does not change
// what Apply does: it grants the default actions, as planned.
func TestSealedPlanMeansItsJSON(t *testing.T) {
	lz := newLandingZone(t, lzOptions{members: 1})
	c := lz.client(t)
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
		{Account: lz.members[0].ID, Principal: share.PrincipalRole, Name: "app"}}}
	p := mustPlan(t, c, spec)
	p.Recipients[0].Recipient.Actions = []string{} // same JSON as nil
	res, err := c.Apply(context.Background(), p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestPlansKeepTheirOwnInputs: changing the manifest or role spec a plan
// was made from, after planning, changes neither the plan nor its seal.
func TestPlansKeepTheirOwnInputs(t *testing.T) {
	ctx := context.Background()
	t.Run("manifest", func(t *testing.T) {
		g := newOrg(t, orgOptions{keys: 1, apps: 1})
		c := g.client(t)
		m := g.manifest(`{"accounts": ["` + g.members[0].ID + `"]}`)
		p, err := c.PlanManifest(ctx, m, share.ManifestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m.Grants[0].Keys[0] = "reused by the caller"
		if _, err := c.ApplyManifest(ctx, p); err != nil {
			t.Errorf("ApplyManifest of an unedited plan: %v", err)
		}
	})
	t.Run("role", func(t *testing.T) {
		lz := newLandingZone(t, lzOptions{members: 1})
		c := lz.client(t)
		trust, err := policy.TrustService(arn.ECS(""))
		if err != nil {
			t.Fatal(err)
		}
		spec := policy.RoleSpec{Name: "app-role", Trust: trust}
		p, err := c.PlanRole(ctx, lz.members[0].ID, spec)
		if err != nil {
			t.Fatal(err)
		}
		spec.Trust.Statement = nil // the caller reuses its spec
		if _, err := c.ApplyRole(ctx, p); err != nil {
			t.Fatalf("ApplyRole of an unedited plan: %v", err)
		}
	})
}
