// Package sim builds the emulated Alibaba Cloud that the examples run on
// when no real cloud is asked for: a Landing Zone with a management
// account, a Resource Directory, a Security account holding a KMS instance
// and a key, and application member accounts. IDs come from a seed, so a
// run prints the same UIDs and key IDs every time.
package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// Region is the region of the emulated KMS instance.
const Region = "cn-hangzhou"

// start is the emulated time at which every example begins.
func start() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }

// Clock is emulator time that code can also wait on, share.Clock:
// fakecloud's ManualClock (tests: waiting takes no real time) and
// ScaledClock (examples: minutes of emulated waiting in seconds) both are.
type Clock = share.Clock

// ManualClock returns a clock that moves only when waited on.
func ManualClock() *fakecloud.ManualClock { return fakecloud.NewManualClock(start()) }

// ScaledClock returns a clock that runs speed times faster than real time.
func ScaledClock(speed float64) *fakecloud.ScaledClock {
	return fakecloud.NewScaledClock(start(), speed)
}

// Options shape the Landing Zone.
type Options struct {
	Clock Clock // required
	Seed  uint64
	// Propagation is how long changes to policies take to reach
	// authorization (fakecloud.Options.PropagationDelay). The examples
	// pass DefaultPropagation.
	Propagation time.Duration
	// Visibility is how long a new role or policy stays invisible to
	// other services (fakecloud.Options.VisibilityDelay). The examples
	// pass DefaultVisibility.
	Visibility time.Duration
	// Owner names the account that owns the KMS instance and the key
	// (default "security").
	Owner string
	// Members names the application accounts in the "apps" folder.
	Members []string
	// Quota is the KMS instance's access management quota (default 10).
	Quota int
}

// The delays the examples run with: the real cloud is eventually
// consistent, and code that only works without delays fails its first real
// user. Neither is documented by Alibaba; practitioners report shares
// taking from seconds to about 30 minutes to propagate, and Terraform waits
// out RAM's invisibility of new roles for seconds. Code that waits must
// wait on the emulator's clock (share.Options.Clock = the LandingZone's
// Clock), or a visibility delay never ends.
const (
	DefaultPropagation = time.Minute
	DefaultVisibility  = 10 * time.Second
)

// LandingZone is an emulated Landing Zone (workflow W1).
type LandingZone struct {
	Cloud      *fakecloud.Cloud
	Clock      Clock
	Management *fakecloud.Account
	Directory  *fakecloud.ResourceDirectory
	Apps       *fakecloud.Folder // the folder of the application members
	Security   *fakecloud.Account
	Instance   *fakecloud.Instance
	Key        *fakecloud.Key
	Members    []*fakecloud.Account // in the order of Options.Members
	// Pipeline is the management account's RAM user that runs kmsshare,
	// with AdministratorAccess: it enters every member account through
	// the member's ResourceDirectoryAccountAccessRole.
	Pipeline *fakecloud.User

	seed uint64
}

// ShareOptions makes a share.Client wait on the Landing Zone's clock and
// draw its jitter from a source seeded like the emulator, so a story told
// twice is told the same way: pass it to share.New.
func (lz *LandingZone) ShareOptions(o *share.Options) {
	o.Clock = lz.Clock
	o.Rand = rand.New(rand.NewPCG(lz.seed, 1)).Int64N
}

// NewLandingZone builds the Landing Zone.
func NewLandingZone(o Options) (*LandingZone, error) {
	if o.Clock == nil {
		return nil, fmt.Errorf("sim: no clock")
	}
	if o.Quota == 0 {
		o.Quota = 10
	}
	lz := &LandingZone{Clock: o.Clock, seed: o.Seed}
	lz.Cloud = fakecloud.New(fakecloud.Options{Clock: o.Clock, Seed: o.Seed, PropagationDelay: o.Propagation, VisibilityDelay: o.Visibility})
	lz.Management = lz.Cloud.NewAccount("management")
	rd, err := lz.Cloud.NewResourceDirectory(lz.Management)
	if err != nil {
		return nil, err
	}
	lz.Directory = rd
	if o.Owner == "" {
		o.Owner = "security"
	}
	lz.Security = rd.Root().NewMember(o.Owner)
	lz.Apps = rd.Root().NewFolder("apps")
	for _, name := range o.Members {
		lz.Members = append(lz.Members, lz.Apps.NewMember(name))
	}
	lz.Instance = lz.Security.NewKMSInstance(Region, fakecloud.InstanceOptions{Quota: o.Quota})
	if lz.Key, err = lz.Instance.NewKey(fakecloud.KeyOptions{Description: "shared with the application accounts"}); err != nil {
		return nil, err
	}
	if lz.Pipeline, err = lz.Management.NewUser("pipeline", "AdministratorAccess"); err != nil {
		return nil, err
	}
	return lz, nil
}

// Config is the SDK configuration of the pipeline user, served in process.
func (lz *LandingZone) Config() *openapi.Config {
	return lz.Cloud.Config(lz.Pipeline.Credentials(), Region)
}

// Name returns the name of the account with the given UID, or the UID.
func (lz *LandingZone) Name(uid string) string {
	if a := lz.Cloud.Account(uid); a != nil && a.Name != "" {
		return a.Name
	}
	return uid
}
