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
	"context"
	"io"
	"math/rand/v2"
	"time"

	"github.com/kmsshare/kmsshare/examples/internal/lesson"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/share"
)

func main() { lesson.Main(cli) }

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
	s := newStory(w, lz.Name)
	s.Printf("W1: the Security account of a Landing Zone shares a KMS key with two application accounts.\n")
	s.Printf("Emulated Alibaba Cloud: nothing leaves this machine. Changes take %.0fs (emulated) to reach other accounts.\n\n", cfg.propagation.Seconds())
	s.Printf("Resource directory %s:\n", lz.Directory.ID)
	s.Printf("  %-10s  %s  manages the directory; its RAM user %q runs kmsshare\n", lz.Management.Name, lz.Management.ID, lz.Pipeline.Name)
	s.Printf("  %-10s  %s  owns KMS instance %s and key %s\n", lz.Security.Name, lz.Security.ID, lz.Instance.ID, lz.Key.ID)
	for _, m := range lz.Members {
		s.Printf("  %-10s  %s  application account in folder %s\n", m.Name, m.ID, lz.Apps.Name)
	}
	// The emulator's clock, and jitter from a fixed seed: two runs print the same bytes.
	c, err := share.New(lz.Config(), s.options(cfg), func(o *share.Options) {
		o.Clock = clock
		o.Rand = rand.New(rand.NewPCG(1, 1)).Int64N
	})
	if err != nil {
		return err
	}
	return s.run(ctx, c, spec, true, true)
}

// runReal tells the same story on real Alibaba Cloud, for the key and
// members given by flags.
func runReal(ctx context.Context, w io.Writer, cfg config, getenv func(string) string) error {
	spec := &share.Spec{Key: cfg.Key}
	for _, m := range cfg.members {
		spec.Recipients = append(spec.Recipients, share.Recipient{Account: m, Actions: cfg.actions})
	}
	s := newStory(w, func(uid string) string { return "account " + uid })
	c, err := cfg.RealClient(s.Printer, getenv, "W1", spec, s.options(cfg))
	if err != nil {
		return err
	}
	return s.run(ctx, c, spec, cfg.Apply, cfg.Revoke)
}

// run plans the share, then applies and verifies it (apply), then revokes
// it and verifies the refusal (revoke). It is the same on the emulator and
// in the real cloud.
func (s *story) run(ctx context.Context, c *share.Client, spec *share.Spec, apply, revoke bool) error {
	s.key = spec.KeyARN().ResourceName()
	s.Step("Plan: share key %s with the ResourceDirectoryAccountAccessRole of %s", s.key, s.names(spec))
	plan, err := c.Plan(ctx, spec)
	if err := lesson.Planned(s.Printer, plan, err); err != nil {
		return err
	}
	if apply {
		s.Step("Apply: the members' side first, then one write of the key policy")
		res, err := c.Apply(ctx, plan)
		if err := lesson.Applied(s.Printer, res, err); err != nil {
			return err
		}
		s.Step("Verify as each member: describe the key by ARN, generate a data key, decrypt it")
		if err := s.verified(c.Verify(ctx, spec)); err != nil {
			return err
		}
	}
	if revoke {
		s.Step("Revoke: plan, then remove the members from the key policy")
		rplan, err := c.PlanRevoke(ctx, spec, share.RevokeOptions{})
		if err := lesson.Planned(s.Printer, rplan, err); err != nil {
			return err
		}
		res, err := c.Apply(ctx, rplan)
		if err := lesson.Applied(s.Printer, res, err); err != nil {
			return err
		}
		s.Step("Verify as each member that the key is refused")
		s.mu.Lock()
		s.revoking = true
		s.mu.Unlock()
		if err := s.verified(c.VerifyRevoked(ctx, spec)); err != nil {
			return err
		}
	}
	lesson.End(s.Printer, apply || revoke, "share the key, or -revoke to undo the share")
	return nil
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
