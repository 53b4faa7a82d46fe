package fakecloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// A world file describes a whole emulated cloud in JSON: the same set-up
// the Go API builds, for the server (examples/fakecloud), for programs in
// other languages and for tests that keep their fixture in testdata/. The
// schema is the set of world* structs below; testdata/world.json is a
// complete example.

// worldFile is the top level of a world file.
type worldFile struct {
	Seed              uint64         `json:"seed"`
	Clock             *worldClock    `json:"clock"`
	Delays            worldDelays    `json:"delays"`
	LogLimit          int            `json:"logLimit"`
	Accounts          []worldAccount `json:"accounts"`
	ResourceDirectory *worldRD       `json:"resourceDirectory"`
	Faults            []worldFault   `json:"faults"`
}

type worldClock struct {
	// Kind is "real" (the default: wall-clock time, which World.Advance
	// moves ahead), "manual" (stopped at Start until advanced) or "scaled"
	// (Scale times faster than real time from Start).
	Kind  string  `json:"kind"`
	Start string  `json:"start"` // RFC 3339; default DefaultStart
	Scale float64 `json:"scale"`
}

type worldDelays struct {
	Propagation  jsonDuration `json:"propagation"`
	QuotaRelease jsonDuration `json:"quotaRelease"`
	Visibility   jsonDuration `json:"visibility"`
}

type worldAccount struct {
	Name        string          `json:"name"`
	ID          string          `json:"id"` // optional fixed UID
	Policies    []worldPolicy   `json:"policies"`
	Users       []worldUser     `json:"users"`
	Roles       []worldRole     `json:"roles"`
	Instances   []worldInstance `json:"instances"`
	DefaultKeys []worldKey      `json:"defaultKeys"`
}

type worldPolicy struct {
	Name     string  `json:"name"`
	Document jsonDoc `json:"document"`
}

type worldUser struct {
	Name     string   `json:"name"`
	Policies []string `json:"policies"`
}

type worldRole struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Trust       jsonDoc  `json:"trust"`
	Policies    []string `json:"policies"`
}

type worldInstance struct {
	Name     string     `json:"name"`
	Region   string     `json:"region"`
	External bool       `json:"external"`
	Quota    int        `json:"quota"`
	KeyQuota int        `json:"keyQuota"`
	VPCs     []string   `json:"vpcs"` // bound VPC IDs; each uses one unit of quota
	Keys     []worldKey `json:"keys"`
}

type worldKey struct {
	Name        string  `json:"name"`
	ID          string  `json:"id"`     // optional fixed key ID (instance keys only)
	Region      string  `json:"region"` // default keys only
	Alias       string  `json:"alias"`
	Description string  `json:"description"`
	Spec        string  `json:"spec"`
	Usage       string  `json:"usage"`
	Policy      jsonDoc `json:"policy"`
}

type worldRD struct {
	Management string        `json:"management"`
	Members    []string      `json:"members"` // accounts in the root folder
	Folders    []worldFolder `json:"folders"`
}

type worldFolder struct {
	Name    string        `json:"name"`
	Members []string      `json:"members"`
	Folders []worldFolder `json:"folders"`
}

type worldFault struct {
	Service      string       `json:"service"`
	Action       string       `json:"action"`
	Account      string       `json:"account"` // the caller's account, by name
	Throttle     float64      `json:"throttle"`
	Unavailable  float64      `json:"unavailable"`
	LostResponse float64      `json:"lostResponse"`
	Latency      jsonDuration `json:"latency"`
}

// WorldOptions configure LoadWorld.
type WorldOptions struct {
	// Name is the file name used in error messages; default "world".
	Name string
	// Clock, if set, replaces the clock the file describes (tests pass a
	// ManualClock they keep).
	Clock Clock
}

// WorldError is a mistake in a world file: where it is and what is wrong.
// Nothing is built when LoadWorld returns one.
type WorldError struct {
	File   string
	Line   int    // from 1
	Column int    // from 1, in bytes
	Path   string // the field, e.g. "accounts[1].users[0].name"; "" for syntax errors
	Err    error
}

func (e *WorldError) Error() string {
	place := fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	if e.Path != "" {
		place += ": " + e.Path
	}
	return place + ": " + e.Err.Error()
}

func (e *WorldError) Unwrap() error { return e.Err }

// World is a cloud built from a world file, with its accounts, users,
// roles, instances and keys reachable by the names the file gives them.
type World struct {
	// Cloud is the emulated cloud; everything the Go API offers works on it.
	Cloud *Cloud

	clock      Clock
	accounts   map[string]*Account
	users      map[string]*User // "<account>/<user>"
	roles      map[string]*Role
	instances  map[string]*Instance
	keys       map[string]*Key
	keyNames   []string // "<account>/<key>", in file order
	rd         *ResourceDirectory
	principals []Principal
	regions    []string
}

// Principal is an identity of a world with an access key: an account's
// root or a RAM user.
type Principal struct {
	Name        string // "security" for a root, "security/admin" for a user
	AccountID   string
	ARN         string // acs:ram::<uid>:root or acs:ram::<uid>:user/<name>
	Credentials Credentials
}

// LoadWorldFile reads and builds the world file at path (see LoadWorld).
func LoadWorldFile(path string, opts WorldOptions) (*World, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fakecloud: %w", err)
	}
	defer f.Close()
	if opts.Name == "" {
		opts.Name = path
	}
	return LoadWorld(f, opts)
}

// maxWorldBytes bounds a world file.
const maxWorldBytes = 16 << 20

// LoadWorld reads a world file and builds its cloud. The file is strict:
// unknown fields, a field given twice, duplicate names, masked or invalid
// IDs, unknown references and policy documents that do not parse are
// refused with a *WorldError naming the line, column and field; nothing is
// built then.
func LoadWorld(r io.Reader, opts WorldOptions) (*World, error) {
	if opts.Name == "" {
		opts.Name = "world"
	}
	data, err := io.ReadAll(io.LimitReader(r, maxWorldBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fakecloud: reading %s: %w", opts.Name, err)
	}
	if len(data) > maxWorldBytes {
		return nil, fmt.Errorf("fakecloud: %s is larger than %d bytes", opts.Name, maxWorldBytes)
	}
	b := &worldBuilder{data: data, file: opts.Name, dec: decoder{places: map[string]int{}}, aliases: map[string]string{}}
	tree, err := parseJSONTree(data)
	if err != nil {
		return nil, b.wrap(err)
	}
	var wf worldFile
	if err := b.dec.decode(tree, "", reflectValue(&wf)); err != nil {
		return nil, b.wrap(err)
	}
	w, err := b.build(&wf, opts.Clock)
	if err != nil {
		return nil, b.wrap(err)
	}
	return w, nil
}

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
	c := New(Options{Clock: clk, Seed: wf.Seed, LogLimit: wf.LogLimit,
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

func (b *worldBuilder) directory(rd *worldRD) error {
	mgmt, err := b.account("resourceDirectory.management", rd.Management)
	if err != nil {
		return err
	}
	h, err := b.w.Cloud.NewResourceDirectory(mgmt)
	if err != nil {
		return b.at("resourceDirectory.management", "%v", err)
	}
	b.w.rd = h
	placed := map[string]string{rd.Management: b.where("resourceDirectory.management")}
	return b.folder("resourceDirectory", h.Root(), rd.Members, rd.Folders, placed)
}

func (b *worldBuilder) folder(path string, f *Folder, members []string, folders []worldFolder, placed map[string]string) error {
	for i, m := range members {
		p := fmt.Sprintf("%s.members[%d]", path, i)
		a, err := b.account(p, m)
		if err != nil {
			return err
		}
		if first, dup := placed[m]; dup {
			return b.at(p, "account %q is already in the directory (at %s)", m, first)
		}
		placed[m] = b.where(p)
		if err := f.AddMember(a); err != nil {
			return b.at(p, "%v", err)
		}
	}
	seen := map[string]string{}
	for i, wf := range folders {
		p := fmt.Sprintf("%s.folders[%d]", path, i)
		if err := b.name(p, "folder", wf.Name, seen, false); err != nil {
			return err
		}
		if err := b.folder(p, f.NewFolder(wf.Name), wf.Members, wf.Folders, placed); err != nil {
			return err
		}
	}
	return nil
}

func (b *worldBuilder) ram(path string, wa worldAccount) error {
	a := b.w.accounts[wa.Name]
	seen := map[string]string{}
	for i, wp := range wa.Policies {
		p := fmt.Sprintf("%s.policies[%d]", path, i)
		if err := b.name(p, "policy", wp.Name, seen, true); err != nil {
			return err
		}
		if !wp.Document.set {
			return b.at(p, "document is missing")
		}
		doc, err := b.document(p+".document", wp.Document, policy.Permission)
		if err != nil {
			return err
		}
		if _, err := a.NewPolicy(wp.Name, doc); err != nil {
			return b.at(p+".name", "%v", err)
		}
	}
	seen = map[string]string{}
	for i, wu := range wa.Users {
		p := fmt.Sprintf("%s.users[%d]", path, i)
		if err := b.name(p, "user", wu.Name, seen, true); err != nil {
			return err
		}
		if err := b.policyNames(p, wa, wu.Policies); err != nil {
			return err
		}
		u, err := a.NewUser(wu.Name, wu.Policies...)
		if err != nil {
			return b.at(p+".name", "%v", err)
		}
		b.w.users[wa.Name+"/"+wu.Name] = u
		b.w.principals = append(b.w.principals, Principal{Name: wa.Name + "/" + wu.Name, AccountID: a.ID, ARN: u.ARN, Credentials: u.Credentials()})
	}
	seen = map[string]string{}
	for i, wr := range wa.Roles {
		p := fmt.Sprintf("%s.roles[%d]", path, i)
		if err := b.name(p, "role", wr.Name, seen, true); err != nil {
			return err
		}
		if !wr.Trust.set {
			return b.at(p, "trust is missing (the role's trust policy)")
		}
		trust, err := b.document(p+".trust", wr.Trust, policy.Trust)
		if err != nil {
			return err
		}
		if err := b.policyNames(p, wa, wr.Policies); err != nil {
			return err
		}
		r, err := a.NewRole(wr.Name, trust, wr.Policies...)
		if err != nil {
			return b.at(p+".name", "%v", err)
		}
		if wr.Description != "" {
			b.w.Cloud.mu.Lock()
			if st := a.state(); st != nil {
				st.roles[strings.ToLower(r.Name)].description = wr.Description
			}
			b.w.Cloud.mu.Unlock()
		}
		b.w.roles[wa.Name+"/"+wr.Name] = r
	}
	return nil
}

// policyNames checks that every attached policy is one of the account's
// custom policies or a system policy.
func (b *worldBuilder) policyNames(path string, wa worldAccount, names []string) error {
	for i, n := range names {
		found := b.w.Cloud.system[strings.ToLower(n)] != nil
		for _, wp := range wa.Policies {
			found = found || strings.EqualFold(wp.Name, n)
		}
		if !found {
			return b.at(fmt.Sprintf("%s.policies[%d]", path, i), "no policy %q in account %q or among system policies", n, wa.Name)
		}
	}
	return nil
}

func (b *worldBuilder) kms(path string, wa worldAccount, keyIDs map[string]string) error {
	a := b.w.accounts[wa.Name]
	instNames := map[string]string{}
	keyNames := map[string]string{}
	for i, wi := range wa.Instances {
		p := fmt.Sprintf("%s.instances[%d]", path, i)
		if err := b.name(p, "instance", wi.Name, instNames, false); err != nil {
			return err
		}
		if wi.Region == "" {
			return b.at(p, "region is missing")
		}
		vpcs := map[string]string{}
		for j, v := range wi.VPCs {
			vp := fmt.Sprintf("%s.vpcs[%d]", p, j)
			if err := arn.Pasted(v); err != nil || !strings.HasPrefix(v, "vpc-") {
				return b.at(vp, "want a VPC ID such as \"vpc-bp1234567890abcdefghi\", found %q", v)
			}
			if first, dup := vpcs[v]; dup {
				return b.at(vp, "VPC %s is bound twice (first at %s)", v, first)
			}
			vpcs[v] = b.where(vp)
		}
		opts := InstanceOptions{Name: wi.Name, Quota: wi.Quota, VPCs: len(wi.VPCs), KeyQuota: wi.KeyQuota}
		if opts.Quota > 0 && opts.VPCs > opts.Quota {
			return b.at(p+".vpcs", "%d bound VPCs exceed the access management quota %d", opts.VPCs, opts.Quota)
		}
		var inst *Instance
		if wi.External {
			inst = a.NewExternalKMSInstance(wi.Region, opts)
		} else {
			inst = a.NewKMSInstance(wi.Region, opts)
		}
		b.w.instances[wa.Name+"/"+wi.Name] = inst
		b.region(wi.Region)
		for j, wk := range wi.Keys {
			if err := b.key(fmt.Sprintf("%s.keys[%d]", p, j), wa, inst, wk, keyNames, keyIDs); err != nil {
				return err
			}
		}
	}
	for j, wk := range wa.DefaultKeys {
		if err := b.key(fmt.Sprintf("%s.defaultKeys[%d]", path, j), wa, nil, wk, keyNames, keyIDs); err != nil {
			return err
		}
	}
	return nil
}

func (b *worldBuilder) key(p string, wa worldAccount, inst *Instance, wk worldKey, names, ids map[string]string) error {
	a := b.w.accounts[wa.Name]
	if err := b.name(p, "key", wk.Name, names, false); err != nil {
		return err
	}
	opts := KeyOptions{Description: wk.Description, Alias: wk.Alias, Spec: wk.Spec, Usage: wk.Usage}
	if wk.Policy.set {
		if inst == nil {
			return b.at(p+".policy", "keys outside a KMS instance have no key policy")
		}
		doc, err := b.document(p+".policy", wk.Policy, policy.KeyPolicy)
		if err != nil {
			return err
		}
		opts.Policy = doc
	}
	// What CreateKey would refuse for the key itself is checked here, so
	// that a refusal by NewKey below is about the key policy.
	if wk.Spec != "" && !knownSpec(wk.Spec) {
		return b.at(p+".spec", "unknown key spec %q", wk.Spec)
	}
	if wk.Usage != "" && wk.Usage != "ENCRYPT/DECRYPT" && wk.Usage != "SIGN/VERIFY" {
		return b.at(p+".usage", "want \"ENCRYPT/DECRYPT\" or \"SIGN/VERIFY\", found %q", wk.Usage)
	}
	if wk.Usage != "" && (wk.Spec == "" || symmetricSpec(wk.Spec)) && wk.Usage != "ENCRYPT/DECRYPT" {
		return b.at(p+".usage", "symmetric keys are ENCRYPT/DECRYPT")
	}
	if wk.Alias != "" {
		region := wk.Region
		if inst != nil {
			region = inst.Region
		}
		alias := region + "/alias/" + strings.TrimPrefix(wk.Alias, "alias/")
		if first, dup := b.aliases[a.ID+"/"+alias]; dup {
			return b.at(p+".alias", "alias %q is already used in %s (at %s)", wk.Alias, region, first)
		}
		b.aliases[a.ID+"/"+alias] = b.where(p + ".alias")
	}
	if wk.ID != "" {
		if perr := arn.Pasted(wk.ID); perr != nil {
			return b.at(p+".id", "key ID %q: %v: use the real ID", wk.ID, perr)
		}
		if err := checkKeyID(wk.ID); err != nil {
			return b.at(p+".id", "%v", err)
		}
	}
	var k *Key
	var err error
	switch {
	case inst == nil:
		if wk.ID != "" {
			return b.at(p+".id", "fixed IDs are for keys in a KMS instance")
		}
		if wk.Region == "" {
			return b.at(p, "region is missing")
		}
		b.region(wk.Region)
		k, err = a.NewDefaultKey(wk.Region, opts)
	case wk.Region != "":
		return b.at(p+".region", "a key's region is its instance's")
	case wk.ID != "":
		if first, dup := ids[wk.ID]; dup {
			return b.at(p+".id", "key ID %s is already used (at %s)", wk.ID, first)
		}
		ids[wk.ID] = b.where(p + ".id")
		k, err = inst.NewKeyWithID(wk.ID, opts)
	default:
		k, err = inst.NewKey(opts)
	}
	if err != nil {
		// With the key's own fields checked above, what CreateKey refuses
		// as a bad parameter or an exceeded share quota is the key policy
		// (a principal that does not exist, too many accounts).
		var e *Error
		if wk.Policy.set && errors.As(err, &e) && (e.Code == "InvalidParameter" || e.Code == "Rejected.ShareQuotaExceedLimit") {
			return b.at(p+".policy", "%s: %s", e.Code, e.Message)
		}
		return b.at(p, "%v", err)
	}
	b.w.keys[wa.Name+"/"+wk.Name] = k
	b.w.keyNames = append(b.w.keyNames, wa.Name+"/"+wk.Name)
	return nil
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
	}{{"throttle", f.Throttle}, {"unavailable", f.Unavailable}, {"lostResponse", f.LostResponse}} {
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
	if f.Throttle+f.Unavailable > 1 {
		return b.at(p, "throttle + unavailable exceed 1")
	}
	fault := Fault{Service: f.Service, Action: f.Action, Throttle: f.Throttle, Unavailable: f.Unavailable,
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

// ---- using a world ----

// Account returns the account the file calls name, or nil.
func (w *World) Account(name string) *Account { return w.accounts[name] }

// User returns the RAM user name of account, or nil.
func (w *World) User(account, name string) *User { return w.users[account+"/"+name] }

// Role returns the RAM role name of account, or nil.
func (w *World) Role(account, name string) *Role { return w.roles[account+"/"+name] }

// Instance returns the KMS instance name of account, or nil.
func (w *World) Instance(account, name string) *Instance { return w.instances[account+"/"+name] }

// Key returns the key the file calls name in account, or nil.
func (w *World) Key(account, name string) *Key { return w.keys[account+"/"+name] }

// KeyNames returns every key of the file as "<account>/<key>", in file
// order; World.Key takes the two parts.
func (w *World) KeyNames() []string { return append([]string(nil), w.keyNames...) }

// ResourceDirectory returns the world's Resource Directory, or nil.
func (w *World) ResourceDirectory() *ResourceDirectory { return w.rd }

// Regions returns the regions the file's instances and keys are in, sorted.
func (w *World) Regions() []string { return append([]string(nil), w.regions...) }

// Principals returns every identity with an access key, in file order:
// each account's root, then the RAM users.
func (w *World) Principals() []Principal { return append([]Principal(nil), w.principals...) }

// Credentials returns the access key of a principal: "<account>" for the
// account's root, "<account>/<user>" for a RAM user.
func (w *World) Credentials(principal string) (Credentials, error) {
	for _, p := range w.principals {
		if p.Name == principal {
			return p.Credentials, nil
		}
	}
	return Credentials{}, fmt.Errorf("fakecloud: no principal %q in the world (want \"<account>\" or \"<account>/<user>\")", principal)
}

// Config returns an SDK configuration for principal (see Credentials) in
// region that reaches the cloud in process; kms.NewClient, ram.NewClient,
// sts.NewClient, share.New and envelope.NewKMS accept it.
func (w *World) Config(principal, region string) (*openapi.Config, error) {
	creds, err := w.Credentials(principal)
	if err != nil {
		return nil, err
	}
	return w.Cloud.Config(creds, region), nil
}

// Clock returns the world's clock. Every clock a world file describes also
// has a Sleep method, so it can serve as share.Options.Clock.
func (w *World) Clock() Clock { return w.clock }

// Advance moves emulator time forward by d, for clocks that can be moved:
// the default real clock (time runs on from the new instant) and a manual
// clock. A scaled clock or a caller's own clock without an
// Advance(time.Duration) method cannot be.
func (w *World) Advance(d time.Duration) error {
	if d < 0 {
		return errors.New("fakecloud: emulator time never runs backwards")
	}
	a, ok := w.clock.(interface{ Advance(time.Duration) })
	if !ok {
		return fmt.Errorf("fakecloud: a %T cannot be advanced", w.clock)
	}
	a.Advance(d)
	return nil
}
