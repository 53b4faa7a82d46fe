package fakecloud

import (
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// Set-up of RAM: users, custom policies and roles, and attaching policies
// to users and roles.

// User is a RAM user.
type User struct {
	Account *Account
	Name    string
	ID      string // UserId
	ARN     string // acs:ram::<uid>:user/<name>
	creds   Credentials
}

// Credentials returns the user's access key.
func (u *User) Credentials() Credentials { return u.creds }

// NewUser creates a RAM user with one access key and attaches the named
// policies (the account's custom policies first, then system policies).
func (a *Account) NewUser(name string, policies ...string) (*User, error) {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := a.state()
	if acct == nil {
		return nil, errForeign
	}
	if err := arn.ValidateUserName(name); err != nil {
		return nil, fmt.Errorf("fakecloud: %w", err)
	}
	if acct.users[strings.ToLower(name)] != nil {
		return nil, fmt.Errorf("fakecloud: user %q already exists in %s", name, a.ID)
	}
	atts, err := c.resolvePolicies(acct, policies)
	if err != nil {
		return nil, err
	}
	now := c.clock.Now()
	u := &user{account: acct, id: c.ids.numericID(16), name: name, display: name, created: now, updated: now,
		attached: newTimeline(atts)}
	acct.users[strings.ToLower(name)] = u
	ak := c.newAccessKeyLocked(acct, u)
	u.keys = append(u.keys, ak)
	return &User{Account: a, Name: name, ID: u.id, ARN: arn.RAMUser(a.ID, name).String(),
		creds: Credentials{AccessKeyID: ak.id, secret: ak.secret}}, nil
}

// resolvePolicies finds policies by name for set-up attachments.
func (c *Cloud) resolvePolicies(acct *account, names []string) ([]attachment, error) {
	var atts []attachment
	for _, n := range names {
		p := acct.policies[strings.ToLower(n)]
		if p == nil {
			p = c.system[strings.ToLower(n)]
		}
		if p == nil {
			return nil, fmt.Errorf("fakecloud: no policy %q in %s or among system policies", n, acct.id)
		}
		for _, x := range atts {
			if x.policy == p {
				return nil, fmt.Errorf("fakecloud: policy %q named twice", n)
			}
		}
		atts = append(atts, attachment{policy: p, at: c.clock.Now()})
	}
	return atts, nil
}

// Policy is a custom RAM policy.
type Policy struct {
	Account *Account
	Name    string
}

// NewPolicy creates a custom permission policy with document as v1.
func (a *Account) NewPolicy(name, document string) (*Policy, error) {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := a.state()
	if acct == nil {
		return nil, errForeign
	}
	if acct.policies[strings.ToLower(name)] != nil {
		return nil, fmt.Errorf("fakecloud: policy %q already exists in %s", name, a.ID)
	}
	doc, err := parseDoc(document, policy.Permission)
	if err != nil {
		return nil, fmt.Errorf("fakecloud: policy %q: %w", name, err)
	}
	now := c.clock.Now()
	acct.policies[strings.ToLower(name)] = &ramPolicy{account: acct, name: name, typ: "Custom", created: now, updated: now,
		versions: []*policyVersion{{id: "v1", raw: document, doc: doc, created: now}}, nextVersion: 2, defaultID: "v1",
		effective: newTimeline(doc)}
	return &Policy{Account: a, Name: name}, nil
}

func parseDoc(document string, kind policy.Kind) (*policy.Document, error) {
	doc, err := policy.Parse([]byte(document))
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(kind); err != nil {
		return nil, err
	}
	return doc, nil
}

// Role is a RAM role.
type Role struct {
	Account *Account
	Name    string // display case
	ID      string // RoleId
	ARN     string // acs:ram::<uid>:role/<name in lower case>
}

// NewRole creates a RAM role with the given trust policy and attaches the
// named policies.
func (a *Account) NewRole(name, trustPolicy string, policies ...string) (*Role, error) {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := a.state()
	if acct == nil {
		return nil, errForeign
	}
	r, err := c.newRoleLocked(acct, name, trustPolicy, policies...)
	if err != nil {
		return nil, err
	}
	return &Role{Account: a, Name: r.name, ID: r.id, ARN: arn.RAMRole(a.ID, r.name).String()}, nil
}

func (c *Cloud) newRoleLocked(acct *account, name, trustPolicy string, policies ...string) (*role, error) {
	if err := arn.ValidateRoleName(name); err != nil {
		return nil, fmt.Errorf("fakecloud: %w", err)
	}
	if acct.roles[strings.ToLower(name)] != nil {
		return nil, fmt.Errorf("fakecloud: role %q already exists in %s", name, acct.id)
	}
	doc, err := parseDoc(trustPolicy, policy.Trust)
	if err != nil {
		return nil, fmt.Errorf("fakecloud: role %q: %w", name, err)
	}
	atts, err := c.resolvePolicies(acct, policies)
	if err != nil {
		return nil, err
	}
	now := c.clock.Now()
	r := &role{account: acct, id: c.ids.numericID(19), name: name, maxSession: 3600, created: now, updated: now,
		trustRaw: trustPolicy, trust: newTimeline(doc), attached: newTimeline(atts)}
	acct.roles[strings.ToLower(name)] = r
	return r, nil
}

// Attach attaches more policies to the user, effective at once.
func (u *User) Attach(policies ...string) error {
	return u.Account.attachNow("user", u.Name, policies, func(a *account) *timeline[[]attachment] {
		if usr := a.users[strings.ToLower(u.Name)]; usr != nil {
			return &usr.attached
		}
		return nil
	})
}

// Attach attaches more policies to the role, effective at once.
func (r *Role) Attach(policies ...string) error {
	return r.Account.attachNow("role", r.Name, policies, func(a *account) *timeline[[]attachment] {
		if rl := a.roles[strings.ToLower(r.Name)]; rl != nil {
			return &rl.attached
		}
		return nil
	})
}

// attachNow attaches policies to the user or role (kind) name, which
// find looks up in the account's state.
func (a *Account) attachNow(kind, name string, policies []string, find func(*account) *timeline[[]attachment]) error {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	acct := a.state()
	if acct == nil {
		return errForeign
	}
	tl := find(acct)
	if tl == nil {
		return fmt.Errorf("fakecloud: %s %q no longer exists", kind, name)
	}
	atts, err := c.attachMore(acct, tl.latest(), policies)
	if err != nil {
		return err
	}
	tl.reset(atts)
	return nil
}

func (c *Cloud) attachMore(acct *account, have []attachment, names []string) ([]attachment, error) {
	more, err := c.resolvePolicies(acct, names)
	if err != nil {
		return nil, err
	}
	out := append([]attachment{}, have...)
	for _, m := range more {
		for _, h := range have {
			if h.policy == m.policy {
				return nil, fmt.Errorf("fakecloud: policy %q is already attached", m.policy.name)
			}
		}
		out = append(out, m)
	}
	return out, nil
}
