package main

import (
	"context"
	"fmt"
	"io"
	"os"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/examples/internal/lesson"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
)

// runReal encrypts or decrypts one file on real Alibaba Cloud.
func runReal(ctx context.Context, w io.Writer, cfg config, getenv func(string) string) error {
	keys := []arn.ARN{}
	k, err := keyARN("key", cfg.Key)
	if err != nil {
		return err
	}
	keys = append(keys, k)
	if cfg.drKey != "" {
		dr, err := keyARN("dr-key", cfg.drKey)
		if err != nil {
			return err
		}
		keys = append(keys, dr)
	}
	if _, err := os.Stat(cfg.out); err == nil && !cfg.force {
		return fmt.Errorf("%w: -out %s exists (use -force to overwrite)", lesson.ErrUsage, cfg.out)
	}
	sdk := func(region string) (*openapi.Config, error) {
		c, _, err := lesson.RealConfig(getenv, region)
		return c, err
	}
	// Without credentials there is no source, and lesson.RealConfig fails
	// with ErrNoCredentials before anything is printed.
	return realWith(ctx, w, cfg, keys, sdk, lesson.CredentialSource(getenv))
}

// realWith is runReal once it knows how to configure the SDK and where the
// credentials come from.
func realWith(ctx context.Context, w io.Writer, cfg config, keys []arn.ARN, sdk func(region string) (*openapi.Config, error), source string) error {
	mks, err := masterKeys(sdk, keys...)
	if err != nil {
		return err
	}
	p := narrate.New(w)
	p.Printf("W5 on real Alibaba Cloud, credentials from %s.\n", source)
	if cfg.decrypt {
		n, used, err := decryptFile(ctx, mks, cfg.context, cfg.in, cfg.out)
		if err != nil {
			return err
		}
		p.Line("ok", "decrypted %s to %s: %d bytes, with key %s", cfg.in, cfg.out, n, used)
		return nil
	}
	n, err := encryptFile(ctx, mks, cfg.segment, cfg.context, cfg.in, cfg.out)
	if err != nil {
		return err
	}
	p.Line("ok", "encrypted %s to %s (%d bytes) under %d master key(s): %s", cfg.in, cfg.out, n, len(mks), keyList(keys))
	return nil
}
