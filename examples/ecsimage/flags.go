package main

import (
	"context"
	"io"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/examples/internal/commalist"
	"github.com/kmsshare/kmsshare/examples/internal/lesson"
	"github.com/kmsshare/kmsshare/policy"
)

type config struct {
	*lesson.Flags
	accounts []string
	rd       string
	folder   string
	snapshot bool
}

const about = `Workflow W4: account A shares ECS images (or snapshots) encrypted with its own
KMS key. A owns AliyunECSShareEncryptImageDefaultRole (or ...SnapshotDefaultRole),
trusted by the recipients' ECS service, with a policy allowing the key.

Emulator (default): the three trust scenarios (specific accounts, a whole
resource directory, one folder) on an emulated Alibaba Cloud in memory, with
ECS acting for admitted and refused accounts; nothing to set up, nothing
leaves this machine.

Real Alibaba Cloud (-real): credentials from credentials-go's default chain
(ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, ~/.alibabacloud/credentials,
~/.aliyun/config.json, ...) of account A itself. Give the key and one trust
scope. Read-only unless -apply or -revoke is given.

`

func parse(args []string, stderr io.Writer) (config, error) {
	cfg := config{Flags: lesson.NewFlags("ecsimage", about, stderr)}
	cfg.KeyFlag("the ARN of A's key the images are encrypted with")
	cfg.Func("accounts", "with -real: trust the ECS service of these comma-separated account UIDs", func(s string) error {
		cfg.accounts = append(cfg.accounts, commalist.Split(s)...)
		return nil
	})
	cfg.StringVar(&cfg.rd, "rd", "", "with -real: trust the ECS service of every account of this resource directory (rd-...)")
	cfg.StringVar(&cfg.folder, "folder", "", "with -real: trust the ECS service of every account in this folder and below (rd-.../r-.../fd-...)")
	cfg.RealOnly("accounts", "rd", "folder")
	cfg.BoolVar(&cfg.snapshot, "snapshot", false, "share snapshots: AliyunECSShareEncryptSnapshotDefaultRole instead of the image role")
	cfg.WriteFlags("create or update the role and its policy in A", "delete the role and its custom policies from A")
	if err := cfg.Parse(args, "the emulator runs all three scenarios on its own key"); err != nil {
		return cfg, err
	}
	scopes := 0
	for _, set := range []bool{len(cfg.accounts) > 0, cfg.rd != "", cfg.folder != ""} {
		if set {
			scopes++
		}
	}
	switch {
	case cfg.Real && (cfg.Key == "" || scopes != 1):
		return cfg, lesson.Usagef("-real needs -key and exactly one of -accounts, -rd and -folder")
	case cfg.Apply && cfg.Revoke:
		return cfg, lesson.Usagef("-apply and -revoke together would create the role and delete it again")
	}
	return cfg, nil
}

func cli(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parse(args, stderr)
	if err == nil && cfg.Real {
		err = runReal(ctx, stdout, cfg, getenv)
	} else if err == nil {
		err = runEmulated(ctx, stdout, cfg.snapshot)
	}
	return lesson.Exit("ecsimage", stderr, err, policy.ErrInvalid, arn.ErrInvalid)
}

// keyARN is -key, which must name a KMS key.
func (cfg config) keyARN() (arn.ARN, error) {
	key, err := arn.Parse(cfg.Key)
	if err != nil {
		return arn.ARN{}, err
	}
	if key.Service != "kms" || key.ResourceType() != "key" || key.ResourceName() == "" {
		return arn.ARN{}, lesson.Usagef("-key %s is not a KMS key ARN acs:kms:<region>:<owner-uid>:key/<key-id>", cfg.Key)
	}
	return key, nil
}

// trust is the one trust scope given: -accounts, -rd or -folder.
func (cfg config) trust() ecsroles.Trusted {
	switch {
	case len(cfg.accounts) > 0:
		return ecsroles.Accounts(cfg.accounts...)
	case cfg.rd != "":
		return ecsroles.ResourceDirectory(cfg.rd)
	}
	return ecsroles.Folder(cfg.folder)
}
