package share_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/share"
)

// landingZone is an emulated Landing Zone: a management account with a
// pipeline user, a resource directory with members in an "apps" folder, and
// a Security account with a KMS instance and a key.
type landingZone struct {
	cloud    *fakecloud.Cloud
	clock    *fakecloud.ManualClock
	mgmt     *fakecloud.Account
	rd       *fakecloud.ResourceDirectory
	apps     *fakecloud.Folder
	security *fakecloud.Account
	members  []*fakecloud.Account
	instance *fakecloud.Instance
	key      *fakecloud.Key
	pipeline *fakecloud.User
}

// The delays the integration tests run with unless they ask otherwise (a
// negative lzOptions value means none).
const (
	defaultPropagation = 30 * time.Second
	defaultVisibility  = 5 * time.Second
)

type lzOptions struct {
	members     int
	quota       int
	propagation time.Duration
	visibility  time.Duration
	realClock   bool
	vpcOnly     bool // the instance's keys refuse the Internet unless switched on
}

func newLandingZone(t testing.TB, o lzOptions) *landingZone {
	t.Helper()
	lz := &landingZone{}
	// Realistic by default: changes propagate and new roles become
	// visible after a while, on the manual clock (no real waiting).
	if o.propagation == 0 {
		o.propagation = defaultPropagation
	}
	if o.visibility == 0 {
		o.visibility = defaultVisibility
	}
	if o.propagation < 0 {
		o.propagation = 0
	}
	if o.visibility < 0 {
		o.visibility = 0
	}
	opts := fakecloud.Options{Seed: 7, PropagationDelay: o.propagation, VisibilityDelay: o.visibility}
	if !o.realClock {
		lz.clock = fakecloud.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		opts.Clock = lz.clock
		// Injected latency (Fault.Latency) passes on the manual clock too:
		// no real waiting, and no test depends on how fast the machine is.
		opts.Sleep = lz.clock.Sleep
	}
	lz.cloud = fakecloud.New(opts)
	lz.mgmt = lz.cloud.NewAccount("management")
	rd, err := lz.cloud.NewResourceDirectory(lz.mgmt)
	if err != nil {
		t.Fatal(err)
	}
	lz.rd = rd
	lz.apps = rd.Root().NewFolder("apps")
	lz.security = rd.Root().NewMember("security")
	for i := 0; i < o.members; i++ {
		lz.members = append(lz.members, lz.apps.NewMember("app"))
	}
	quota := o.quota
	if quota == 0 {
		quota = 10
	}
	lz.instance = lz.security.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: quota, VPCOnly: o.vpcOnly})
	if lz.key, err = lz.instance.NewKey(fakecloud.KeyOptions{}); err != nil {
		t.Fatal(err)
	}
	if lz.pipeline, err = lz.mgmt.NewUser("pipeline", "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	return lz
}

// clock adapts the emulator's manual clock for the orchestrator: waiting
// advances emulator time instead of sleeping.
type manualClock struct{ c *fakecloud.ManualClock }

func (m manualClock) Now() time.Time { return m.c.Now() }
func (m manualClock) Sleep(ctx context.Context, d time.Duration) error {
	if d > 0 {
		m.c.Advance(d)
	}
	return ctx.Err()
}

// client returns a share.Client acting as the pipeline user, in process.
func (lz *landingZone) client(t testing.TB, optFns ...func(*share.Options)) *share.Client {
	t.Helper()
	fns := []func(*share.Options){func(o *share.Options) {
		if lz.clock != nil {
			o.Clock = manualClock{lz.clock}
		}
		o.Rand = rand.New(rand.NewPCG(7, 7)).Int64N // jitter reproducible from run to run
		o.SettleDelay = time.Millisecond
	}}
	c, err := share.New(lz.cloud.Config(lz.pipeline.Credentials(), "cn-hangzhou"), append(fns, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// spec shares the key with the members' RD access roles.
func (lz *landingZone) spec(members ...*fakecloud.Account) *share.Spec {
	s := &share.Spec{Key: lz.key.ARN}
	for _, m := range members {
		s.Recipients = append(s.Recipients, share.Recipient{Account: m.ID})
	}
	return s
}

// writes counts the successful write calls made since the log entry seq.
func (lz *landingZone) writes(after int) map[string]int {
	out := map[string]int{}
	for _, e := range lz.cloud.Log().Entries(fakecloud.Match{Status: 200}) {
		if e.Seq <= after {
			continue
		}
		switch e.Action {
		case "SetKeyPolicy", "CreateRole", "UpdateRole", "CreatePolicy", "CreatePolicyVersion", "AttachPolicyToRole",
			"AttachPolicyToUser", "DetachPolicyFromRole", "DetachPolicyFromUser", "DeletePolicy", "DeleteRole":
			out[e.Action]++
		}
	}
	return out
}

// lastSeq is the sequence number of the newest log entry.
func (lz *landingZone) lastSeq() int {
	es := lz.cloud.Log().Entries(fakecloud.Match{})
	if len(es) == 0 {
		return 0
	}
	return es[len(es)-1].Seq
}

func mustPlan(t testing.TB, c *share.Client, s *share.Spec) *share.Plan {
	t.Helper()
	p, err := c.Plan(context.Background(), s)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return p
}

// mustKMS returns the KMS adapter for a configuration.
func mustKMS(t testing.TB, cfg *openapi.Config) *alicloud.KMS {
	t.Helper()
	c, err := alicloud.FactoryFromConfig(cfg, cloudapi.DefaultRetry()).Base()
	if err != nil {
		t.Fatal(err)
	}
	return c.KMS
}

// ramSDK is a raw RAM client of an account's root.
func ramSDK(t testing.TB, lz *landingZone, a *fakecloud.Account) *ram.Client {
	t.Helper()
	c, err := ram.NewClient(lz.cloud.Config(a.RootCredentials(), "cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func detachFromRole(t testing.TB, c *ram.Client, typ, policyName, role string) {
	t.Helper()
	if _, err := c.DetachPolicyFromRoleWithContext(context.Background(), &ram.DetachPolicyFromRoleRequest{
		PolicyType: tea.String(typ), PolicyName: tea.String(policyName), RoleName: tea.String(role)}, &dara.RuntimeOptions{}); err != nil {
		t.Fatal(err)
	}
}

func deleteRole(t testing.TB, c *ram.Client, role string) {
	t.Helper()
	if _, err := c.DeleteRoleWithContext(context.Background(), &ram.DeleteRoleRequest{RoleName: tea.String(role)}, &dara.RuntimeOptions{}); err != nil {
		t.Fatal(err)
	}
}

func disableKey(t testing.TB, c *kms.Client, key string) {
	t.Helper()
	if _, err := c.DisableKeyWithContext(context.Background(), &kms.DisableKeyRequest{KeyId: tea.String(key)}, &dara.RuntimeOptions{}); err != nil {
		t.Fatal(err)
	}
}

// mustClients returns the adapters acting as an account's root.
func mustClients(t testing.TB, lz *landingZone, account string) *alicloud.Clients {
	t.Helper()
	c, err := alicloud.FactoryFromConfig(lz.cloud.Config(lz.cloud.Account(account).RootCredentials(), "cn-hangzhou"), cloudapi.DefaultRetry()).Base()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func alicloudVPC(v fakecloud.VPC) alicloud.BoundVPC {
	region := v.Region
	if region == "" {
		region = "cn-hangzhou"
	}
	return alicloud.BoundVPC{VPC: v.ID, VSwitch: v.VSwitchID, Region: region, Owner: v.Owner}
}
