// Command keyshare shares Alibaba Cloud KMS keys across accounts from a JSON
// spec, for pipelines written in any language: plan, apply, verify, revoke
// and inventory a share, and lint policy documents. Results go to standard
// output as text or as the library's own JSON (-output json); progress goes
// to standard error; the exit status tells failure classes apart.
//
// Usage:
//
//	keyshare plan|apply|verify|revoke|inventory -spec spec.json [-output text|json] [-simulate] [-region R]
//	keyshare plan|apply|verify|revoke|inventory -manifest org.json [-prune] [-output text|json] [-region R]
//	keyshare onboard -manifest org.json -account UID [-output text|json] [-region R]
//	keyshare doctor -spec spec.json [-output text|json]
//	keyshare lint -kind key|permission|trust [-owner UID] [-output text|json] file.json...
//	keyshare findings -accounts UID,... -regions R,... [-output text|json|sarif|html|dot] [-fail-on severity]
//
// Without -simulate it acts on real Alibaba Cloud, and only with complete
// credentials for credentials-go's default chain: missing or half-set ones
// are a usage error (exit 2), never a reason to simulate. With -simulate it
// runs on an emulated cloud built from the spec, says so on standard error,
// standard output and in its JSON ("simulated": true), and journals what
// apply and revoke did (failed and partial runs too) and the emulated clock
// in a locked state file (-state, default .keyshare-sim.json), so that the
// next command continues where the last one ended. doctor checks real
// Alibaba Cloud's readiness without changing anything.
//
// Run keyshare -h for the commands, the spec format and the exit statuses.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv, now: time.Now, realConfig: realcloud.Config,
	})
	stop()
	os.Exit(code)
}

// env is everything keyshare takes from its surroundings.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	// realConfig returns the SDK configuration for real Alibaba Cloud in a
	// region and where its credentials come from (realcloud.Config: the
	// default chain; tests point it at the emulator over HTTP instead).
	realConfig func(getenv func(string) string, region string) (*openapi.Config, string, error)
}

// Exit statuses.
const (
	exitOK            = 0
	exitFailure       = 1
	exitUsage         = 2
	exitPreflight     = 3
	exitIncomplete    = 4
	exitDenied        = 5
	exitNotPropagated = 6
	exitLint          = 7
)

// usage is keyshare -h: usageHead, a line per command (from specCommands
// and lintSummary), usageTail.
func usage() string {
	var b strings.Builder
	b.WriteString(usageHead)
	line := func(name, summary string) { fmt.Fprintf(&b, "  %-9s  %s\n", name, summary) }
	for _, c := range specCommands() {
		line(c.name, c.summary)
	}
	line("onboard", onboardSummary)
	line("lint", lintSummary)
	line("findings", findingsSummary)
	b.WriteString(usageTail)
	return b.String()
}

const usageHead = `usage: keyshare <command> [flags] [files]

Shares Alibaba Cloud KMS keys across accounts from a JSON spec, for pipelines.
Results go to standard output (-output text or json), progress to standard error.

Commands:
`

const usageTail = `
Run "keyshare <command> -h" for the flags of a command; flags go before files.

Spec (JSON, see package share; "principal" is rd-access-role (default), role, ecs-disk-role or user):
  {"key": "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7",
   "recipients": [{"account": "2222222222222222"},
                  {"account": "3333333333333333", "principal": "ecs-disk-role"},
                  {"account": "4444444444444444", "principal": "role", "name": "app", "actions": ["kms:Decrypt"]}]}
  A recipient without "actions" gets least privilege: kms:DescribeKey, kms:Encrypt,
  kms:Decrypt, kms:GenerateDataKey (the ECS disk role: those and kms:TagResource,
  which ECS needs). Wider sets, up to the 11 key-user actions, only when named.
  Regions must be Alibaba Cloud's and account IDs 16 digits; -allow-unknown-region
  and -allow-any-account-id accept others. -region, if given, must be the key's.

Organisations (manifest, see package share): plan, apply, verify, revoke and
inventory take -manifest org.json instead of -spec, and onboard needs one:
  keyshare plan|apply|verify|revoke|inventory -manifest org.json [-prune] [-output text|json] [-region R]
  keyshare onboard -manifest org.json -account UID [-output text|json] [-region R]
  A manifest grants keys (ARNs; several keys and instances) to the accounts a
  selector picks: "accounts", Resource Directory "folders" (an ID fd-... or a
  path of names like "apps/prod"; "subfolders": true takes those below too),
  or "directory": true (every member), minus "exclude" (accounts, folders);
  "principal", "name" and "actions" mean what they mean in a spec:
` + manifestSketch + `
  -prune (plan, apply) also removes kmsshare's grants to accounts the manifest
  no longer selects. A spec file is a manifest too. Manifest commands read the
  Resource Directory, so they need Alibaba Cloud credentials: no -simulate.
  "keyshare onboard -h" lists their flags.

Real Alibaba Cloud or simulation, never chosen for you:
  Without -simulate keyshare acts on real Alibaba Cloud in the key's region:
  apply and revoke write there. It needs complete credentials for
  credentials-go's default chain (ALIBABA_CLOUD_ACCESS_KEY_ID and
  ALIBABA_CLOUD_ACCESS_KEY_SECRET, ~/.alibabacloud/credentials,
  ~/.aliyun/config.json, an OIDC role, or the RAM role of an ECS instance named
  in ALIBABA_CLOUD_ECS_METADATA) that can assume the
  ResourceDirectoryAccountAccessRole of the key owner and of each recipient;
  missing or half-set credentials exit 2, naming what is missing. "keyshare
  doctor" checks all this without changing anything. KEYSHARE_ENDPOINT=URL
  sends every call to one endpoint instead (tests against an emulator,
  private gateways).
  With -simulate keyshare runs on an emulated cloud built from the spec (the
  key's owner with a KMS instance holding the key, each recipient a member of
  one Resource Directory). The -state file (default .keyshare-sim.json)
  journals what apply and revoke changed, failed and partial runs included,
  and the emulated clock, so each command continues where the last ended;
  delete it to start over. A lock (the state file + ".lock") makes a second
  command on the same state wait (-lock-wait), then exit 2. As on the real
  cloud, changes take time to reach other accounts (-sim-propagation, default
  1m) and new RAM roles and policies stay invisible for a while
  (-sim-visibility, default 10s); waiting takes emulated time, not real time.
  Text output says which on its first line; JSON output has "simulated": true
  or false, and durations in seconds ("elapsedSeconds").

Exit status:
  0  success
  1  unexpected failure: an API call failed, the network, a bug
  2  usage: bad flags; an unreadable or invalid spec, policy or simulation state file; missing or incomplete credentials; the state in use
  3  preflight failed: the key or a recipient is not in a state that allows the change; nothing was changed (doctor: a check failed)
  4  apply incomplete: some changes were made and some not; running apply again is safe
  5  verification failed: a recipient is denied or its network path refused (or, with -revoked, still granted)
  6  not yet propagated: both policies allow it, but the cloud did not agree before -timeout
  7  lint found errors
  8  findings found a finding nobody accepted at or above -fail-on (default warning)
`

// errUsage marks bad command lines.
var errUsage = errors.New("usage")

// errLint means that lint found error findings.
var errLint = errors.New("lint found errors")

func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage())
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, usage())
		return exitOK
	case "lint":
		return finish(e, nil, lint(e, rest))
	case "findings":
		return runFindings(ctx, e, rest)
	}
	if isManifestCommand(name, rest) {
		return runManifest(ctx, name, rest, e) // manifest.go
	}
	cmds := specCommands()
	i := slices.IndexFunc(cmds, func(c specCommand) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(e.stderr, "keyshare: unknown command %q\n\n%s", name, usage())
		return exitUsage
	}
	inv, err := newInvocation(cmds[i], rest, e)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		return finish(e, inv, err)
	}
	return finish(e, inv, inv.execute(ctx))
}

// finish reports err, if any, and returns the exit status for it.
func finish(e env, inv *invocation, err error) int {
	code := exitCode(err)
	if err == nil {
		return code
	}
	fmt.Fprintf(e.stderr, "keyshare: %s\n", message(err))
	if inv != nil && inv.json && !inv.printed {
		writeJSON(e.stdout, errorOutput(err, code), inv.opts.simulate)
	}
	return code
}

// exitCode maps an error to an exit status by its class, never by its
// text.
func exitCode(err error) int {
	var ve *share.VerifyError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, share.ErrPreflight):
		return exitPreflight
	case errors.Is(err, share.ErrIncomplete):
		return exitIncomplete
	case errors.As(err, &ve):
		switch {
		case errors.Is(err, share.ErrDenied): // any refusal waiting will not change wins
			return exitDenied
		case errors.Is(err, share.OutcomeNotYetPropagated):
			return exitNotPropagated
		}
		return exitFailure
	case errors.Is(err, errLint):
		return exitLint
	case errors.Is(err, errNotReady):
		return exitPreflight
	case errors.Is(err, errUsage), errors.Is(err, share.ErrInvalidSpec), errors.Is(err, policy.ErrInvalid),
		errors.Is(err, realcloud.ErrNoCredentials), errors.Is(err, realcloud.ErrIncompleteCredentials):
		return exitUsage
	}
	return exitFailure
}

// errorOutput is what -output json prints when a command fails before it
// has a result to print.
func errorOutput(err error, code int) any {
	type problem struct {
		Field  string `json:"field"`
		Value  string `json:"value,omitempty"`
		Reason string `json:"reason"`
	}
	out := struct {
		Error    string    `json:"error"`
		ExitCode int       `json:"exitCode"`
		Problems []problem `json:"problems,omitempty"`
	}{Error: message(err), ExitCode: code}
	var se *share.SpecError
	if errors.As(err, &se) {
		for _, p := range se.Problems {
			out.Problems = append(out.Problems, problem{Field: p.Field, Value: p.Value, Reason: p.Reason})
		}
	}
	return out
}
