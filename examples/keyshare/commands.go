package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// specCommand is a command that works on a spec.
type specCommand struct {
	name    string
	summary string // one line, for keyshare -h and the command's own -h
	// flags adds the command's own flags.
	flags func(fs *flag.FlagSet, o *options)
	// do runs the command and returns what to print: the value for -output
	// json and the text for -output text.
	do func(ctx context.Context, inv *invocation) (out any, text string, err error)
	// realOnly commands check real Alibaba Cloud and make their own
	// clients: no simulation flags, no client from connect.
	realOnly bool
}

// specCommands returns the spec commands in the order keyshare -h lists
// them.
func specCommands() []specCommand {
	return []specCommand{
		{
			name:    "plan",
			summary: "show what sharing the spec's key would change (-revoke: what revoking would); changes nothing",
			flags: func(fs *flag.FlagSet, o *options) {
				fs.BoolVar(&o.revoke, "revoke", false, "plan the revoke of the spec instead of the share")
				fs.BoolVar(&o.removePolicies, "remove-policies", false, "with -revoke: also remove the policies kmsshare created in the recipient accounts")
			},
			do: doPlan,
		},
		{
			name:    "apply",
			summary: "plan, then make the changes: the recipients' side first, then one write of the key policy",
			do:      doApply,
		},
		{
			name:    "verify",
			summary: "use the key as each recipient, waiting while changes propagate (-revoked: check they are refused)",
			flags: func(fs *flag.FlagSet, o *options) {
				fs.BoolVar(&o.revoked, "revoked", false, "check that the recipients can no longer use the key")
				fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "how long to wait for changes to propagate")
			},
			do: doVerify,
		},
		{
			name:    "revoke",
			summary: "remove the spec's recipients from the key policy (-remove-policies: and their kmsshare policies)",
			flags: func(fs *flag.FlagSet, o *options) {
				fs.BoolVar(&o.removePolicies, "remove-policies", false, "also remove the policies kmsshare created in the recipient accounts (roles stay)")
			},
			do: doRevoke,
		},
		{
			name:    "inventory",
			summary: "list who can use the spec's key today, and where the key policy drifts from the spec",
			do:      doInventory,
		},
		doctorCommand(),
	}
}

// options are the flags.
type options struct {
	spec               string
	output             string
	simulate           bool
	state              string
	lockWait           time.Duration
	region             string
	allowUnknownRegion bool
	allowAnyAccountID  bool
	quiet              bool
	simQuota           int
	simPropagation     time.Duration
	simVisibility      time.Duration
	simThrottle        string
	revoke             bool
	removePolicies     bool
	revoked            bool
	timeout            time.Duration
	simFlags           []string // the simulation's flags given on the command line
}

// errHelp means -h was asked for and answered.
var errHelp = errors.New("help")

// invocation is one run of a spec command.
type invocation struct {
	cmd     specCommand
	env     env
	opts    options
	json    bool
	printed bool // the result was printed, so a failure needs no JSON error object

	spec   *share.Spec
	region string
	sim    *simulation // nil on real Alibaba Cloud
	lock   *stateLock  // the simulation state's lock, held while the command runs
	client *share.Client
	banner string // the first line of text output: real or simulated, and where
}

func newInvocation(cmd specCommand, args []string, e env) (*invocation, error) {
	inv := &invocation{cmd: cmd, env: e}
	name := cmd.name
	o := &inv.opts
	fs := flag.NewFlagSet("keyshare "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: keyshare %s -spec spec.json [flags]\n", name)
		if !cmd.realOnly {
			fmt.Fprintf(fs.Output(), "       keyshare %s -manifest org.json [flags]   (an organisation's manifest: keyshare onboard -h)\n", name)
		}
		fmt.Fprintf(fs.Output(), "\n%s\n\nFlags:\n", cmd.summary)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nRun \"keyshare -h\" for the spec format, simulation and the exit statuses.\n")
	}
	fs.StringVar(&o.spec, "spec", "", "the JSON spec file (\"-\": standard input)")
	fs.StringVar(&o.output, "output", "text", "text, or json: the library's own JSON for programs, with \"simulated\" first and durations in seconds")
	if !cmd.realOnly {
		fs.BoolVar(&o.simulate, "simulate", false, "run on an emulated cloud built from the spec instead of Alibaba Cloud (never chosen for you)")
		fs.StringVar(&o.state, "state", ".keyshare-sim.json", "simulation: the file that keeps the emulated cloud's changes and clock between commands")
		fs.DurationVar(&o.lockWait, "lock-wait", time.Minute, "simulation: how long to wait for another command using the same -state")
	}
	fs.StringVar(&o.region, "region", "", "the region; must be the key's (default: the key's region)")
	fs.BoolVar(&o.allowUnknownRegion, "allow-unknown-region", false, "accept a region keyshare does not know (one newer than keyshare)")
	fs.BoolVar(&o.allowAnyAccountID, "allow-any-account-id", false, "accept account IDs that are not 16 digits")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on standard error")
	if !cmd.realOnly {
		fs.IntVar(&o.simQuota, "sim-quota", 5, "simulation: the access management quota of the emulated KMS instances")
		fs.DurationVar(&o.simPropagation, "sim-propagation", time.Minute, "simulation: how long changes take to reach other accounts (emulated time)")
		fs.DurationVar(&o.simVisibility, "sim-visibility", 10*time.Second, "simulation: how long a new RAM role or policy stays invisible to RAM, STS and key policies (emulated time)")
		fs.StringVar(&o.simThrottle, "sim-throttle", "", "simulation: comma-separated service:Action calls (e.g. ram:CreatePolicy) the emulator always throttles, to rehearse failures")
	}
	if cmd.flags != nil {
		cmd.flags(fs, o)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "state" || f.Name == "lock-wait" || strings.HasPrefix(f.Name, "sim-") {
			o.simFlags = append(o.simFlags, "-"+f.Name)
		}
	})
	switch o.output {
	case "text":
	case "json":
		inv.json = true
	default:
		return inv, fmt.Errorf("%w: -output %q: want text or json", errUsage, o.output)
	}
	switch {
	case fs.NArg() > 0:
		return inv, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case o.spec == "":
		return inv, fmt.Errorf("%w: keyshare %s needs -spec spec.json", errUsage, name)
	case o.removePolicies && name == "plan" && !o.revoke:
		return inv, fmt.Errorf("%w: -remove-policies goes with -revoke", errUsage)
	case o.simQuota < 1 && !cmd.realOnly:
		return inv, fmt.Errorf("%w: -sim-quota must be at least 1", errUsage)
	case o.simPropagation < 0 || o.simVisibility < 0:
		return inv, fmt.Errorf("%w: -sim-propagation and -sim-visibility cannot be negative", errUsage)
	case !o.simulate && len(o.simFlags) > 0:
		return inv, fmt.Errorf("%w: %s only apply to the simulation; add -simulate, or leave them out on Alibaba Cloud",
			errUsage, strings.Join(o.simFlags, ", "))
	}
	return inv, nil
}

// execute reads the spec, connects to the cloud (real or emulated), runs
// the command and prints its result.
func (inv *invocation) execute(ctx context.Context) (err error) {
	data, err := inv.readSpec()
	if err != nil {
		return err
	}
	if inv.spec, err = parseSpec(data); err != nil {
		return err
	}
	if err := inv.checkNames(); err != nil {
		return err
	}
	inv.region = cmp.Or(inv.opts.region, inv.spec.KeyARN().Region)
	if inv.cmd.realOnly {
		out, text, err := inv.cmd.do(ctx, inv)
		if out != nil {
			inv.print(out, text)
		}
		return err
	}
	if err := inv.connect(ctx); err != nil {
		if inv.lock != nil {
			inv.lock.Unlock()
		}
		return err
	}
	if inv.sim != nil {
		defer func() {
			if serr := inv.sim.save(inv.env.now()); serr != nil && err == nil {
				err = fmt.Errorf("the simulation state could not be saved: %w", serr)
			}
			inv.lock.Unlock()
		}()
	}
	out, text, err := inv.cmd.do(ctx, inv)
	if out != nil {
		inv.print(out, text)
	}
	// apply and revoke journal what they changed, or began to change
	// before failing, so that later commands see the same cloud.
	if a, ok := out.(applied); ok && inv.sim != nil && a.attempted {
		inv.sim.record(inv.cmd.name, inv.spec, inv.opts.removePolicies, err)
	}
	return err
}

func (inv *invocation) readSpec() ([]byte, error) {
	var data []byte
	var err error
	if inv.opts.spec == "-" {
		data, err = io.ReadAll(inv.env.stdin)
	} else {
		data, err = os.ReadFile(inv.opts.spec)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read the spec: %v", errUsage, err)
	}
	return data, nil
}

// connect makes the client: for real Alibaba Cloud unless -simulate was
// given, and then only with complete, loadable credentials. It says which
// on standard error (and print says it again on standard output).
func (inv *invocation) connect(ctx context.Context) error {
	e, o := inv.env, inv.opts
	var progressMu sync.Mutex
	clientOpts := func(opt *share.Options) {
		opt.VerifyTimeout = o.timeout
		if !o.quiet {
			opt.Progress = func(ev share.Event) {
				progressMu.Lock()
				defer progressMu.Unlock()
				fmt.Fprintln(e.stderr, progressLine(ev))
			}
		}
	}
	if !o.simulate {
		cfg, source, err := inv.realConfig()
		if errors.Is(err, realcloud.ErrNoCredentials) {
			return fmt.Errorf("%w; or add -simulate to rehearse on an emulated cloud", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "keyshare: Alibaba Cloud, region %s, credentials from %s\n", inv.region, source)
		inv.banner = fmt.Sprintf("Alibaba Cloud (not simulated): region %s, credentials from %s.\n", inv.region, source)
		inv.client, err = share.New(cfg, clientOpts)
		return err
	}
	fmt.Fprintf(e.stderr, "keyshare: SIMULATION (-simulate): an emulated cloud built from the spec; nothing is read from or written to Alibaba Cloud.\n")
	fmt.Fprintf(e.stderr, "keyshare: SIMULATION: changes and the emulated clock are kept in %s.\n", o.state)
	if source, ok := realcloud.Detect(e.getenv); ok {
		fmt.Fprintf(e.stderr, "keyshare: SIMULATION: credentials from %s are ignored.\n", source)
	}
	inv.banner = fmt.Sprintf("SIMULATED (-simulate): emulated cloud, state %s; nothing was read from or written to Alibaba Cloud.\n", o.state)
	lock, err := lockState(ctx, o.state, o.lockWait)
	if err != nil {
		return err
	}
	sim, err := newSimulation(ctx, simSettings{
		state: o.state, quota: o.simQuota, propagation: o.simPropagation, visibility: o.simVisibility, throttle: o.simThrottle, now: e.now(),
	}, inv.spec)
	if err != nil {
		lock.Unlock()
		return err
	}
	inv.sim, inv.lock = sim, lock
	inv.client, err = share.New(sim.config(inv.region), clientOpts, sim.clockOption)
	return err
}

// realConfig is the SDK configuration for real Alibaba Cloud in the
// invocation's region, and where its credentials come from; KEYSHARE_ENDPOINT
// sends every call to one endpoint instead (tests, private gateways), and
// says so.
func (inv *invocation) realConfig() (*openapi.Config, string, error) {
	cfg, source, err := inv.env.realConfig(inv.env.getenv, inv.region)
	if err != nil {
		return nil, "", err
	}
	if ep := inv.env.getenv(realcloud.EndpointVariable); ep != "" {
		if err := realcloud.WithEndpoint(cfg, ep); err != nil {
			return nil, "", fmt.Errorf("%w: %v", errUsage, err)
		}
		source += ", endpoint " + ep + " (" + realcloud.EndpointVariable + ")"
	}
	return cfg, source, nil
}

// progressLine renders a progress event for standard error.
func progressLine(ev share.Event) string {
	var b strings.Builder
	b.WriteString("keyshare: ")
	b.WriteString(ev.Phase)
	if ev.Account != "" {
		b.WriteString(" " + ev.Account)
	}
	b.WriteString(": " + ev.Message)
	if ev.Err != nil && ev.Outcome == "" {
		b.WriteString(": " + ev.Err.Error())
	}
	return b.String()
}

// print writes the result: JSON with "simulated" first, or text after a
// line that says whether this was real Alibaba Cloud or the simulation.
func (inv *invocation) print(out any, text string) {
	inv.printed = true
	if inv.json {
		writeJSON(inv.env.stdout, out, inv.opts.simulate)
		return
	}
	fmt.Fprint(inv.env.stdout, inv.banner+text)
}

func doPlan(ctx context.Context, inv *invocation) (any, string, error) {
	var plan *share.Plan
	var err error
	if inv.opts.revoke {
		plan, err = inv.client.PlanRevoke(ctx, inv.spec, share.RevokeOptions{RemoveRecipientPolicies: inv.opts.removePolicies})
	} else {
		plan, err = inv.client.Plan(ctx, inv.spec)
	}
	if err != nil {
		return nil, "", err
	}
	return plan, plan.String(), plan.Err()
}

// applied is what apply and revoke print with -output json.
type applied struct {
	Plan   *share.Plan   `json:"plan"`
	Result *share.Result `json:"result"` // null if the plan could not be applied or had nothing to do
	// Nothing is set when the plan had nothing to change: for revoke, none
	// of the recipients was in the key policy.
	Nothing string `json:"nothing,omitempty"`
	// attempted: Apply was called, so the cloud may have changed.
	attempted bool
}

func doApply(ctx context.Context, inv *invocation) (any, string, error) {
	plan, err := inv.client.Plan(ctx, inv.spec)
	if err != nil {
		return nil, "", err
	}
	return apply(ctx, inv, plan)
}

func doRevoke(ctx context.Context, inv *invocation) (any, string, error) {
	plan, err := inv.client.PlanRevoke(ctx, inv.spec, share.RevokeOptions{RemoveRecipientPolicies: inv.opts.removePolicies})
	if err != nil {
		return nil, "", err
	}
	return apply(ctx, inv, plan)
}

func apply(ctx context.Context, inv *invocation, plan *share.Plan) (any, string, error) {
	if err := plan.Err(); err != nil {
		return applied{Plan: plan}, plan.String(), err
	}
	if inv.cmd.name == "revoke" && !plan.Changes() {
		// Apply would report each recipient "removed": true, since none is
		// there, but misleading.
		nothing := "Nothing to remove: none of the spec's recipients is in the key policy"
		if inv.opts.removePolicies {
			nothing += ", and no kmsshare policies were found in their accounts"
		}
		nothing += "."
		return applied{Plan: plan, Nothing: nothing}, plan.String() + "\n" + nothing + "\n", nil
	}
	res, err := inv.client.Apply(ctx, plan)
	text := plan.String()
	if res != nil {
		text += "\n" + res.String()
	}
	return applied{Plan: plan, Result: res, attempted: plan.Changes()}, text, err
}

func doVerify(ctx context.Context, inv *invocation) (any, string, error) {
	var rep *share.VerifyReport
	var err error
	if inv.opts.revoked {
		rep, err = inv.client.VerifyRevoked(ctx, inv.spec)
	} else {
		rep, err = inv.client.Verify(ctx, inv.spec)
	}
	if err != nil {
		if rep != nil {
			return rep, rep.String(), err
		}
		return nil, "", err
	}
	return rep, rep.String(), rep.Err()
}

func doInventory(ctx context.Context, inv *invocation) (any, string, error) {
	in, err := inv.client.Inventory(ctx, inv.spec.Key, inv.spec)
	if err != nil {
		return nil, "", err
	}
	return in, in.String(), nil
}

// lintResult is one file's lint, as -output json prints it.
type lintResult struct {
	File     string           `json:"file"`
	Findings []policy.Finding `json:"findings"`
	Error    string           `json:"error,omitempty"` // the file could not be read or parsed
}

// lintSummary is lint's line in keyshare -h.
const lintSummary = "check policy documents: keyshare lint -kind key|permission|trust [-owner UID] file.json..."

// lint checks policy files. Unreadable or unparsable files make it a usage
// error (2); error findings make it exit 7.
func lint(e env, args []string) error {
	fs := flag.NewFlagSet("keyshare lint", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	kind := fs.String("kind", "", "the kind of the documents: key (a KMS key policy), permission (a RAM policy) or trust (a role's trust policy)")
	owner := fs.String("owner", "", "the UID of the account owning the key (key) or the role (trust); enables the cross-account and lock-out checks")
	output := fs.String("output", "text", "text, or json: the findings as the library's JSON, for programs")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: keyshare lint -kind key|permission|trust [-owner UID] [-output text|json] file.json...\n\n"+
			"Checks policy documents for what the cloud refuses and what is legal but wrong or risky.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	kinds := map[string]policy.Kind{"key": policy.KeyPolicy, "permission": policy.Permission, "trust": policy.Trust}
	k, ok := kinds[*kind]
	switch {
	case !ok:
		return fmt.Errorf("%w: -kind %q: want key, permission or trust", errUsage, *kind)
	case *output != "text" && *output != "json":
		return fmt.Errorf("%w: -output %q: want text or json", errUsage, *output)
	case fs.NArg() == 0:
		return fmt.Errorf("%w: no policy files to lint", errUsage)
	case *owner != "":
		if err := arn.ValidateAccountID(*owner); err != nil {
			return fmt.Errorf("%w: -owner: %v", errUsage, err)
		}
	}
	var results []lintResult
	var bad, failed []string
	for _, file := range fs.Args() {
		r := lintResult{File: file, Findings: []policy.Finding{}}
		data, err := os.ReadFile(file)
		var doc *policy.Document
		if err == nil {
			doc, err = policy.Parse(data)
		}
		if err != nil {
			r.Error = err.Error()
			bad = append(bad, file)
		} else {
			if found := policy.Lint(doc, k, policy.LintOptions{Owner: *owner}); found != nil {
				r.Findings = found
			}
			for _, f := range r.Findings {
				if f.Severity == policy.SeverityError {
					failed = append(failed, file)
					break
				}
			}
		}
		results = append(results, r)
	}
	if *output == "json" {
		writeJSON(e.stdout, results, false)
	} else {
		for _, r := range results {
			switch {
			case r.Error != "":
				fmt.Fprintf(e.stdout, "%s: %s\n", r.File, r.Error)
			case len(r.Findings) == 0:
				fmt.Fprintf(e.stdout, "%s: no findings\n", r.File)
			}
			for _, f := range r.Findings {
				fmt.Fprintf(e.stdout, "%s: %s\n", r.File, f)
			}
		}
	}
	switch {
	case len(bad) > 0:
		return fmt.Errorf("%w: cannot lint %s", policy.ErrInvalid, strings.Join(bad, ", "))
	case len(failed) > 0:
		return fmt.Errorf("%w in %s", errLint, strings.Join(failed, ", "))
	}
	return nil
}
