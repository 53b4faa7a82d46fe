package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/kmsshare/kmsshare/examples/internal/commalist"
	"github.com/kmsshare/kmsshare/examples/internal/lesson"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/share"
)

// config is what the flags say.
type config struct {
	*lesson.Flags
	members     []string
	actions     []string // nil: the library's least-privilege default, share.DefaultActions
	timeout     time.Duration
	propagation time.Duration
	speed       float64
}

const about = `Workflow W1: a Landing Zone's Security account shares a KMS key with the
ResourceDirectoryAccountAccessRole of member accounts; plan, apply, verify
from each member, revoke, verify the refusal.

Emulator (default): runs the whole story on an emulated Alibaba Cloud in
memory; nothing to set up, nothing leaves this machine.

Real Alibaba Cloud (-real): credentials from credentials-go's default chain
(ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, ~/.alibabacloud/credentials,
~/.aliyun/config.json, ...); they must be able to assume the
ResourceDirectoryAccountAccessRole of the key owner and of each member.
Read-only unless -apply or -revoke is given.
`

func parse(args []string, stderr io.Writer) (config, error) {
	cfg := config{Flags: lesson.NewFlags("landingzone", about, stderr)}
	cfg.KeyFlag("the ARN of the key to share, acs:kms:<region>:<owner-uid>:key/<key-id>")
	cfg.ListFlag(&cfg.members, "members", "comma-separated UIDs of the member accounts to share with")
	cfg.Func("actions", "comma-separated key actions to grant (default: least privilege, "+strings.Join(share.DefaultActions(), ",")+")", func(s string) error {
		cfg.actions = commalist.Split(s)
		return nil
	})
	cfg.WriteFlags("apply the plan (writes the key policy and members' RAM policies), then verify from each member",
		"remove the members from the key policy, then verify they are refused")
	cfg.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "how long to wait for a change to propagate before giving up")
	cfg.DurationVar(&cfg.propagation, "propagation", time.Minute, "emulator: how long changes take to reach the members (emulated time)")
	cfg.Float64Var(&cfg.speed, "speed", 30, "emulator: how many times faster than real time emulated time runs")
	if err := cfg.Parse(args, "the emulator runs the whole story on its own key", "key", "members"); err != nil {
		return cfg, err
	}
	if cfg.speed <= 0 {
		return cfg, lesson.Usagef("-speed must be positive")
	}
	return cfg, nil
}

func cli(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parse(args, stderr)
	if err == nil && cfg.Real {
		err = runReal(ctx, stdout, cfg, getenv)
	} else if err == nil {
		err = runEmulated(ctx, stdout, cfg, sim.ScaledClock(cfg.speed))
	}
	return lesson.Exit("landingzone", stderr, err, share.ErrInvalidSpec)
}
