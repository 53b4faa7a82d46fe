package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// Simulate mode runs every command on an emulated cloud (fakecloud)
// through the same library calls as on real Alibaba Cloud; only the SDK
// configuration differs. The emulator lives in memory, so each command
// rebuilds it:
//
//  1. A world in which every spec seen so far resolves: a management account
//     whose RAM user "pipeline" runs kmsshare, a Resource Directory, each
//     key's owner as a member with a KMS instance holding the key under its
//     own ID, and each recipient account as a member (with the RAM users
//     and access roles the specs name). IDs come from the specs; the rest
//     from a fixed seed.
//  2. The journal in the state file: the apply and revoke commands that
//     succeeded so far, replayed in order with share.Client.Share and
//     Revoke, each at the emulated time it first ran.
//  3. Then the command itself. Emulated time between commands is the real
//     time between them; waits within a command (verification polling,
//     retries) take no real time.
//
// A command that fails leaves no trace: only successful apply and revoke
// commands are journaled.

// simSettings shape the emulated cloud.
type simSettings struct {
	state       string        // the journal file
	quota       int           // access management quota of each KMS instance
	propagation time.Duration // fakecloud.Options.PropagationDelay
	throttle    string        // "service:Action,..." always throttled
	now         time.Time     // the real time now
}

// journal is the state file.
type journal struct {
	Version  int     `json:"version"`
	About    string  `json:"about"`
	Commands []entry `json:"commands"`
}

// entry is one journaled command.
type entry struct {
	At             time.Time  `json:"at"` // emulated time when it ran
	Command        string     `json:"command"`
	RemovePolicies bool       `json:"removePolicies,omitempty"`
	Spec           share.Spec `json:"spec"`
}

const journalVersion = 1

// simulation is simulate mode's emulated cloud, ready for the command.
type simulation struct {
	settings simSettings
	cloud    *fakecloud.Cloud
	clock    *fakecloud.ManualClock
	pipeline *fakecloud.User
	journal  journal
	started  time.Time // the emulated time at which the command runs
}

// newSimulation builds the world for the journal's specs and current,
// replays the journal and installs the throttling faults.
func newSimulation(ctx context.Context, set simSettings, current *share.Spec) (*simulation, error) {
	faults, err := parseThrottle(set.throttle)
	if err != nil {
		return nil, err
	}
	j, err := loadJournal(set.state)
	if err != nil {
		return nil, err
	}
	specs := []*share.Spec{current}
	start := set.now
	for i := range j.Commands {
		specs = append(specs, &j.Commands[i].Spec)
		if j.Commands[i].At.Before(start) {
			start = j.Commands[i].At
		}
	}
	s := &simulation{settings: set, journal: j, clock: fakecloud.NewManualClock(start)}
	s.cloud = fakecloud.New(fakecloud.Options{Clock: s.clock, Seed: 1, PropagationDelay: set.propagation})
	if s.pipeline, err = buildWorld(s.cloud, specs, set.quota); err != nil {
		return nil, fmt.Errorf("simulation: %w", err)
	}
	for i, e := range j.Commands {
		s.advanceTo(e.At)
		if err := s.replay(ctx, e); err != nil {
			// A usage error: the journal no longer fits the -sim flags (or
			// the specs). The cause is not wrapped, so that its class does
			// not pass for the command's own outcome.
			return nil, fmt.Errorf("%w: simulation: cannot replay command %d of %s (%s of %s): %v; delete %s to start over",
				errUsage, i+1, set.state, e.Command, e.Spec.Key, err, set.state)
		}
	}
	s.advanceTo(set.now)
	s.started = s.clock.Now()
	for _, f := range faults {
		s.cloud.Faults().Add(f)
	}
	return s, nil
}

func (s *simulation) advanceTo(t time.Time) { s.clock.Advance(t.Sub(s.clock.Now())) }

// config is the pipeline user's SDK configuration, served in process.
func (s *simulation) config(region string) *openapi.Config {
	return s.cloud.Config(s.pipeline.Credentials(), region)
}

// clockOption makes share wait on the emulated clock.
func (s *simulation) clockOption(o *share.Options) { o.Clock = s.clock }

func (s *simulation) replay(ctx context.Context, e entry) error {
	c, err := share.New(s.config(e.Spec.KeyARN().Region), s.clockOption)
	if err != nil {
		return err
	}
	switch e.Command {
	case "apply":
		_, err = c.Share(ctx, &e.Spec)
	case "revoke":
		_, err = c.Revoke(ctx, &e.Spec, share.RevokeOptions{RemoveRecipientPolicies: e.RemovePolicies})
	default:
		err = fmt.Errorf("unknown command %q", e.Command)
	}
	return err
}

// record journals a command that changed the emulated cloud.
func (s *simulation) record(command string, spec *share.Spec, removePolicies bool) error {
	s.journal.Commands = append(s.journal.Commands, entry{At: s.started, Command: command, RemovePolicies: removePolicies, Spec: *spec})
	s.journal.Version = journalVersion
	s.journal.About = "keyshare -simulate: the changes made to the emulated cloud so far, replayed by every command. Delete this file to start over."
	data, err := json.MarshalIndent(s.journal, "", "  ")
	if err != nil {
		return err
	}
	// Write a new file and rename it over the old one, so that an
	// interrupted write never leaves half a journal.
	tmp, err := os.CreateTemp(filepath.Dir(s.settings.state), ".keyshare-sim-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.settings.state)
}

func loadJournal(path string) (journal, error) {
	var j journal
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return j, fmt.Errorf("%w: cannot read the simulation state: %v", errUsage, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil || j.Version != journalVersion {
		return j, fmt.Errorf("%w: %s is not a keyshare simulation state (version %d): %v; delete it to start over",
			errUsage, path, journalVersion, err)
	}
	for i, e := range j.Commands {
		if err := e.Spec.Validate(""); err != nil {
			return j, fmt.Errorf("%w: %s, command %d: %v; delete it to start over", errUsage, path, i+1, err)
		}
	}
	return j, nil
}

// parseThrottle reads -sim-throttle.
func parseThrottle(s string) ([]fakecloud.Fault, error) {
	var out []fakecloud.Fault
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		service, action, ok := strings.Cut(f, ":")
		if !ok || action == "" || !slices.Contains([]string{"kms", "ram", "sts"}, service) {
			return nil, fmt.Errorf("%w: -sim-throttle %q: want service:Action with service kms, ram or sts (e.g. ram:CreatePolicy)", errUsage, f)
		}
		out = append(out, fakecloud.Fault{Service: service, Action: action, Throttle: 1})
	}
	return out, nil
}

// buildWorld creates the accounts, keys, users and roles the specs name,
// in an order that depends only on the specs, and returns the pipeline
// user.
func buildWorld(cloud *fakecloud.Cloud, specs []*share.Spec, quota int) (*fakecloud.User, error) {
	mgmt := cloud.NewAccount("management")
	rd, err := cloud.NewResourceDirectory(mgmt)
	if err != nil {
		return nil, err
	}
	pipeline, err := mgmt.NewUser("pipeline", "AdministratorAccess")
	if err != nil {
		return nil, err
	}
	apps := rd.Root().NewFolder("apps")
	accounts := map[string]*fakecloud.Account{mgmt.ID: mgmt}
	join := func(id, name string, folder *fakecloud.Folder) (*fakecloud.Account, error) {
		if a := accounts[id]; a != nil {
			return a, nil
		}
		a, err := cloud.NewAccountWithID(id, name)
		if err != nil {
			return nil, err
		}
		if err := folder.AddMember(a); err != nil {
			return nil, err
		}
		accounts[id] = a
		return a, nil
	}

	keys := map[string]arn.ARN{}
	for _, s := range specs {
		k := s.KeyARN()
		keys[k.String()] = k
	}
	instances := map[string]*fakecloud.Instance{} // by owner and region
	for _, name := range sortedKeys(keys) {
		k := keys[name]
		owner, err := join(k.AccountID, "key owner", rd.Root())
		if err != nil {
			return nil, err
		}
		inst := instances[k.AccountID+" "+k.Region]
		if inst == nil {
			inst = owner.NewKMSInstance(k.Region, fakecloud.InstanceOptions{Quota: quota})
			instances[k.AccountID+" "+k.Region] = inst
		}
		if owner.Key(k.ResourceName()) == nil {
			if _, err := inst.NewKeyWithID(k.ResourceName(), fakecloud.KeyOptions{Description: "simulated by keyshare"}); err != nil {
				return nil, err
			}
		}
	}

	type need struct{ account, user, accessRole string }
	var needs []need
	for _, s := range specs {
		for _, r := range s.Recipients {
			n := need{account: r.Account}
			if r.Principal == share.PrincipalUser {
				n.user = r.Name
			}
			if r.AccessRole != "" && !strings.EqualFold(r.AccessRole, arn.ResourceDirectoryAccessRoleName) {
				n.accessRole = r.AccessRole
			}
			needs = append(needs, n)
		}
	}
	slices.SortFunc(needs, func(a, b need) int {
		return strings.Compare(a.account+" "+a.user+" "+a.accessRole, b.account+" "+b.user+" "+b.accessRole)
	})
	trust, err := policy.TrustRAM(arn.AccountRoot(mgmt.ID))
	if err != nil {
		return nil, err
	}
	made := map[string]bool{}
	for _, n := range needs {
		a, err := join(n.account, "recipient", apps)
		if err != nil {
			return nil, err
		}
		if u := strings.ToLower(n.account + " user " + n.user); n.user != "" && !made[u] {
			made[u] = true
			if _, err := a.NewUser(n.user); err != nil {
				return nil, err
			}
		}
		// Like the RD access role: trusted by the management account, with
		// AdministratorAccess.
		if r := strings.ToLower(n.account + " role " + n.accessRole); n.accessRole != "" && !made[r] {
			made[r] = true
			if _, err := a.NewRole(n.accessRole, trust.String(), "AdministratorAccess"); err != nil {
				return nil, err
			}
		}
	}
	return pipeline, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
