package share_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// emulatedNetwork puts the recipient's network path on the emulator's
// transport: its origin (the Internet or the recipient's VPC), and for the
// dedicated path the instance's dedicated gateway.
func emulatedNetwork(lz *landingZone) func(share.NetworkTarget, *openapi.Config) {
	return func(t share.NetworkTarget, cfg *openapi.Config) {
		var from fakecloud.Origin
		if t.VPC != "" {
			from = fakecloud.FromVPC(t.Account, t.VPC)
		}
		cfg.HttpClient = lz.cloud.HTTPClientFrom(t.Region, from)
		if t.Path == share.NetworkDedicated {
			cfg.Endpoint = tea.String(fakecloud.DedicatedEndpoint(t.InstanceID))
		}
	}
}

// TestVerifyNetworkRefusedAtOnce: keys in a KMS instance answer
// cryptographic calls from a VPC unless the owner turned Internet access on
// for the account. Verify from the Internet ends at the first attempt with
// OutcomeNetworkRefused, whose detail says what to do, never "not yet
// propagated" and never after the timeout, even while the grant is still
// propagating; with the switch on, it succeeds.
func TestVerifyNetworkRefusedAtOnce(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1, vpcOnly: true, propagation: time.Minute})
	m := lz.members[0]
	c := lz.client(t, func(o *share.Options) { o.NetworkConfig = emulatedNetwork(lz) })
	ctx := context.Background()
	spec := lz.spec(m)
	if res, err := c.Share(ctx, spec); err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	start := lz.clock.Now()
	rep, err := c.Verify(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Results[0]
	if r.Outcome != share.OutcomeNetworkRefused || r.Attempts != 1 || lz.clock.Now().Sub(start) > time.Second {
		t.Fatalf("result %+v after %s", r, lz.clock.Now().Sub(start))
	}
	if !strings.Contains(r.Detail, "turn on Internet access for that account") || !errors.Is(rep.Err(), share.OutcomeNetworkRefused) {
		t.Errorf("detail %q, err %v", r.Detail, rep.Err())
	}
	lz.instance.SetInternetAccess(m.ID, true)
	rep, err = c.Verify(ctx, spec)
	if err != nil || !rep.OK() {
		t.Fatalf("with Internet access on: %v\n%s", err, rep)
	}
}

// TestDedicatedGatewayPath: a recipient that reaches the key through the
// instance's dedicated gateway from its VPC: Plan reads the instance and
// plans the binding, with the quota that accounts and VPCs share; before
// the binding Verify ends at once with the network outcome ("no such
// host"); Apply binds the VPC with a confirmed read-modify-write that keeps
// other bindings; then Verify succeeds from the VPC.
func TestDedicatedGatewayPath(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 2, vpcOnly: true, quota: 4})
	m, other := lz.members[0], lz.members[1]
	c := lz.client(t, func(o *share.Options) { o.NetworkConfig = emulatedNetwork(lz) })
	ctx := context.Background()
	net := &share.Network{Path: share.NetworkDedicated, VPC: "vpc-app1", VSwitch: "vsw-app1"}
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: m.ID, Network: net}}}

	// Someone else's binding, which the read-modify-write must keep.
	owner := mustClients(t, lz, lz.security.ID)
	if err := owner.KMS.UpdateKmsInstanceBindVpc(ctx, lz.instance.ID, nil); err != nil {
		t.Fatal(err)
	}
	keep := fakecloud.VPC{ID: "vpc-keep", VSwitchID: "vsw-keep", Owner: other.ID}
	bindByHand(t, lz, keep)

	// The grant first, without the network path: the key policy names the
	// recipient, so what is left is the path.
	if res, err := c.Share(ctx, lz.spec(m)); err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	plan, err := c.Plan(ctx, spec)
	if err != nil || plan.Err() != nil {
		t.Fatalf("%v %v\n%s", err, plan.Err(), plan)
	}
	if plan.KeyPolicy.NeedsWrite() || plan.Network == nil || len(plan.Network.Bind) != 1 || plan.Network.Bind[0].VPC != "vpc-app1" || !strings.Contains(plan.String(), "bind vpc-app1") {
		t.Fatalf("network plan %+v\n%s", plan.Network, plan)
	}

	// Before the binding: no such host, at once.
	rep, _ := c.Verify(ctx, spec)
	if r := rep.Results[0]; r.Outcome != share.OutcomeNetworkRefused || r.Attempts != 1 || !strings.Contains(r.Error, "no such host") {
		t.Fatalf("before the binding: %+v", r)
	}

	res, err := c.Apply(ctx, plan)
	if err != nil || res.Network == nil || res.Network.Status != share.StatusDone {
		t.Fatalf("%v\n%s", err, res)
	}
	var ids []string
	for _, v := range lz.instance.BoundVPCs() {
		ids = append(ids, v.ID)
	}
	if strings.Join(ids, ",") != "vpc-app1,vpc-keep" {
		t.Errorf("bound VPCs %v, want vpc-app1 and vpc-keep", ids)
	}
	rep, err = c.Verify(ctx, spec)
	if err != nil || !rep.OK() {
		t.Fatalf("from the bound VPC: %v\n%s", err, rep)
	}
	// Planned again: nothing to bind, nothing to do.
	if plan, err = c.Plan(ctx, spec); err != nil || plan.Changes() {
		t.Errorf("second plan: %v\n%s", err, plan)
	}

	// Accounts and VPCs share the quota: 4 = vpc-keep, vpc-app1, account m;
	// one more account with its own VPC needs 2 more.
	spec2 := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
		{Account: other.ID, Network: &share.Network{Path: share.NetworkDedicated, VPC: "vpc-app2", VSwitch: "vsw-app2"}}}}
	plan, err = c.Plan(ctx, spec2)
	if err != nil || !errors.Is(plan.Err(), share.ErrQuotaExceeded) || !strings.Contains(plan.Err().Error(), "accounts and VPCs share the quota") {
		t.Errorf("joint quota: %v %v\n%s", err, plan.Err(), plan)
	}
}

// bindByHand binds a VPC through the SDK as the owner, as another tool would.
func bindByHand(t *testing.T, lz *landingZone, v fakecloud.VPC) {
	t.Helper()
	owner := mustClients(t, lz, lz.security.ID)
	inst, err := owner.KMS.GetKmsInstance(context.Background(), lz.instance.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.KMS.UpdateKmsInstanceBindVpc(context.Background(), lz.instance.ID, append(inst.Bound, alicloudVPC(v))); err != nil {
		t.Fatal(err)
	}
}

// TestSharedGatewayFromVPC: the shared gateway from a VPC needs nothing
// set up, and the Internet path with an explicit network is a manual step
// in the plan.
func TestSharedGatewayFromVPC(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 2, vpcOnly: true})
	c := lz.client(t, func(o *share.Options) { o.NetworkConfig = emulatedNetwork(lz) })
	ctx := context.Background()
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
		{Account: lz.members[0].ID, Network: &share.Network{Path: share.NetworkVPC, VPC: "vpc-a"}},
		{Account: lz.members[1].ID, Network: &share.Network{Path: share.NetworkInternet}}}}
	plan, err := c.Plan(ctx, spec)
	if err != nil || plan.Network == nil || len(plan.Network.Manual) != 1 || !strings.Contains(plan.String(), "MANUAL in the KMS console") {
		t.Fatalf("%v\n%s", err, plan)
	}
	if _, err := c.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	rep, _ := c.Verify(ctx, spec)
	if rep.Results[0].Outcome != share.OutcomeOK || rep.Results[1].Outcome != share.OutcomeNetworkRefused {
		t.Errorf("outcomes %s, %s", rep.Results[0].Outcome, rep.Results[1].Outcome)
	}
	// Bad network paths are bad input, refused before any call.
	bad := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: lz.members[0].ID, Network: &share.Network{Path: share.NetworkDedicated, VPC: "vpc-a"}}}}
	if _, err := c.Plan(ctx, bad); !errors.Is(err, share.ErrInvalidSpec) || !strings.Contains(err.Error(), "vSwitch") {
		t.Errorf("dedicated without a vSwitch: %v", err)
	}
}

// TestNetworkPlanJSON: a plan with VPC bindings marshals to JSON; a plan
// edited to bind a VPC no recipient asked for, like any plan decoded from
// JSON, is refused before any call (Apply takes plans only as Plan made
// them), and the plan as made binds the VPC.
func TestNetworkPlanJSON(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1, vpcOnly: true})
	m := lz.members[0]
	c := lz.client(t, func(o *share.Options) { o.NetworkConfig = emulatedNetwork(lz) })
	ctx := context.Background()
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
		{Account: m.ID, Network: &share.Network{Path: share.NetworkDedicated, VPC: "vpc-app1", VSwitch: "vsw-app1"}}}}
	plan, err := c.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	var tampered share.Plan
	if err := json.Unmarshal(data, &tampered); err != nil {
		t.Fatal(err)
	}
	tampered.Network.Bind = append(tampered.Network.Bind, tampered.Network.Bind[0])
	tampered.Network.Bind[1].VPC = "vpc-evil"
	seq := len(lz.cloud.Log().Entries(fakecloud.Match{}))
	if _, err := c.Apply(ctx, &tampered); !errors.Is(err, share.ErrInvalidSpec) || !strings.Contains(err.Error(), "plan: not as Plan") {
		t.Fatalf("tampered plan: %v", err)
	}
	if n := len(lz.cloud.Log().Entries(fakecloud.Match{})); n != seq {
		t.Errorf("a refused plan made %d calls", n-seq)
	}
	res, err := c.Apply(ctx, plan)
	if err != nil || res.Network == nil || res.Network.Status != share.StatusDone {
		t.Fatalf("%v\n%s", err, res)
	}
	if got := lz.instance.BoundVPCs(); len(got) != 1 || got[0].ID != "vpc-app1" || got[0].Owner != m.ID {
		t.Errorf("bound %+v", got)
	}
}
