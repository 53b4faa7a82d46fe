// Package lesson is the plumbing the workflow examples share, so that each
// example's main.go holds only its story: the flag set with its usage text
// and the flags that only make sense on real Alibaba Cloud, the real-cloud
// client, the closing line, and the exit status.
package lesson

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/examples/internal/commalist"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
	"github.com/kmsshare/kmsshare/share"
)

// ErrUsage marks bad command lines and bad identifiers: exit status 2.
var ErrUsage = errors.New("usage")

// Usagef returns an error that matches ErrUsage.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// CLI is an example's command line: its arguments, output streams and
// environment. Tests call it as main does.
type CLI func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int

// Main runs cli with the process's arguments, stopping on an interrupt,
// and exits with its status.
func Main(cli CLI) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit prints err, if any, prefixed once by the example's name, and
// returns the exit status: 0 without an error or for -h, 2 for ErrUsage and
// the given usage errors (bad identifiers, missing credentials), 1 for
// anything else.
func Exit(name string, stderr io.Writer, err error, usage ...error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, name+":", strings.TrimPrefix(err.Error(), name+": "))
	for _, u := range append(usage, ErrUsage) {
		if errors.Is(err, u) {
			return 2
		}
	}
	return 1
}

// Flags is an example's flag set: -real, the flags that only make sense
// with it (-key, -region, -apply, -revoke and the example's own), and the
// emulator's flags.
type Flags struct {
	*flag.FlagSet
	Real          bool
	Key, Region   string
	Apply, Revoke bool

	realOnly []string // in the order defined, for the error message
}

// NewFlags returns the flag set of the example name, whose -h prints about
// (the text between the usage line and the list of flags) and -real.
func NewFlags(name, about string, stderr io.Writer) *Flags {
	f := &Flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.SetOutput(stderr)
	f.Usage = func() {
		fmt.Fprintf(f.Output(), "usage: %s [flags]\n\n%s\n\nFlags:\n", name, strings.TrimRight(about, "\n"))
		f.PrintDefaults()
	}
	f.BoolVar(&f.Real, "real", false, "use real Alibaba Cloud instead of the emulator")
	return f
}

// RealOnly marks flags already defined as meaningful only with -real.
func (f *Flags) RealOnly(names ...string) { f.realOnly = append(f.realOnly, names...) }

// KeyFlag defines -key (with -real) with the given help.
func (f *Flags) KeyFlag(help string) {
	f.StringVar(&f.Key, "key", "", "with -real: "+help)
	f.RealOnly("key")
}

// ListFlag defines a real-only comma-separated list flag (commalist.Split)
// into *list.
func (f *Flags) ListFlag(list *[]string, name, help string) {
	f.Func(name, "with -real: "+help, func(s string) error {
		*list = commalist.Split(s)
		return nil
	})
	f.RealOnly(name)
}

// WriteFlags defines -region, and -apply and -revoke with the given help:
// what each writes in the real cloud.
func (f *Flags) WriteFlags(apply, revoke string) {
	f.StringVar(&f.Region, "region", "", "with -real: the region of the clients (default: the key's region)")
	f.BoolVar(&f.Apply, "apply", false, "with -real: "+apply)
	f.BoolVar(&f.Revoke, "revoke", false, "with -real: "+revoke)
	f.RealOnly("region", "apply", "revoke")
}

// Parse parses args. Without -real, no real-only flag may be given
// (emulator says what the emulator does instead); with -real, every flag
// of needs must be.
func (f *Flags) Parse(args []string, emulator string, needs ...string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return Usagef("%v", err)
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var missing []string
	for _, n := range needs {
		if !set[n] {
			missing = append(missing, "-"+n)
		}
	}
	switch {
	case f.NArg() > 0:
		return Usagef("unexpected arguments %q", f.Args())
	case !f.Real && f.anySet(set):
		return Usagef("%s are for -real; %s", and(dashed(f.realOnly)), emulator)
	case f.Real && len(missing) > 0:
		return Usagef("-real needs %s", and(dashed(needs)))
	}
	return nil
}

func (f *Flags) anySet(set map[string]bool) bool {
	for _, n := range f.realOnly {
		if set[n] {
			return true
		}
	}
	return false
}

func dashed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "-" + n
	}
	return out
}

// and joins "a", "a and b", "a, b and c".
func and(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// RealClient validates spec for -region, then connects to real Alibaba
// Cloud in -region (default: the key's) with the default chain's
// credentials and says so on p, and that nothing will be written unless
// -apply or -revoke was given. workflow names the story ("W1").
func (f *Flags) RealClient(p *narrate.Printer, getenv func(string) string, workflow string, spec *share.Spec, optFns ...func(*share.Options)) (*share.Client, error) {
	if err := spec.Validate(f.Region); err != nil {
		return nil, err
	}
	region := cmp.Or(f.Region, spec.KeyARN().Region)
	c, source, err := realcloud.NewClient(getenv, region, optFns...)
	if err != nil {
		return nil, err
	}
	p.Printf("%s on real Alibaba Cloud, region %s, credentials from %s.\n", workflow, region, source)
	f.ReadOnlyNote(p)
	return c, nil
}

// ReadOnlyNote says, without -apply and -revoke, that only the plan is
// made.
func (f *Flags) ReadOnlyNote(p *narrate.Printer) {
	if !f.Apply && !f.Revoke {
		p.Printf("Read-only: only the plan is made (-apply and -revoke write).\n")
	}
}

// End closes a story: "Done." if it changed anything, else how to make it
// do so (what: "share the key").
func End(p *narrate.Printer, changed bool, what string) {
	if !changed {
		p.Printf("\nNothing was changed. Run again with -apply to %s.\n", what)
		return
	}
	p.Printf("\nDone.\n")
}

// Planned prints a plan made by share and returns err, or the plan's own
// error (a recipient that cannot be shared with, a quota exceeded).
func Planned(p *narrate.Printer, plan *share.Plan, err error) error {
	if err != nil {
		return err
	}
	p.Block(plan.String())
	return plan.Err()
}

// Applied prints what applying a plan did, if it got so far, and returns
// err.
func Applied(p *narrate.Printer, res *share.Result, err error) error {
	if res != nil {
		p.Block(res.String())
	}
	return err
}

// RealConfig returns an SDK configuration for real Alibaba Cloud in region
// with the default chain's credentials, and where they come from: see
// realcloud.Config.
func RealConfig(getenv func(string) string, region string) (*openapi.Config, string, error) {
	return realcloud.Config(getenv, region)
}

// RoleApplied prints a line per step of applying a role plan (done,
// FAILED with the cloud's refusal, skipped) and returns err.
func RoleApplied(p *narrate.Printer, res *share.RoleResult, err error) error {
	for _, sr := range res.Steps {
		switch sr.Status {
		case share.StatusFailed:
			p.Line("FAILED", "%s: %s", sr.Step, narrate.Refusal("ram", "", err))
		case share.StatusNotAttempted:
			p.Line("skipped", "%s", sr.Step)
		default:
			p.Line("done", "%s", sr.Step)
		}
	}
	return err
}

// The credential errors of realcloud, for examples that exit with status 2
// on them (Exit's usage errors).
var (
	ErrNoCredentials         = realcloud.ErrNoCredentials
	ErrIncompleteCredentials = realcloud.ErrIncompleteCredentials
)

// CredentialSource describes where the default chain's credentials come
// from, or "" if nothing is configured: see realcloud.Detect.
func CredentialSource(getenv func(string) string) string {
	source, _ := realcloud.Detect(getenv)
	return source
}
