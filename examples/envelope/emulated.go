package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// runEmulated tells the W5 story on an emulated Landing Zone.
func runEmulated(ctx context.Context, w io.Writer, cfg config) error {
	lz, err := sim.NewLandingZone(sim.Options{Clock: sim.ManualClock(), Seed: 5, Members: []string{"app-1", "app-2"}})
	if err != nil {
		return err
	}
	app1, app2 := lz.Members[0], lz.Members[1]
	drKey, err := lz.Security.NewKMSInstance("cn-shanghai", fakecloud.InstanceOptions{Quota: 10}).
		NewKey(fakecloud.KeyOptions{Description: "disaster-recovery copy"})
	if err != nil {
		return err
	}
	main, dr := arn.MustParse(lz.Key.ARN), arn.MustParse(drKey.ARN)

	p := narrate.New(w)
	p.Printf("W5: an application account encrypts a file with a data key from KMS GenerateDataKey,\n")
	p.Printf("under a key another account shares with it, and a disaster-recovery copy of that key.\n")
	p.Printf("Emulated Alibaba Cloud: nothing leaves this machine.\n\n")
	p.Printf("Accounts:\n")
	p.Printf("  %-9s %s  owns key %s (cn-hangzhou) and its copy %s (cn-shanghai)\n", lz.Security.Name, lz.Security.ID, main.ResourceName(), dr.ResourceName())
	p.Printf("  %-9s %s  application account that will use the keys\n", app1.Name, app1.ID)
	p.Printf("  %-9s %s  application account without a grant\n", app2.Name, app2.ID)

	p.Step("The Security account shares both keys with %s (kmsshare: plan and apply)", app1.Name)
	// No actions named: the library's least-privilege default
	// (share.DefaultActions), exactly what envelope encryption needs.
	for _, k := range []arn.ARN{main, dr} {
		c, err := share.New(lz.Cloud.Config(lz.Pipeline.Credentials(), k.Region), lz.ShareOptions)
		if err != nil {
			return err
		}
		spec := &share.Spec{Key: k.String(), Recipients: []share.Recipient{{Account: app1.ID}}}
		if _, err := c.Share(ctx, spec); err != nil {
			return err
		}
		p.Line("done", "key %s (%s): %s's ResourceDirectoryAccountAccessRole may %s", k.ResourceName(), k.Region, app1.Name, "DescribeKey, GenerateDataKey, Encrypt, Decrypt")
	}

	// The files.
	dir, err := os.MkdirTemp("", "kmsshare-envelope")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	in := cfg.in
	if in == "" {
		if in, err = sampleFile(dir, cfg.size); err != nil {
			return err
		}
	}
	out := cfg.out
	if out == "" {
		out = filepath.Join(dir, filepath.Base(in)+".kmse")
	}
	// The file is only ever streamed: its digest stands in for its
	// contents when the decrypted copy is compared with it.
	plainSize, plainSum, err := digest(in)
	if err != nil {
		return err
	}

	as := func(a *fakecloud.Account) (func(region string) (*openapi.Config, error), error) {
		creds, err := assumeAccessRole(ctx, lz, a)
		if err != nil {
			return nil, err
		}
		return func(region string) (*openapi.Config, error) { return lz.Cloud.Config(creds, region), nil }, nil
	}
	app1SDK, err := as(app1)
	if err != nil {
		return err
	}
	both, err := masterKeys(app1SDK, main, dr)
	if err != nil {
		return err
	}
	calls := func(action string) int {
		return len(lz.Cloud.Log().Entries(fakecloud.Match{Action: action, CallerAccount: app1.ID, Status: 200}))
	}

	p.Step("%s encrypts %s in streaming mode, under the shared key by ARN and its copy", app1.Name, filepath.Base(in))
	size, err := encryptFile(ctx, both, cfg.segment, cfg.context, in, out)
	if err != nil {
		return err
	}
	p.Line("ok", "%s: %d bytes of plaintext, %d bytes encrypted in segments of %d bytes, encryption context %s",
		filepath.Base(out), plainSize, size, cfg.segment, contextText(cfg.context))
	p.Line("ok", "KMS calls: %d GenerateDataKey (key %s), %d Encrypt (the same data key under %s); the file itself never left the machine",
		calls("GenerateDataKey"), main.ResourceName(), calls("Encrypt"), dr.ResourceName())

	back := filepath.Join(dir, "restored")
	p.Step("%s decrypts it, streaming", app1.Name)
	if err := restore(ctx, p, both, cfg.context, out, back, plainSum); err != nil {
		return err
	}

	p.Step("cn-hangzhou is unavailable: %s decrypts with the copy in cn-shanghai alone", app1.Name)
	if err := restore(ctx, p, both[1:], cfg.context, out, back, plainSum); err != nil {
		return err
	}

	p.Step("One byte of the encrypted file is changed")
	tampered := filepath.Join(dir, "tampered.kmse")
	if err := flipByte(out, tampered, size/2); err != nil {
		return err
	}
	_, _, err = decryptFile(ctx, both, cfg.context, tampered, back)
	switch {
	case errors.Is(err, envelope.ErrNotAuthentic):
		p.Line("refused", "%v; no plaintext of the damaged segment was released", err)
	case err == nil:
		return fmt.Errorf("a tampered file decrypted")
	default:
		return err
	}

	p.Step("%s, which was not granted the key, tries to decrypt the file", app2.Name)
	app2SDK, err := as(app2)
	if err != nil {
		return err
	}
	theirs, err := masterKeys(app2SDK, main)
	if err != nil {
		return err
	}
	_, _, err = decryptFile(ctx, theirs, cfg.context, out, back)
	switch {
	case errors.Is(err, envelope.ErrAccessDenied):
		p.Line("refused", "KMS refuses to decrypt the data key for %s: %s", app2.Name, narrate.Refusal("kms", "Decrypt", err))
	case err == nil:
		return fmt.Errorf("%s decrypted the file without a grant", app2.Name)
	default:
		return err
	}
	p.Printf("\nDone.\n")
	return nil
}
