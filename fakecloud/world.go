package fakecloud

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
)

// A world file describes a whole emulated cloud in JSON: the same set-up
// the Go API builds, for the server (examples/fakecloud), for programs in
// other languages and for tests that keep their fixture in testdata/. The
// schema is the set of world* structs in world_schema.go; testdata/world.json
// is a complete example. world_json.go reads a file strictly, and
// world_build.go and world_build_accounts.go turn it into a World.
//
// This file holds the public side: loading a world and using one.

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
