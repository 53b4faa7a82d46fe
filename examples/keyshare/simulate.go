package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
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

// Simulate mode (-simulate) runs every command on an emulated cloud
// (fakecloud) through the same library calls as on real Alibaba Cloud; only
// the SDK configuration differs. The emulator lives in memory, so each
// command rebuilds it:
//
//  1. A world in which every spec seen so far resolves: a management account
//     whose RAM user "pipeline" runs kmsshare, a Resource Directory, each
//     key's owner as a member with a KMS instance holding the key under its
//     own ID, and each recipient account as a member (with the RAM users
//     and access roles the specs name). IDs come from the specs; the rest
//     from a fixed seed.
//  2. The journal in the state file: every apply and revoke that changed
//     something, including those that failed part way (exit 4) or with an
//     API error, replayed in order with share.Client.Share and Revoke, each
//     at the emulated time it first ran and with the -sim-throttle faults it
//     ran with, so that a replayed failure fails the same way and leaves the
//     same partial state.
//  3. Then the command itself, at the emulated time the last command ended
//     plus the real time since. Waits within a command (verification
//     polling, retries) take emulated time, not real time, and the next
//     command starts after them: the state records the emulated clock.
//
// The state file is locked (state + ".lock", flock) for the whole command:
// a second command on the same state waits up to -lock-wait, then fails
// with exit 2; none loses the other's journal entries.

// simSettings shape the emulated cloud.
type simSettings struct {
	state       string        // the journal file
	quota       int           // access management quota of each KMS instance
	propagation time.Duration // fakecloud.Options.PropagationDelay
	visibility  time.Duration // fakecloud.Options.VisibilityDelay
	throttle    string        // "service:Action,..." always throttled
	now         time.Time     // the real time now
}

// journal is the state file.
type journal struct {
	Version int    `json:"version"`
	About   string `json:"about"`
	// Clock is the emulated time when the last command ended, and RealTime
	// the real time then: the next command starts at Clock plus the real
	// time elapsed since RealTime.
	Clock    time.Time `json:"clock,omitzero"`
	RealTime time.Time `json:"realTime,omitzero"`
	Commands []entry   `json:"commands"`
}

// entry is one journaled command.
type entry struct {
	At             time.Time `json:"at"` // emulated time when it ran
	Command        string    `json:"command"`
	RemovePolicies bool      `json:"removePolicies,omitempty"`
	// Throttle is the -sim-throttle the command ran with; replay installs
	// it again, so that the command fails as it did.
	Throttle string `json:"throttle,omitempty"`
	// Outcome is "done", "incomplete" (exit 4: some changes made) or
	// "failed" (an error after changes began); replay expects the same.
	Outcome string     `json:"outcome"`
	Error   string     `json:"error,omitempty"` // what the failure said, for people
	Spec    share.Spec `json:"spec"`
}

// Journal outcomes.
const (
	outcomeDone       = "done"
	outcomeIncomplete = "incomplete"
	outcomeFailed     = "failed"
)

const journalVersion = 2

// simulation is simulate mode's emulated cloud, ready for the command.
type simulation struct {
	settings simSettings
	cloud    *fakecloud.Cloud
	clock    *fakecloud.ManualClock
	pipeline *fakecloud.User
	journal  journal
	existed  bool      // the state file existed when the command began
	started  time.Time // the emulated time at which the command runs
}

// newSimulation builds the world for the journal's specs and current,
// replays the journal and installs the throttling faults. The caller holds
// the state's lock.
func newSimulation(ctx context.Context, set simSettings, current *share.Spec) (*simulation, error) {
	faults, err := parseThrottle(set.throttle)
	if err != nil {
		return nil, err
	}
	j, existed, err := loadJournal(set.state)
	if err != nil {
		return nil, err
	}
	specs := []*share.Spec{current}
	start := set.now
	if len(j.Commands) > 0 || !j.Clock.IsZero() {
		start = j.Clock
	}
	for i := range j.Commands {
		specs = append(specs, &j.Commands[i].Spec)
		if j.Commands[i].At.Before(start) {
			start = j.Commands[i].At
		}
	}
	s := &simulation{settings: set, journal: j, existed: existed, clock: fakecloud.NewManualClock(start)}
	s.cloud = fakecloud.New(fakecloud.Options{Clock: s.clock, Seed: 1, PropagationDelay: set.propagation, VisibilityDelay: set.visibility})
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
	now := set.now
	if !j.Clock.IsZero() {
		now = j.Clock
		if elapsed := set.now.Sub(j.RealTime); elapsed > 0 {
			now = now.Add(elapsed)
		}
	}
	s.advanceTo(now)
	s.started = s.clock.Now()
	for _, f := range faults {
		s.cloud.Faults().Add(f)
	}
	return s, nil
}

// advanceTo moves the emulated clock forward to t; never back.
func (s *simulation) advanceTo(t time.Time) {
	if d := t.Sub(s.clock.Now()); d > 0 {
		s.clock.Advance(d)
	}
}

// config is the pipeline user's SDK configuration, served in process.
func (s *simulation) config(region string) *openapi.Config {
	return s.cloud.Config(s.pipeline.Credentials(), region)
}

// clockOption makes share wait on the emulated clock and draw its jitter
// from a fixed seed, so a simulated command waits the same emulated time
// on every run (and a replay repeats it).
func (s *simulation) clockOption(o *share.Options) {
	o.Clock = s.clock
	o.Rand = rand.New(rand.NewPCG(1, 1)).Int64N
}

// replay runs a journaled command again, with the faults it ran with, and
// checks that it ends as it did.
func (s *simulation) replay(ctx context.Context, e entry) error {
	faults, err := parseThrottle(e.Throttle)
	if err != nil {
		return err
	}
	var ids []int
	for _, f := range faults {
		ids = append(ids, s.cloud.Faults().Add(f))
	}
	defer func() {
		for _, id := range ids {
			s.cloud.Faults().Remove(id)
		}
	}()
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
		return fmt.Errorf("unknown command %q", e.Command)
	}
	if got := outcomeOf(err); got != e.Outcome {
		if err == nil {
			return fmt.Errorf("it was journaled as %s but succeeded now", e.Outcome)
		}
		return fmt.Errorf("it was journaled as %s but ended %s now: %v", e.Outcome, got, err)
	}
	return nil
}

// outcomeOf classifies the error of a command that began changing things.
func outcomeOf(err error) string {
	switch {
	case err == nil:
		return outcomeDone
	case errors.Is(err, share.ErrIncomplete):
		return outcomeIncomplete
	}
	return outcomeFailed
}

// record journals a command that changed (or began changing) the emulated
// cloud; cmdErr is how it ended. save writes the journal.
func (s *simulation) record(command string, spec *share.Spec, removePolicies bool, cmdErr error) {
	e := entry{At: s.started, Command: command, RemovePolicies: removePolicies, Throttle: s.settings.throttle,
		Outcome: outcomeOf(cmdErr), Spec: *spec}
	if cmdErr != nil {
		e.Error = cmdErr.Error()
	}
	s.journal.Commands = append(s.journal.Commands, e)
}

// save writes the journal with the emulated clock as it is now, if there is
// anything to keep: a state file to update, or a first journal entry.
func (s *simulation) save(realNow time.Time) error {
	if !s.existed && len(s.journal.Commands) == 0 {
		return nil
	}
	s.journal.Version = journalVersion
	s.journal.About = "keyshare -simulate: the changes made to the emulated cloud so far (including failed and partial ones) " +
		"and its clock, replayed by every command. Delete this file to start over."
	s.journal.Clock = s.clock.Now().UTC()
	s.journal.RealTime = realNow.UTC()
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

// loadJournal reads the state file; a missing one is an empty journal.
func loadJournal(path string) (journal, bool, error) {
	var j journal
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return j, false, nil
	}
	if err != nil {
		return j, false, fmt.Errorf("%w: cannot read the simulation state: %v", errUsage, err)
	}
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return j, true, fmt.Errorf("%w: %s is not a keyshare simulation state: %s; delete it to start over", errUsage, path, jsonProblem(data, err))
	}
	if v.Version != journalVersion {
		return j, true, fmt.Errorf("%w: %s is a keyshare simulation state of version %d, and this keyshare reads version %d; delete it to start over",
			errUsage, path, v.Version, journalVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return j, true, fmt.Errorf("%w: %s is not a keyshare simulation state: %s; delete it to start over", errUsage, path, jsonProblem(data, err))
	}
	for i, e := range j.Commands {
		if err := e.Spec.Validate(""); err != nil {
			return j, true, fmt.Errorf("%w: %s, command %d: %s; delete it to start over", errUsage, path, i+1, message(err))
		}
		if !slices.Contains([]string{outcomeDone, outcomeIncomplete, outcomeFailed}, e.Outcome) {
			return j, true, fmt.Errorf("%w: %s, command %d: unknown outcome %q; delete it to start over", errUsage, path, i+1, e.Outcome)
		}
	}
	return j, true, nil
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
