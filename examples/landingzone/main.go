// Command landingzone runs workflow W1 end to end. A Landing Zone's Security
// account shares a KMS key with the ResourceDirectoryAccountAccessRole of
// two application (member) accounts: kmsshare plans the change, applies it,
// verifies from each member that the member can encrypt and decrypt a data
// key with the key (waiting while the change propagates), then revokes the
// share and shows the members being refused.
//
// Usage:
//
//	go run ./examples/landingzone
//	go run ./examples/landingzone -real -key <key ARN> -members <uid>,<uid> [-apply] [-revoke]
//
// By default it runs on an emulated Alibaba Cloud built in memory, with
// nothing to set up: a management account whose RAM user "pipeline" runs
// kmsshare, a Resource Directory, a Security account with a KMS instance and
// a key, and members app-1 and app-2. Changes take -propagation (60s) of
// emulated time to reach the members; emulated time runs -speed (30) times
// faster than real time, so the whole story takes a few seconds.
//
// With -real it runs the same code against real Alibaba Cloud, with the
// credentials of credentials-go's default chain (environment variables,
// ~/.alibabacloud/credentials, ~/.aliyun/config.json, ...), which must be
// able to assume the ResourceDirectoryAccountAccessRole of the key owner and
// of each member (a RAM user or role of the management account, typically).
// It only reads and prints the plan unless told otherwise: -apply changes
// the key policy and then verifies from each member, -revoke removes the
// members from the key policy and verifies they are refused.
//
// The exit status is 0 on success, 2 for bad flags or a bad key or member
// ID, and 1 for anything else.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/kmsshare/kmsshare/examples/internal/commalist"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/share"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// config is what the flags say.
type config struct {
	real        bool
	key         string
	members     []string
	actions     []string
	region      string
	apply       bool
	revoke      bool
	timeout     time.Duration
	propagation time.Duration
	speed       float64
}

// errUsage marks bad command lines and bad identifiers.
var errUsage = errors.New("usage")

func cli(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		if cfg.real {
			err = runReal(ctx, stdout, cfg, getenv)
		} else {
			err = runEmulated(ctx, stdout, cfg, sim.ScaledClock(cfg.speed))
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "landingzone:", err)
		if errors.Is(err, errUsage) || errors.Is(err, share.ErrInvalidSpec) {
			return 2
		}
		return 1
	}
	return 0
}

func parse(args []string, stderr io.Writer) (config, error) {
	cfg := config{} // actions nil: the library's least-privilege default, share.DefaultActions
	fs := flag.NewFlagSet("landingzone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: landingzone [flags]

Workflow W1: a Landing Zone's Security account shares a KMS key with the
ResourceDirectoryAccountAccessRole of member accounts; plan, apply, verify
from each member, revoke, verify the refusal.

Emulator (default): runs the whole story on an emulated Alibaba Cloud in
memory; nothing to set up, nothing leaves this machine.

Real Alibaba Cloud (-real): credentials from credentials-go's default chain
(ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, ~/.alibabacloud/credentials,
~/.aliyun/config.json, ...); they must be able to assume the
ResourceDirectoryAccountAccessRole of the key owner and of each member.
Read-only unless -apply or -revoke is given.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.BoolVar(&cfg.real, "real", false, "use real Alibaba Cloud instead of the emulator")
	fs.StringVar(&cfg.key, "key", "", "with -real: the ARN of the key to share, acs:kms:<region>:<owner-uid>:key/<key-id>")
	fs.Func("members", "with -real: comma-separated UIDs of the member accounts to share with", func(s string) error {
		cfg.members = commalist.Split(s)
		return nil
	})
	fs.Func("actions", "comma-separated key actions to grant (default: least privilege, "+strings.Join(share.DefaultActions(), ",")+")", func(s string) error {
		cfg.actions = commalist.Split(s)
		return nil
	})
	fs.StringVar(&cfg.region, "region", "", "with -real: the region of the clients (default: the key's region)")
	fs.BoolVar(&cfg.apply, "apply", false, "with -real: apply the plan (writes the key policy and members' RAM policies), then verify from each member")
	fs.BoolVar(&cfg.revoke, "revoke", false, "with -real: remove the members from the key policy, then verify they are refused")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "how long to wait for a change to propagate before giving up")
	fs.DurationVar(&cfg.propagation, "propagation", time.Minute, "emulator: how long changes take to reach the members (emulated time)")
	fs.Float64Var(&cfg.speed, "speed", 30, "emulator: how many times faster than real time emulated time runs")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case !cfg.real && (cfg.key != "" || len(cfg.members) > 0 || cfg.apply || cfg.revoke || cfg.region != ""):
		return cfg, fmt.Errorf("%w: -key, -members, -region, -apply and -revoke are for -real; the emulator runs the whole story on its own key", errUsage)
	case cfg.real && (cfg.key == "" || len(cfg.members) == 0):
		return cfg, fmt.Errorf("%w: -real needs -key and -members", errUsage)
	case cfg.speed <= 0:
		return cfg, fmt.Errorf("%w: -speed must be positive", errUsage)
	}
	return cfg, nil
}

// runEmulated builds the emulated Landing Zone and tells the story on it.
func runEmulated(ctx context.Context, w io.Writer, cfg config, clock sim.Clock) error {
	lz, err := sim.NewLandingZone(sim.Options{Clock: clock, Seed: 1, Propagation: cfg.propagation, Visibility: sim.DefaultVisibility,
		Members: []string{"app-1", "app-2"}})
	if err != nil {
		return err
	}
	spec := &share.Spec{Key: lz.Key.ARN}
	for _, m := range lz.Members {
		spec.Recipients = append(spec.Recipients, share.Recipient{Account: m.ID, Actions: cfg.actions})
	}
	fmt.Fprintf(w, "W1: the Security account of a Landing Zone shares a KMS key with two application accounts.\n")
	fmt.Fprintf(w, "Emulated Alibaba Cloud: nothing leaves this machine. Changes take %.0fs (emulated) to reach other accounts.\n\n",
		cfg.propagation.Seconds())
	fmt.Fprintf(w, "Resource directory %s:\n", lz.Directory.ID)
	fmt.Fprintf(w, "  %-10s  %s  manages the directory; its RAM user %q runs kmsshare\n", lz.Management.Name, lz.Management.ID, lz.Pipeline.Name)
	fmt.Fprintf(w, "  %-10s  %s  owns KMS instance %s and key %s\n", lz.Security.Name, lz.Security.ID, lz.Instance.ID, lz.Key.ID)
	for _, m := range lz.Members {
		fmt.Fprintf(w, "  %-10s  %s  application account in folder %s\n", m.Name, m.ID, lz.Apps.Name)
	}
	s := newStory(w, lz.Name)
	c, err := share.New(lz.Config(), s.options(cfg), func(o *share.Options) { o.Clock = clock })
	if err != nil {
		return err
	}
	return s.run(ctx, c, spec, true, true)
}

// runReal tells the same story on real Alibaba Cloud, for the key and
// members given by flags.
func runReal(ctx context.Context, w io.Writer, cfg config, getenv func(string) string) error {
	spec := &share.Spec{Key: cfg.key}
	for _, m := range cfg.members {
		spec.Recipients = append(spec.Recipients, share.Recipient{Account: m, Actions: cfg.actions})
	}
	if err := spec.Validate(cfg.region); err != nil {
		return err
	}
	region := cmp.Or(cfg.region, spec.KeyARN().Region)
	s := newStory(w, func(uid string) string { return "account " + uid })
	c, source, err := realcloud.NewClient(getenv, region, s.options(cfg))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "W1 on real Alibaba Cloud, region %s, credentials from %s.\n", region, source)
	if !cfg.apply && !cfg.revoke {
		fmt.Fprintf(w, "Read-only: only the plan is made (-apply and -revoke write).\n")
	}
	return s.run(ctx, c, spec, cfg.apply, cfg.revoke)
}

// story prints the workflow as it happens.
type story struct {
	*narrate.Printer
	name func(uid string) string

	mu       sync.Mutex
	revoking bool
	refusals map[string]string // principal → the cloud's refusal, as seen by VerifyRevoked
}

func newStory(w io.Writer, name func(string) string) *story {
	return &story{Printer: narrate.New(w), name: name, refusals: map[string]string{}}
}

// options are the same on the emulator and in the real cloud: one member at
// a time (so the story reads in order), the deadline from -timeout, and the
// verification attempts reported as they happen.
func (s *story) options(cfg config) func(*share.Options) {
	return func(o *share.Options) {
		o.Concurrency = 1
		o.VerifyTimeout = cfg.timeout
		o.VerifyInterval = 5 * time.Second
		o.Progress = s.progress
	}
}

// progress prints a line per verification attempt that has to wait for
// propagation, and remembers how the cloud refused revoked members.
func (s *story) progress(ev share.Event) {
	if ev.Phase != "verify" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	who := s.name(ev.Account)
	switch ev.Outcome {
	case share.OutcomeNotYetPropagated:
		if s.revoking {
			s.Line("waiting", "%s, attempt %d: can still use the key; the revoke has not reached it yet", who, ev.Attempt)
		} else {
			s.Line("waiting", "%s, attempt %d: refused although both policies allow it; the change has not reached it yet", who, ev.Attempt)
		}
	case share.OutcomeRevoked:
		// The code, not the operation: which call of the attempt met the
		// revoke first depends on timing.
		if ev.Err != nil {
			s.refusals[ev.Principal] = narrate.Refusal("kms", "", ev.Err)
		}
	}
}

func (s *story) names(spec *share.Spec) string {
	var out []string
	for _, r := range spec.Recipients {
		out = append(out, s.name(r.Account))
	}
	return strings.Join(out, " and ")
}

// run plans the share, then applies and verifies it (apply), then revokes
// it and verifies the refusal (revoke). It is the same on the emulator and
// in the real cloud.
func (s *story) run(ctx context.Context, c *share.Client, spec *share.Spec, apply, revoke bool) error {
	key := spec.KeyARN()
	s.Step("Plan: share key %s with the ResourceDirectoryAccountAccessRole of %s", key.ResourceName(), s.names(spec))
	plan, err := c.Plan(ctx, spec)
	if err != nil {
		return err
	}
	s.Block(plan.String())
	if err := plan.Err(); err != nil {
		return err
	}
	if apply {
		s.Step("Apply: the members' side first, then one write of the key policy")
		res, err := c.Apply(ctx, plan)
		if res != nil {
			s.Block(res.String())
		}
		if err != nil {
			return err
		}
		s.Step("Verify as each member: describe the key by ARN, generate a data key, decrypt it")
		rep, err := c.Verify(ctx, spec)
		if err != nil {
			return err
		}
		for _, r := range rep.Results {
			if r.Outcome == share.OutcomeOK {
				s.Line("ok", "%s encrypted and decrypted a data key with key %s", s.name(r.Account), key.ResourceName())
			}
		}
		if err := rep.Err(); err != nil {
			s.Block(rep.String())
			return err
		}
	}
	if revoke {
		s.Step("Revoke: plan, then remove the members from the key policy")
		rplan, err := c.PlanRevoke(ctx, spec, share.RevokeOptions{})
		if err != nil {
			return err
		}
		s.Block(rplan.String())
		if err := rplan.Err(); err != nil {
			return err
		}
		res, err := c.Apply(ctx, rplan)
		if res != nil {
			s.Block(res.String())
		}
		if err != nil {
			return err
		}
		s.Step("Verify as each member that the key is refused")
		s.mu.Lock()
		s.revoking = true
		s.mu.Unlock()
		rep, err := c.VerifyRevoked(ctx, spec)
		if err != nil {
			return err
		}
		for _, r := range rep.Results {
			if r.Outcome == share.OutcomeRevoked {
				s.mu.Lock()
				why := s.refusals[r.Principal]
				s.mu.Unlock()
				if why == "" {
					why = "the key policy no longer grants it"
				}
				s.Line("refused", "%s is now refused: %s", s.name(r.Account), why)
			}
		}
		if err := rep.Err(); err != nil {
			s.Block(rep.String())
			return err
		}
	}
	if !apply && !revoke {
		s.Printf("\nNothing was changed. Run again with -apply to share the key, or -revoke to undo the share.\n")
		return nil
	}
	s.Printf("\nDone.\n")
	return nil
}
