package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
	"github.com/kmsshare/kmsshare/share"
)

// The manifest commands work on an organisation's manifest (package share,
// Manifest) instead of a single-key spec:
//
//	keyshare plan|apply|verify|revoke|inventory -manifest org.json [-prune] [-output text|json] [-region R]
//	keyshare onboard -manifest org.json -account <uid> [-output text|json] [-region R]
//
// They read the Resource Directory, so they run on Alibaba Cloud (or what
// env.realConfig points at) only: an emulated cloud cannot be built from a
// manifest, whose folders and members live in the directory. Exit statuses
// are keyshare's.

// manifestUsage is the help of the manifest commands.
const manifestUsage = `usage: keyshare plan|apply|verify|revoke|inventory -manifest org.json [flags]
       keyshare onboard -manifest org.json -account <uid> [flags]

Works on an organisation's manifest: grants of keys (by ARN) to accounts picked
by Resource Directory folder, the whole directory or explicitly, with exclusions.
  plan       resolve the selectors (with each account's folder) and show every change; changes nothing
  apply      plan, then make the changes: recipients' side, then one write per changed key
             (-prune: also remove kmsshare grants to accounts no longer selected)
  verify     use every key as each selected recipient, waiting while changes propagate
  revoke     remove every grant the manifest makes, as its selectors resolve now
  inventory  who can use each key today, and the drift against the manifest
  onboard    give one account every key the manifest gives it (account vending): cheap, idempotent

Manifest (JSON, version 1; see package share and "keyshare -h"):
` + manifestSketch + `
A single-key spec is accepted too. Manifest commands need Alibaba Cloud credentials
(the Resource Directory is read); there is no simulation of a manifest.

Flags:
`

// manifestSketch is the example manifest of keyshare -h and of the
// manifest commands' -h; TestManifestSketch parses it.
const manifestSketch = `  {"version": 1, "grants": [
     {"keys": ["acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"],
      "recipients": {"folders": [{"folder": "apps/prod", "subfolders": true}],
                     "exclude": {"accounts": ["2222222222222222"]}}},
     {"keys": ["acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"],
      "recipients": {"accounts": ["3333333333333333"]},
      "principal": "role", "name": "app", "actions": ["kms:Decrypt"]}]}`

// onboardSummary is onboard's line in keyshare -h.
const onboardSummary = "give an account that just joined every key an organisation's manifest gives it: keyshare onboard -manifest org.json -account UID"

// isManifestCommand reports whether keyshare was called with a manifest.
func isManifestCommand(name string, args []string) bool {
	if name == "onboard" {
		return true
	}
	for _, a := range args {
		if a == "--" {
			return false
		}
		f := strings.TrimLeft(a, "-")
		if strings.HasPrefix(a, "-") && (f == "manifest" || strings.HasPrefix(f, "manifest=")) {
			return true
		}
	}
	return false
}

// manifestOptions are the manifest commands' flags.
type manifestOptions struct {
	manifest, output, region, account string
	prune, quiet                      bool
	timeout                           time.Duration
}

// runManifest runs a manifest command and returns the exit status.
func runManifest(ctx context.Context, name string, args []string, e env) int {
	var o manifestOptions
	fs := flag.NewFlagSet("keyshare "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), manifestUsage)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nRun \"keyshare -h\" for the manifest and spec formats and the exit statuses.\n")
	}
	fs.StringVar(&o.manifest, "manifest", "", "the JSON manifest file (\"-\": standard input)")
	fs.StringVar(&o.output, "output", "text", "text, or json: the library's own JSON, for programs")
	fs.StringVar(&o.region, "region", "", "the region (default: the region of the manifest's keys)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on standard error")
	fs.BoolVar(&o.prune, "prune", false, "plan, apply: also remove the grants kmsshare made to accounts the manifest no longer selects")
	fs.StringVar(&o.account, "account", "", "onboard: the account that just joined")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "verify: how long to wait for changes to propagate")
	inv := &invocation{env: e}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return finish(e, inv, fmt.Errorf("%w: %v", errUsage, err))
	}
	inv.json = o.output == "json"
	switch {
	case o.output != "text" && o.output != "json":
		return finish(e, inv, fmt.Errorf("%w: -output %q: want text or json", errUsage, o.output))
	case fs.NArg() > 0:
		return finish(e, inv, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args()))
	case o.manifest == "":
		return finish(e, inv, fmt.Errorf("%w: keyshare %s needs -manifest org.json", errUsage, name))
	case name == "onboard" && o.account == "":
		return finish(e, inv, fmt.Errorf("%w: keyshare onboard needs -account <uid>", errUsage))
	case name != "onboard" && o.account != "":
		return finish(e, inv, fmt.Errorf("%w: -account goes with onboard", errUsage))
	case o.prune && name != "plan" && name != "apply":
		return finish(e, inv, fmt.Errorf("%w: -prune goes with plan and apply", errUsage))
	}
	switch name {
	case "plan", "apply", "verify", "revoke", "inventory", "onboard":
	default:
		return finish(e, inv, fmt.Errorf("%w: %s does not take -manifest", errUsage, name))
	}
	return finish(e, inv, manifestCommand(ctx, name, o, inv))
}

func manifestCommand(ctx context.Context, name string, o manifestOptions, inv *invocation) error {
	e := inv.env
	var data []byte
	var err error
	if o.manifest == "-" {
		data, err = io.ReadAll(e.stdin)
	} else {
		data, err = os.ReadFile(o.manifest)
	}
	if err != nil {
		return fmt.Errorf("%w: cannot read the manifest: %v", errUsage, err)
	}
	m, err := share.ParseManifest(data)
	if err != nil {
		return err
	}
	region := o.region
	if region == "" {
		regions := manifestRegions(m)
		if len(regions) != 1 {
			return fmt.Errorf("%w: the manifest's keys are in regions %s; run once per region with -region", errUsage, strings.Join(regions, ", "))
		}
		region = regions[0]
	}
	if r := manifestRegions(m); len(r) > 1 {
		fmt.Fprintf(e.stderr, "keyshare: the manifest has keys in %s; this run covers %s only\n", strings.Join(r, ", "), region)
		m = inRegion(m, region)
		if len(m.Grants) == 0 {
			return fmt.Errorf("%w: the manifest has no key in region %s", errUsage, region)
		}
	}
	if _, have := realcloud.Detect(e.getenv); !have {
		return fmt.Errorf("%w: manifest commands read the Resource Directory and need Alibaba Cloud credentials", realcloud.ErrNoCredentials)
	}
	cfg, source, err := e.realConfig(e.getenv, region)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "keyshare: Alibaba Cloud, region %s, credentials from %s\n", region, source)
	var mu sync.Mutex
	client, err := share.New(cfg, func(opt *share.Options) {
		opt.VerifyTimeout = o.timeout
		if !o.quiet {
			opt.Progress = func(ev share.Event) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintln(e.stderr, progressLine(ev))
			}
		}
	})
	if err != nil {
		return err
	}
	out, text, err := manifestDo(ctx, name, o, client, m)
	if out != nil {
		inv.print(out, text)
	}
	return err
}

// manifestApplied is what apply and revoke print with -output json.
type manifestApplied struct {
	Plan   *share.OrgPlan   `json:"plan"`
	Result *share.OrgResult `json:"result"` // null if the plan could not be applied
}

func manifestDo(ctx context.Context, name string, o manifestOptions, c *share.Client, m *share.Manifest) (any, string, error) {
	opts := share.ManifestOptions{Prune: o.prune}
	switch name {
	case "plan":
		p, err := c.PlanManifest(ctx, m, opts)
		if err != nil {
			return nil, "", err
		}
		return p, p.String(), p.Err()
	case "apply", "revoke":
		var p *share.OrgPlan
		var res *share.OrgResult
		var err error
		if name == "apply" {
			if p, err = c.PlanManifest(ctx, m, opts); err == nil {
				if err = p.Err(); err == nil {
					res, err = c.ApplyManifest(ctx, p)
				}
			}
		} else {
			p, res, err = c.RevokeManifest(ctx, m)
		}
		if p == nil {
			return nil, "", err
		}
		text := p.String()
		if res != nil {
			text += "\n" + res.String()
		}
		return manifestApplied{Plan: p, Result: res}, text, err
	case "verify":
		reps, err := c.VerifyManifest(ctx, m)
		var b strings.Builder
		var failed []error
		for _, r := range reps {
			if r == nil {
				continue
			}
			b.WriteString(r.String())
			if rerr := r.Err(); rerr != nil {
				failed = append(failed, rerr)
			}
		}
		if err == nil && len(failed) > 0 {
			err = failed[0] // the exit status of the first failing key
		}
		return reps, b.String(), err
	case "inventory":
		inv, err := c.InventoryManifest(ctx, m)
		if inv == nil {
			return nil, "", err
		}
		return inv, inv.String(), err
	case "onboard":
		r, err := c.Onboard(ctx, m, o.account)
		if r == nil {
			return nil, "", err
		}
		return r, r.String(), err
	}
	return nil, "", fmt.Errorf("%w: unknown command %s", errUsage, name)
}

// manifestRegions returns the regions of the manifest's keys, sorted.
func manifestRegions(m *share.Manifest) []string {
	var out []string
	for _, g := range m.Grants {
		for _, k := range g.Keys {
			if a, err := arn.Parse(k); err == nil && !slices.Contains(out, a.Region) {
				out = append(out, a.Region)
			}
		}
	}
	slices.Sort(out)
	return out
}

// inRegion returns the manifest restricted to the keys in region (grants
// left without keys are dropped): a share.Client works in one region, so
// a manifest with keys in several is planned once per region.
func inRegion(m *share.Manifest, region string) *share.Manifest {
	out := &share.Manifest{Version: m.Version}
	for _, g := range m.Grants {
		var keys []string
		for _, k := range g.Keys {
			if a, err := arn.Parse(k); err == nil && a.Region == region {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			g.Keys = keys
			out.Grants = append(out.Grants, g)
		}
	}
	return out
}
