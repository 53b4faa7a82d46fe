package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/examples/internal/lesson"
)

// config is what the flags say.
type config struct {
	*lesson.Flags
	decrypt bool
	force   bool
	drKey   string
	in, out string
	size    int64
	segment int
	context map[string]string
}

const about = `Workflow W5: envelope encryption with KMS GenerateDataKey. A file is
encrypted locally in a streaming, authenticated format under a data key
that KMS generates under a master key (here one shared by another account,
named by ARN) and encrypts under a second key for disaster recovery.

Emulator (default): the whole story on an emulated Alibaba Cloud in memory;
nothing to set up, nothing leaves this machine.

Real Alibaba Cloud (-real): encrypts -in to -out (or decrypts, with
-decrypt) with credentials from credentials-go's default chain
(ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, ~/.alibabacloud/credentials,
~/.aliyun/config.json, ...). It only calls GenerateDataKey, Encrypt and
Decrypt; it changes nothing in the cloud.

`

func parse(args []string, stderr io.Writer) (config, error) {
	cfg := config{Flags: lesson.NewFlags("envelope", about, stderr), context: map[string]string{}}
	cfg.BoolVar(&cfg.decrypt, "decrypt", false, "with -real: decrypt -in to -out instead of encrypting")
	cfg.KeyFlag("the master key's ARN, acs:kms:<region>:<owner-uid>:key/<key-id> (another account's key works, by ARN)")
	cfg.StringVar(&cfg.drKey, "dr-key", "", "with -real: a second master key's ARN, e.g. a copy in another region, that can also decrypt")
	cfg.StringVar(&cfg.in, "in", "", "the file to encrypt (emulator: default a generated sample)")
	cfg.StringVar(&cfg.out, "out", "", "where to write the result (emulator: default a temporary directory)")
	cfg.BoolVar(&cfg.force, "force", false, "with -real: overwrite -out if it exists")
	cfg.Int64Var(&cfg.size, "size", 1<<20, "emulator: size of the generated sample file in bytes")
	cfg.IntVar(&cfg.segment, "segment", 64<<10, "segment size in bytes (64 B to 16 MiB)")
	cfg.Func("context", "encryption context as key=value pairs separated by commas (bound to the data key and every segment)", func(s string) error {
		for _, kv := range strings.Split(s, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || k == "" {
				return fmt.Errorf("want key=value, got %q", kv)
			}
			cfg.context[k] = v
		}
		return nil
	})
	cfg.RealOnly("dr-key", "decrypt", "force")
	if err := cfg.Parse(args, "the emulator uses its own keys", "key", "in", "out"); err != nil {
		return cfg, err
	}
	if cfg.size < 0 {
		return cfg, lesson.Usagef("-size must not be negative")
	}
	if len(cfg.context) == 0 {
		cfg.context = map[string]string{"purpose": "backup"}
	}
	return cfg, nil
}

func cli(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parse(args, stderr)
	if err == nil && cfg.Real {
		err = runReal(ctx, stdout, cfg, getenv)
	} else if err == nil {
		err = runEmulated(ctx, stdout, cfg)
	}
	return report(stderr, err)
}

// report prints err, if any, with one "envelope:" prefix (the envelope
// package's own errors already start with it), and returns the exit
// status: missing or half-configured credentials are the user's to fix.
func report(stderr io.Writer, err error) int {
	return lesson.Exit("envelope", stderr, err, lesson.ErrNoCredentials, lesson.ErrIncompleteCredentials)
}

// keyARN parses a master key ARN from a flag.
func keyARN(flagName, s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return arn.ARN{}, fmt.Errorf("%w: -%s: %v", lesson.ErrUsage, flagName, err)
	}
	if a.Service != "kms" || a.ResourceType() != "key" || a.ResourceName() == "" {
		return arn.ARN{}, fmt.Errorf("%w: -%s %s is not a KMS key ARN acs:kms:<region>:<owner-uid>:key/<key-id>", lesson.ErrUsage, flagName, s)
	}
	return a, nil
}
