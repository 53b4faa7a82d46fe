package main

import (
	"context"
	"io"

	"github.com/kmsshare/kmsshare/examples/internal/lesson"
	"github.com/kmsshare/kmsshare/share"
)

type config struct {
	*lesson.Flags
	recipient string
}

const about = `Workflow W2: account B creates encrypted ECS disks with account A's KMS key.
kmsshare creates B's AliyunECSDiskEncryptDefaultRole first, then names it in
A's key policy; verifies both policies; revokes.

Emulator (default): the whole story on an emulated Alibaba Cloud in memory,
including ECS acting for B (and for an outsider) with the key; nothing to set
up, nothing leaves this machine.

Real Alibaba Cloud (-real): credentials from credentials-go's default chain
(ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, ~/.alibabacloud/credentials,
~/.aliyun/config.json, ...) that can assume the
ResourceDirectoryAccountAccessRole of A and B. Read-only unless -apply or
-revoke is given.

`

func parse(args []string, stderr io.Writer) (config, error) {
	cfg := config{Flags: lesson.NewFlags("ecsdisk", about, stderr)}
	cfg.KeyFlag("the ARN of A's key, acs:kms:<region>:<A-uid>:key/<key-id>")
	cfg.StringVar(&cfg.recipient, "recipient", "", "with -real: the UID of account B")
	cfg.RealOnly("recipient")
	cfg.WriteFlags("create B's role and policy and change A's key policy", "remove B's role from A's key policy")
	err := cfg.Parse(args, "the emulator runs the whole story on its own key", "key", "recipient")
	return cfg, err
}

func cli(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parse(args, stderr)
	if err == nil && cfg.Real {
		err = runReal(ctx, stdout, cfg, getenv)
	} else if err == nil {
		err = runEmulated(ctx, stdout)
	}
	return lesson.Exit("ecsdisk", stderr, err, share.ErrInvalidSpec)
}
