package main

import (
	"cmp"
	"context"
	"fmt"
	"io"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/examples/internal/lesson"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// runReal plans (and with -apply or -revoke, makes) the share role of one
// trust scope on real Alibaba Cloud, in the account of the credentials,
// which must own the key.
func runReal(ctx context.Context, w io.Writer, cfg config, getenv func(string) string) error {
	key, err := cfg.keyARN()
	if err != nil {
		return err
	}
	trust := cfg.trust()
	spec, err := roleSpec(cfg.snapshot, key.AccountID, trust, key)
	if err != nil {
		return err
	}
	sdkConfig, source, err := lesson.RealConfig(getenv, cmp.Or(cfg.Region, key.Region))
	if err != nil {
		return err
	}
	return realWith(ctx, w, cfg, sdkConfig, source, spec, trust, key)
}

// realWith is runReal once the SDK configuration is known.
func realWith(ctx context.Context, w io.Writer, cfg config, sdkConfig *openapi.Config, source string,
	spec policy.RoleSpec, trust ecsroles.Trusted, key arn.ARN) error {
	roles, err := share.New(sdkConfig)
	if err != nil {
		return err
	}
	// Who the credentials are (the STS SDK has no WithContext form of it).
	who, err := sts.NewClient(sdkConfig)
	if err != nil {
		return err
	}
	me, err := who.GetCallerIdentity()
	if err != nil {
		return fmt.Errorf("GetCallerIdentity: %w", err)
	}
	account := tea.StringValue(me.Body.AccountId)
	if account != key.AccountID {
		return fmt.Errorf("the credentials from %s belong to account %s, but the role must live in %s, the key's owner", source, account, key.AccountID)
	}
	p := narrate.New(w)
	p.Printf("W4 on real Alibaba Cloud, account %s, credentials from %s.\n", account, source)
	cfg.ReadOnlyNote(p)
	p.Step("%s for key %s, trusting %s", spec.Name, key.ResourceName(), trust)
	return run(ctx, p, roles, account, spec, cfg.Apply, cfg.Revoke)
}
