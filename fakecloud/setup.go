package fakecloud

import (
	"embed"
	"errors"
	"path"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// The Go set-up API describes how the cloud already is before a test or
// example starts: accounts, a Resource Directory, users, roles, policies,
// KMS instances and keys. Set-up takes effect at once (no propagation
// delay, no eventual consistency) and is not logged. Everything else goes
// through the wire protocol with the real SDK clients.
//
// This file holds accounts and the system policies; users, policies and
// roles are in setup_ram.go, the Resource Directory in setup_directory.go,
// KMS instances and keys in setup_kms.go.

//go:embed systempolicies/*.json
var systemPolicyFiles embed.FS

func (c *Cloud) installSystemPolicies() {
	entries, _ := systemPolicyFiles.ReadDir("systempolicies")
	for _, e := range entries {
		data, err := systemPolicyFiles.ReadFile("systempolicies/" + e.Name())
		if err != nil {
			continue
		}
		doc, err := parseDoc(string(data), policy.Permission)
		if err != nil {
			continue // TestSystemPolicies keeps the files valid
		}
		name := strings.TrimSuffix(e.Name(), path.Ext(e.Name()))
		p := &ramPolicy{name: name, typ: "System", description: "System policy " + name, nextVersion: 2, defaultID: "v1",
			versions:  []*policyVersion{{id: "v1", raw: strings.TrimSpace(string(data)), doc: doc}},
			effective: newTimeline(doc)}
		c.system[strings.ToLower(name)] = p
	}
}

// Account is an Alibaba Cloud account of the emulated cloud.
type Account struct {
	ID   string // 16-digit UID
	Name string
	c    *Cloud
}

// NewAccount creates an account with a root access key.
func (c *Cloud) NewAccount(name string) *Account {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.newAccountLocked(name)
}

func (c *Cloud) newAccountLocked(name string) *Account {
	id := c.ids.accountID()
	for c.accounts[id] != nil {
		id = c.ids.accountID()
	}
	a := &account{id: id, name: name,
		users: map[string]*user{}, roles: map[string]*role{}, policies: map[string]*ramPolicy{}, aliases: map[string]*key{}}
	a.root = c.newAccessKeyLocked(a, nil)
	c.accounts[id] = a
	return &Account{ID: id, Name: name, c: c}
}

func (c *Cloud) newAccessKeyLocked(a *account, u *user) *accessKey {
	ak := &accessKey{id: "LTAI" + c.ids.chars(mixedAlnum, 20), secret: secret(mixedAlnum, 30), account: a, user: u, created: c.clock.Now()}
	for c.accessKeys[ak.id] != nil {
		ak.id = "LTAI" + c.ids.chars(mixedAlnum, 20)
	}
	c.accessKeys[ak.id] = ak
	return ak
}

// Account returns the account with the given UID, or nil.
func (c *Cloud) Account(id string) *Account {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a := c.accounts[id]
	if a == nil {
		return nil
	}
	return &Account{ID: a.id, Name: a.name, c: c}
}

// errForeign is returned when a handle does not belong to the cloud it is
// used with (or was built by hand).
var errForeign = errors.New("fakecloud: the handle does not belong to this cloud")

// state returns the account behind the handle, or nil for a handle that
// does not belong to this cloud.
func (a *Account) state() *account {
	if a == nil || a.c == nil {
		return nil
	}
	return a.c.accounts[a.ID]
}

// RootCredentials returns the account's root access key. Root may do
// anything in its own account but may not call AssumeRole.
func (a *Account) RootCredentials() Credentials {
	a.c.mu.RLock()
	defer a.c.mu.RUnlock()
	acct := a.state()
	if acct == nil {
		return Credentials{}
	}
	return Credentials{AccessKeyID: acct.root.id, secret: acct.root.secret}
}

// RootARN returns acs:ram::<uid>:root.
func (a *Account) RootARN() string { return arn.AccountRoot(a.ID).String() }
