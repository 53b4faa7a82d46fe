package fakecloud

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// Building a World from a decoded world file: the builder and its error
// positions, the clock, documents, names, regions and faults
// (world_build_accounts.go builds each account's content).

// worldBuilder turns a decoded file into a World.
type worldBuilder struct {
	data    []byte
	file    string
	dec     decoder
	w       *World
	aliases map[string]string // "<uid>/<region>/alias/<name>" → where
}

// wrap turns positioned errors into *WorldError.
func (b *worldBuilder) wrap(err error) error {
	var pe *pathError
	if errors.As(err, &pe) {
		l, c := position(b.data, pe.off)
		return &WorldError{File: b.file, Line: l, Column: c, Path: pe.path, Err: pe.err}
	}
	var po *posError
	if errors.As(err, &po) {
		l, c := position(b.data, po.off)
		return &WorldError{File: b.file, Line: l, Column: c, Err: po.err}
	}
	return err
}

// at returns an error for the value at path (or its nearest recorded
// parent, for a field the file left out).
func (b *worldBuilder) at(path string, format string, args ...any) error {
	p := path
	for {
		if off, ok := b.dec.places[p]; ok {
			return &pathError{off: off, path: path, err: fmt.Errorf(format, args...)}
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return &pathError{off: 0, path: path, err: fmt.Errorf(format, args...)}
		}
		p = p[:i]
	}
}

// offsetClock is wall-clock time plus an offset that Advance grows: the
// server's default, so real SDKs' timestamps stay current while tests can
// still jump past delays and expiries.
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

// Sleep waits d of real time (or until ctx is done): emulator time runs
// at the real rate.
func (c *offsetClock) Sleep(ctx context.Context, d time.Duration) error {
	return cloudapi.Sleep(ctx, d)
}

func (c *offsetClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// hostClockOff is the host's real clock off by a fixed amount: a world
// file's gateway clock.
type hostClockOff time.Duration

func (c hostClockOff) Now() time.Time { return time.Now().UTC().Add(time.Duration(c)) }

func (b *worldBuilder) clock(wc *worldClock) (Clock, error) {
	if wc == nil {
		return &offsetClock{}, nil
	}
	var start time.Time
	if wc.Start != "" {
		t, err := time.Parse(time.RFC3339, wc.Start)
		if err != nil {
			return nil, b.at("clock.start", "want an RFC 3339 time such as %q", DefaultStart)
		}
		start = t
	}
	switch wc.Kind {
	case "", "real":
		if wc.Start != "" || wc.Scale != 0 {
			return nil, b.at("clock", "a real clock takes neither start nor scale")
		}
		return &offsetClock{}, nil
	case "manual":
		if wc.Scale != 0 {
			return nil, b.at("clock.scale", "a manual clock has no scale")
		}
		return NewManualClock(start), nil
	case "scaled":
		if wc.Scale <= 0 {
			return nil, b.at("clock.scale", "want a scale > 0")
		}
		return NewScaledClock(start, wc.Scale), nil
	}
	return nil, b.at("clock.kind", "want \"real\", \"manual\" or \"scaled\", found %q", wc.Kind)
}

// uidRef is how a policy document in a world file names an account's UID:
// ${uid:<account name>}.
var uidRef = regexp.MustCompile(`\$\{uid:([^}]*)\}`)

// document substitutes ${uid:<name>} and parses the document as kind.
func (b *worldBuilder) document(path string, d jsonDoc, kind policy.Kind) (string, error) {
	var bad string
	text := uidRef.ReplaceAllStringFunc(d.text, func(m string) string {
		name := uidRef.FindStringSubmatch(m)[1]
		a := b.w.accounts[name]
		if a == nil {
			if bad == "" {
				bad = name
			}
			return m
		}
		return a.ID
	})
	if bad != "" {
		return "", b.at(path, "${uid:%s}: no account %q in this world", bad, bad)
	}
	if _, err := parseDoc(text, kind); err != nil {
		return "", b.at(path, "%s: %v", kind, err)
	}
	return text, nil
}

// name checks that a name is given and unique within seen (compared
// case-insensitively when fold is set, as RAM does).
func (b *worldBuilder) name(path, what, name string, seen map[string]string, fold bool) error {
	if name == "" {
		return b.at(path, "%s name is missing", what)
	}
	k := name
	if fold {
		k = strings.ToLower(name)
	}
	if first, dup := seen[k]; dup {
		return b.at(path+".name", "duplicate %s name %q (first at %s)", what, name, first)
	}
	seen[k] = b.where(path + ".name")
	return nil
}

func (b *worldBuilder) where(path string) string {
	if off, ok := b.dec.places[path]; ok {
		return lineCol(b.data, off)
	}
	return path
}

func (b *worldBuilder) build(wf *worldFile, clk Clock) (*World, error) {
	if clk == nil {
		var err error
		if clk, err = b.clock(wf.Clock); err != nil {
			return nil, err
		}
	}
	var gateway Clock
	if g := wf.GatewayClock; g != nil {
		if g.Ahead != 0 && g.Behind != 0 {
			return nil, b.at("gatewayClock", "give ahead or behind, not both")
		}
		gateway = hostClockOff(time.Duration(g.Ahead) - time.Duration(g.Behind))
	}
	c := New(Options{Clock: clk, GatewayClock: gateway, Seed: wf.Seed, LogLimit: wf.LogLimit,
		PropagationDelay:  time.Duration(wf.Delays.Propagation),
		QuotaReleaseDelay: time.Duration(wf.Delays.QuotaRelease),
		VisibilityDelay:   time.Duration(wf.Delays.Visibility)})
	w := &World{Cloud: c, clock: clk, accounts: map[string]*Account{}, users: map[string]*User{},
		roles: map[string]*Role{}, instances: map[string]*Instance{}, keys: map[string]*Key{}}
	b.w = w
	if len(wf.Accounts) == 0 {
		return nil, b.at("accounts", "a world needs at least one account")
	}

	// Accounts first, so that documents and the directory can name any.
	seen := map[string]string{}
	ids := map[string]string{}
	for i, wa := range wf.Accounts {
		p := fmt.Sprintf("accounts[%d]", i)
		if err := b.name(p, "account", wa.Name, seen, false); err != nil {
			return nil, err
		}
		if strings.Contains(wa.Name, "/") {
			return nil, b.at(p+".name", "account names cannot hold \"/\": principals are named \"<account>/<user>\"")
		}
		var a *Account
		if wa.ID != "" {
			if err := arn.ValidateAccountID(wa.ID); err != nil {
				return nil, b.at(p+".id", "%v", err)
			}
			if first, dup := ids[wa.ID]; dup {
				return nil, b.at(p+".id", "account ID %s is already used (at %s)", wa.ID, first)
			}
			ids[wa.ID] = b.where(p + ".id")
			var err error
			if a, err = c.NewAccountWithID(wa.ID, wa.Name); err != nil {
				return nil, b.at(p+".id", "%v", err)
			}
		}
		w.accounts[wa.Name] = a // generated IDs come after every fixed one
	}
	for _, wa := range wf.Accounts {
		if w.accounts[wa.Name] == nil {
			w.accounts[wa.Name] = c.NewAccount(wa.Name)
		}
		a := w.accounts[wa.Name]
		w.principals = append(w.principals, Principal{Name: wa.Name, AccountID: a.ID, ARN: a.RootARN(), Credentials: a.RootCredentials()})
	}

	if wf.ResourceDirectory != nil {
		if err := b.directory(wf.ResourceDirectory); err != nil {
			return nil, err
		}
	}
	// RAM before KMS: key policies may name users and roles of any account.
	for i, wa := range wf.Accounts {
		if err := b.ram(fmt.Sprintf("accounts[%d]", i), wa); err != nil {
			return nil, err
		}
	}
	keyIDs := map[string]string{}
	for i, wa := range wf.Accounts {
		if err := b.kms(fmt.Sprintf("accounts[%d]", i), wa, keyIDs); err != nil {
			return nil, err
		}
	}
	for i, f := range wf.Faults {
		if err := b.fault(fmt.Sprintf("faults[%d]", i), f); err != nil {
			return nil, err
		}
	}
	sort.Strings(w.regions)
	return w, nil
}

func (b *worldBuilder) account(path, name string) (*Account, error) {
	a := b.w.accounts[name]
	if a == nil {
		return nil, b.at(path, "no account %q in this world", name)
	}
	return a, nil
}

func (b *worldBuilder) region(r string) {
	for _, x := range b.w.regions {
		if x == r {
			return
		}
	}
	b.w.regions = append(b.w.regions, r)
}

func (b *worldBuilder) fault(p string, f worldFault) error {
	switch f.Service {
	case "", "kms", "ram", "sts":
	default:
		return b.at(p+".service", "want \"kms\", \"ram\", \"sts\" or nothing (all), found %q", f.Service)
	}
	for _, pr := range []struct {
		name string
		v    float64
	}{{"throttle", f.Throttle}, {"unavailable", f.Unavailable}, {"internal", f.Internal}, {"lostResponse", f.LostResponse}} {
		if pr.v < 0 || pr.v > 1 {
			return b.at(p+"."+pr.name, "want a probability from 0 to 1, found %g", pr.v)
		}
	}
	if f.Action != "" {
		found := false
		for _, svc := range []string{"kms", "ram", "sts"} {
			if f.Service == "" || f.Service == svc {
				_, ok := b.w.Cloud.ops[svc+":"+f.Action]
				found = found || ok
			}
		}
		if !found {
			where := ""
			if f.Service != "" {
				where = " in " + f.Service
			}
			return b.at(p+".action", "the emulator serves no operation %q%s; a fault on it would never fire", f.Action, where)
		}
	}
	if f.Throttle+f.Unavailable+f.Internal > 1 {
		return b.at(p, "throttle + unavailable + internal exceed 1")
	}
	fault := Fault{Service: f.Service, Action: f.Action, Throttle: f.Throttle, Unavailable: f.Unavailable, Internal: f.Internal,
		LostResponse: f.LostResponse, Latency: time.Duration(f.Latency)}
	if f.Account != "" {
		a, err := b.account(p+".account", f.Account)
		if err != nil {
			return err
		}
		fault.Account = a.ID
	}
	b.w.Cloud.Faults().Add(fault)
	return nil
}
