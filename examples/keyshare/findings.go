package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/examples/internal/commalist"
	"github.com/kmsshare/kmsshare/findings"
)

// exitFindings is the exit status of findings when a finding nobody
// accepted is at least -fail-on serious.
const exitFindings = 8

// findingsSummary is findings' line in keyshare -h.
const findingsSummary = "who can use which key, and what is risky: keyshare findings -accounts UID,... -regions R,... [-trust-folder fd-...] [-accept file] [-output text|json|sarif|html|dot] [-fail-on severity]"

// errFindings means findings at or above -fail-on were found.
var errFindings = errors.New("findings at or above -fail-on")

// runFindings is keyshare findings. It always acts on Alibaba Cloud
// through env.realConfig (the emulator stands in for it in tests); there is
// no simulation of an organisation to scan.
func runFindings(ctx context.Context, e env, args []string) int {
	err := scanFindings(ctx, e, args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "keyshare: %s\n", message(err))
	switch {
	case errors.Is(err, errFindings):
		return exitFindings
	case errors.Is(err, findings.ErrInvalid):
		return exitUsage
	}
	return exitCode(err) // usage, credentials, or 1 for a failed or partial scan
}

func scanFindings(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("keyshare findings", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	accounts := fs.String("accounts", "", "comma-separated UIDs of the accounts whose keys to scan")
	regions := fs.String("regions", "", "comma-separated regions to scan, e.g. cn-hangzhou,cn-shanghai")
	trust := fs.String("trust-folder", "", "the Resource Directory folder (fd-…) whose members may use the keys; others are reported")
	acceptFile := fs.String("accept", "", `a JSON file of accepted findings: {"accept": [{"code": "...", "key": "...", "principal": "...", "reason": "..."}]}`)
	output := fs.String("output", "text", "text, json, sarif (SARIF 2.1.0 for CI), html (a self-contained page with a drawing) or dot (Graphviz)")
	failOn := fs.String("fail-on", string(findings.SeverityWarning), "exit 8 when a finding nobody accepted is at least this serious: error, security-warning, warning or suggestion")
	concurrency := fs.Int("concurrency", 8, "calls in flight at most")
	quiet := fs.Bool("quiet", false, "no progress on standard error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: keyshare findings -accounts UID,... -regions R,... [-trust-folder fd-...] [-accept file] [-output text|json|sarif|html|dot] [-fail-on severity]\n\n"+
			"Scans every key in KMS instances of the accounts and regions (read-only) and reports who outside the\n"+
			"directory or the trusted folder can use them, half grants, dangling principals, risky actions, key state,\n"+
			"rotation and quota. The credentials must read the Resource Directory and assume\n"+
			"ResourceDirectoryAccountAccessRole in the scanned and recipient accounts.\n"+
			"Exit status: 0 no finding at or above -fail-on, 8 some, 2 bad input, 1 a failure (also a partial scan).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, fs.Args())
	}
	min, err := findings.ParseSeverity(*failOn)
	if err != nil {
		return fmt.Errorf("-fail-on: %w", err)
	}
	write := map[string]func(*findings.Report) error{
		"text":  func(r *findings.Report) error { return r.WriteText(e.stdout) },
		"json":  func(r *findings.Report) error { return r.WriteJSON(e.stdout) },
		"sarif": func(r *findings.Report) error { return r.WriteSARIF(e.stdout) },
		"html":  func(r *findings.Report) error { return r.WriteHTML(e.stdout) },
		"dot":   func(r *findings.Report) error { return r.WriteDOT(e.stdout) },
	}[*output]
	if write == nil {
		return fmt.Errorf("%w: -output %q: want text, json, sarif, html or dot", errUsage, *output)
	}
	target := findings.Target{Accounts: commalist.Split(*accounts), Regions: commalist.Split(*regions), TrustFolder: *trust}
	opts := findings.Options{Concurrency: *concurrency}
	if *acceptFile != "" {
		f, err := os.Open(*acceptFile)
		if err != nil {
			return fmt.Errorf("%w: -accept: %v", errUsage, err)
		}
		opts.Accept, err = findings.ReadAcceptances(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if !*quiet {
		opts.Progress = func(ev findings.Event) {
			if ev.Phase == "directory" || ev.Done == ev.Total {
				fmt.Fprintf(e.stderr, "keyshare: findings: %s %d/%d\n", ev.Phase, ev.Done, ev.Total)
			}
		}
	}
	// The configurations are made first, so missing credentials are a
	// usage error before any call.
	configs := map[string]*openapi.Config{}
	for _, r := range target.Regions {
		cfg, source, err := e.realConfig(e.getenv, r)
		if err != nil {
			return err
		}
		if len(configs) == 0 {
			fmt.Fprintf(e.stderr, "keyshare: Alibaba Cloud, credentials from %s\n", source)
		}
		configs[r] = cfg
	}
	rep, err := findings.Scan(ctx, func(r string) *openapi.Config { return configs[r] }, target, opts)
	var inc *findings.IncompleteError
	if err != nil && !errors.As(err, &inc) {
		return err
	}
	if werr := write(rep); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	if rep.Fails(min) {
		return fmt.Errorf("%w (%s)", errFindings, min)
	}
	return nil
}
