package findings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/policy"
)

// Target says what to scan.
type Target struct {
	Accounts []string // UIDs of the accounts whose keys are scanned
	Regions  []string // regions to scan in each account
	// TrustFolder, if set, is the folder (fd-…, or the root r-…) whose
	// members, at any depth, may be shared with: others are reported.
	TrustFolder string
}

// Options tune a scan. The zero value is usable.
type Options struct {
	// Concurrency bounds the calls in flight. Default 8.
	Concurrency int
	// AccessRole is the role assumed in scanned accounts and in recipient
	// member accounts other than the caller's own. Default
	// ResourceDirectoryAccountAccessRole.
	AccessRole string
	// Accept suppresses accepted findings (see ReadAcceptances).
	Accept []Acceptance
	// Progress, if set, receives an event per step; it is called from
	// several goroutines, one event at a time.
	Progress func(Event)
	// Rand draws the jitter of the scan's retry backoff: a uniformly random
	// int64 in [0, n). Seed it for runs that wait the same on every run,
	// e.g. rand.New(rand.NewPCG(1, 2)).Int64N from math/rand/v2; the scan
	// calls it under a lock. nil means a source seeded from crypto/rand.
	Rand func(n int64) int64

	retry cloudapi.Retry // tests only; zero means cloudapi.DefaultRetry
}

// Event reports the scan's progress.
type Event struct {
	Phase   string `json:"phase"` // "directory", "keys", "key", "principal"
	Subject string `json:"subject,omitempty"`
	Done    int    `json:"done"`
	Total   int    `json:"total"`
}

// Scan reads every key in KMS instances of the target accounts and regions
// (ListKeys, DescribeKey, GetKeyPolicy, GetKmsInstance), places every
// recipient account in the Resource Directory, reads the RAM side of every
// recipient role and user where it may assume opts.AccessRole, and returns
// the findings. It only reads. config returns the SDK configuration of the
// scanning identity for a region; the identity must be able to read the
// Resource Directory (its management account, or a delegated
// administrator) and assume the access role of the scanned accounts.
//
// Calls: per account and region one ListKeys page per 100 keys; per key
// DescribeKey and GetKeyPolicy; per instance GetKmsInstance; per account
// other than the caller's one AssumeRole; per recipient role or user
// GetRole or GetUser and ListPoliciesForRole or ListPoliciesForUser; per
// distinct attached policy GetPolicy; and the directory listings once.
//
// When a part cannot be read the scan goes on: the report lists it in
// Problems and the error is an *IncompleteError. Bad input is an ErrInvalid
// error before any call.
func Scan(ctx context.Context, config func(region string) *openapi.Config, t Target, opts Options) (*Report, error) {
	t, err := t.normalize()
	if err != nil {
		return nil, err
	}
	for i, a := range opts.Accept {
		if err := a.validate(); err != nil {
			return nil, fmt.Errorf("%w: acceptance %d: %v", ErrInvalid, i, err)
		}
	}
	if config == nil {
		return nil, fmt.Errorf("%w: no SDK configuration", ErrInvalid)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.AccessRole == "" {
		opts.AccessRole = arn.ResourceDirectoryAccessRoleName
	} else if err := arn.ValidateRoleName(opts.AccessRole); err != nil {
		return nil, fmt.Errorf("%w: access role: %v", ErrInvalid, err)
	}
	if opts.retry.MaxAttempts == 0 {
		opts.retry = cloudapi.DefaultRetry()
		if opts.Rand != nil {
			opts.retry.Backoff = cloudapi.DefaultBackoff(cloudapi.Locked(opts.Rand))
		}
	}
	s := &scan{opts: opts, factories: map[string]alicloud.Factory{}, home: t.Regions[0]}
	for _, r := range t.Regions {
		cfg := config(r)
		if cfg == nil {
			return nil, fmt.Errorf("%w: no SDK configuration for region %s", ErrInvalid, r)
		}
		s.factories[r] = alicloud.FactoryFromConfig(cfg, opts.retry)
	}
	rep := &Report{Accounts: t.Accounts, Regions: t.Regions, TrustFolder: t.TrustFolder}
	if err := s.start(ctx, rep); err != nil {
		return nil, err
	}
	if t.TrustFolder != "" && !slices.ContainsFunc(rep.Folders, func(f Folder) bool { return f.ID == t.TrustFolder }) {
		return nil, fmt.Errorf("%w: trust folder %s is not a folder of directory %s", ErrInvalid, t.TrustFolder, rep.Directory)
	}
	if err := s.readKeys(ctx, rep, t); err != nil {
		return nil, err
	}
	s.place(rep)
	s.readPrincipals(ctx, rep)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	all := analyze(rep)
	rep.Findings, rep.Accepted, rep.UnusedAcceptances = accept(all, opts.Accept)
	if rep.Findings == nil {
		rep.Findings = []Finding{} // "findings": [] in JSON, not null
	}
	sortFindings(rep.Findings)
	sortFindings(rep.Accepted)
	slices.SortFunc(rep.Problems, func(a, b Problem) int { return strings.Compare(a.Subject, b.Subject) })
	if len(rep.Problems) > 0 {
		return rep, &IncompleteError{Problems: rep.Problems}
	}
	return rep, nil
}

func (t Target) normalize() (Target, error) {
	if len(t.Accounts) == 0 {
		return t, fmt.Errorf("%w: no accounts to scan", ErrInvalid)
	}
	if len(t.Regions) == 0 {
		return t, fmt.Errorf("%w: no regions to scan", ErrInvalid)
	}
	for _, a := range t.Accounts {
		if err := arn.ValidateAccountID(a); err != nil {
			return t, fmt.Errorf("%w: account: %v", ErrInvalid, err)
		}
	}
	for _, r := range t.Regions {
		if !validRegion(r) {
			return t, fmt.Errorf("%w: region %q is not a region ID such as cn-hangzhou", ErrInvalid, r)
		}
	}
	if f := t.TrustFolder; f != "" && !strings.HasPrefix(f, "fd-") && !strings.HasPrefix(f, "r-") {
		return t, fmt.Errorf("%w: trust folder %q is not a folder ID (fd-…) or the root (r-…)", ErrInvalid, f)
	}
	t.Accounts = slices.Compact(slices.Sorted(slices.Values(t.Accounts)))
	t.Regions = slices.Compact(slices.Sorted(slices.Values(t.Regions)))
	return t, nil
}

func validRegion(r string) bool {
	if r == "" || !strings.Contains(r, "-") || r[0] == '-' || r[len(r)-1] == '-' {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// scan is the state of one Scan.
type scan struct {
	opts      Options
	factories map[string]alicloud.Factory
	home      string // the region used for global services
	caller    string // the scanning identity's account

	progressMu sync.Mutex
	sessions   memo[string, *alicloud.Credentials] // account → credentials (nil: the caller's own)
	clients    memo[string, *alicloud.Clients]     // account + "/" + region
	instances  memo[string, alicloud.Instance]     // account/region/instance
	policies   memo[string, *policy.Document]      // account/type/name

	members map[string]alicloud.Member
}

func (s *scan) progress(ev Event) {
	if s.opts.Progress == nil {
		return
	}
	s.progressMu.Lock()
	defer s.progressMu.Unlock()
	s.opts.Progress(ev)
}

// start reads the caller's identity and the directory.
func (s *scan) start(ctx context.Context, rep *Report) error {
	base, err := s.factories[s.home].Base()
	if err != nil {
		return err
	}
	id, err := base.STS.GetCallerIdentity(ctx)
	if err != nil {
		return fmt.Errorf("reading the caller's identity: %w", err)
	}
	s.caller = id.AccountID
	dir, err := s.factories[s.home].Directory()
	if err != nil {
		return err
	}
	info, err := dir.GetResourceDirectory(ctx)
	if err != nil {
		return fmt.Errorf("reading the Resource Directory: %w", err)
	}
	rep.Directory, rep.RootFolder = info.ID, info.RootFolderID
	members, err := dir.ListAccounts(ctx)
	if err != nil {
		return fmt.Errorf("listing the Resource Directory's accounts: %w", err)
	}
	s.members = map[string]alicloud.Member{}
	for _, m := range members {
		s.members[m.AccountID] = m
	}
	rep.Folders = []Folder{{ID: info.RootFolderID, Name: "Root"}}
	for queue := []string{info.RootFolderID}; len(queue) > 0; queue = queue[1:] {
		sub, err := dir.ListFoldersForParent(ctx, queue[0])
		if err != nil {
			return fmt.Errorf("listing the folders of %s: %w", queue[0], err)
		}
		for _, f := range sub {
			rep.Folders = append(rep.Folders, Folder{ID: f.ID, Name: f.Name, Parent: queue[0]})
			queue = append(queue, f.ID)
		}
	}
	slices.SortFunc(rep.Folders, func(a, b Folder) int { return strings.Compare(a.ID, b.ID) })
	s.progress(Event{Phase: "directory", Subject: info.ID, Done: len(members), Total: len(members)})
	return nil
}

// session returns credentials for account: nil for the caller's own, else
// the access role's.
func (s *scan) session(ctx context.Context, account string) (*alicloud.Credentials, error) {
	return s.sessions.get(account, func() (*alicloud.Credentials, error) {
		if account == s.caller {
			return nil, nil
		}
		base, err := s.clientsFor(ctx, s.caller, s.home)
		if err != nil {
			return nil, err
		}
		out, err := base.STS.AssumeRole(ctx, alicloud.AssumeRoleInput{
			RoleARN: arn.RAMRole(account, s.opts.AccessRole).String(), SessionName: "kmsshare-findings"})
		if err != nil {
			return nil, fmt.Errorf("assuming %s in %s: %w", s.opts.AccessRole, account, err)
		}
		return &out.Credentials, nil
	})
}

func (s *scan) clientsFor(ctx context.Context, account, region string) (*alicloud.Clients, error) {
	return s.clients.get(account+"/"+region, func() (*alicloud.Clients, error) {
		if account == s.caller {
			return s.factories[region].Base()
		}
		creds, err := s.session(ctx, account)
		if err != nil {
			return nil, err
		}
		return s.factories[region].With(*creds)
	})
}

type keyRef struct{ account, region, arn string }

// readKeys lists and reads every key.
func (s *scan) readKeys(ctx context.Context, rep *Report, t Target) error {
	var refs []keyRef
	for _, a := range t.Accounts {
		for _, r := range t.Regions {
			c, err := s.clientsFor(ctx, a, r)
			if err != nil {
				rep.Problems = append(rep.Problems, Problem{Subject: a + " " + r, Error: err.Error()})
				continue
			}
			arns, err := c.KMS.ListKeys(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				rep.Problems = append(rep.Problems, Problem{Subject: a + " " + r, Error: "ListKeys: " + err.Error()})
				continue
			}
			for _, k := range arns {
				refs = append(refs, keyRef{a, r, k})
			}
		}
	}
	s.progress(Event{Phase: "keys", Done: 0, Total: len(refs)})
	keys := make([]*Key, len(refs))
	problems := make([]*Problem, len(refs))
	var done int
	var mu sync.Mutex
	each(ctx, s.opts.Concurrency, refs, func(ctx context.Context, i int, ref keyRef) {
		k, err := s.readKey(ctx, ref)
		if err != nil {
			problems[i] = &Problem{Subject: ref.arn, Error: err.Error()}
		}
		keys[i] = k
		mu.Lock()
		done++
		n := done
		mu.Unlock()
		s.progress(Event{Phase: "key", Subject: ref.arn, Done: n, Total: len(refs)})
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, k := range keys {
		if problems[i] != nil {
			rep.Problems = append(rep.Problems, *problems[i])
		}
		if k == nil {
			continue
		}
		rep.Keys = append(rep.Keys, *k)
		id := k.Account + "/" + k.Region + "/" + k.Instance
		if seen[id] {
			continue
		}
		seen[id] = true
		inst, err := s.instances.get(id, func() (alicloud.Instance, error) { return alicloud.Instance{}, errors.New("not read") })
		if err != nil {
			continue // reported with the key
		}
		rep.Instances = append(rep.Instances, Instance{ID: inst.ID, Account: k.Account, Region: k.Region, Status: inst.Status,
			AccessQuota: inst.AccessQuota, BoundVPCs: inst.BoundVPCs})
	}
	slices.SortFunc(rep.Keys, func(a, b Key) int { return strings.Compare(a.ARN, b.ARN) })
	slices.SortFunc(rep.Instances, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
	return nil
}

// readKey reads one key; it returns nil for a key outside a KMS instance
// (such keys have no key policy).
func (s *scan) readKey(ctx context.Context, ref keyRef) (*Key, error) {
	c, err := s.clientsFor(ctx, ref.account, ref.region)
	if err != nil {
		return nil, err
	}
	md, err := c.KMS.DescribeKey(ctx, ref.arn)
	if err != nil {
		return nil, fmt.Errorf("DescribeKey: %w", err)
	}
	if md.InstanceID == "" {
		return nil, nil
	}
	k := &Key{ARN: md.ARN, Account: ref.account, Region: ref.region, Instance: md.InstanceID, State: md.State,
		Spec: md.Spec, Origin: md.Origin, AutomaticRotation: md.AutomaticRotation, DeletionProtection: md.DeletionProtection}
	if k.ARN == "" {
		k.ARN = ref.arn
	}
	if _, err := s.instances.get(ref.account+"/"+ref.region+"/"+md.InstanceID, func() (alicloud.Instance, error) {
		return c.KMS.GetKmsInstance(ctx, md.InstanceID)
	}); err != nil {
		return k, fmt.Errorf("GetKmsInstance %s: %w", md.InstanceID, err)
	}
	raw, err := c.KMS.GetKeyPolicy(ctx, md.KeyID)
	if err != nil {
		return k, fmt.Errorf("GetKeyPolicy: %w", err)
	}
	doc, err := policy.Parse([]byte(raw))
	if err != nil {
		return k, fmt.Errorf("the key policy does not parse: %w", err)
	}
	k.policy = doc
	k.Grants = foreignGrants(doc, ref.account)
	return k, nil
}

// foreignGrants lists the RAM principals of other accounts in Allow
// statements.
func foreignGrants(doc *policy.Document, owner string) []Grant {
	var out []Grant
	for i, st := range doc.Statement {
		if st.Effect != policy.Allow || st.Principal == nil {
			continue
		}
		actions := st.Action.Values
		if st.NotAction.IsSet() {
			actions = []string{"every action but " + strings.Join(st.NotAction.Values, ", ")}
		}
		for j, p := range st.Principal.RAM.Values {
			account := principalAccount(p)
			if account == owner || account == "" {
				continue
			}
			out = append(out, Grant{Principal: p, Account: account, Actions: actions,
				Statement: Statement{Index: i, Sid: st.Sid, Pointer: fmt.Sprintf("/Statement/%d/Principal/RAM/%d", i, j)}})
		}
	}
	return out
}

// principalAccount returns the account of a RAM principal, "*" for one
// that admits any account, and "" for an entry that is not a RAM ARN.
func principalAccount(p string) string {
	if p == "*" {
		return "*"
	}
	a, err := arn.ParsePattern(p)
	if err != nil || a.Service != "ram" {
		return ""
	}
	if strings.ContainsAny(a.AccountID, "*?") {
		return "*"
	}
	return a.AccountID
}

// place puts every recipient account in the directory.
func (s *scan) place(rep *Report) {
	seen := map[string]bool{}
	for _, k := range rep.Keys {
		for _, g := range k.Grants {
			if g.Account == "*" || seen[g.Account] {
				continue
			}
			seen[g.Account] = true
			rc := Recipient{Account: g.Account}
			if m, ok := s.members[g.Account]; ok {
				rc.InDirectory, rc.Name, rc.Folder, rc.Path = true, m.DisplayName, m.FolderID, m.Path
				rc.InTrustZone = rep.TrustFolder == "" || slices.Contains(strings.Split(m.Path, "/"), rep.TrustFolder)
			}
			rep.Recipients = append(rep.Recipients, rc)
		}
	}
	slices.SortFunc(rep.Recipients, func(a, b Recipient) int { return strings.Compare(a.Account, b.Account) })
}

// readPrincipals reads the RAM side of every recipient role and user in a
// member account.
func (s *scan) readPrincipals(ctx context.Context, rep *Report) {
	set := map[string]Principal{}
	for _, k := range rep.Keys {
		for _, g := range k.Grants {
			rc, ok := rep.recipient(g.Account)
			if !ok || !rc.InDirectory {
				continue
			}
			a, err := arn.Parse(g.Principal)
			if err != nil || (!a.IsRole() && !a.IsUser()) {
				continue // account-wide or a pattern: no one identity to read
			}
			key := canonicalPrincipal(a)
			if _, ok := set[key]; !ok {
				set[key] = Principal{ARN: key, Account: a.AccountID}
			}
		}
	}
	list := make([]Principal, 0, len(set))
	for _, p := range set {
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b Principal) int { return strings.Compare(a.ARN, b.ARN) })
	var mu sync.Mutex
	done := 0
	each(ctx, s.opts.Concurrency, list, func(ctx context.Context, i int, p Principal) {
		list[i] = s.readPrincipal(ctx, p)
		mu.Lock()
		done++
		n := done
		mu.Unlock()
		s.progress(Event{Phase: "principal", Subject: p.ARN, Done: n, Total: len(list)})
	})
	rep.Principals = list
}

// canonicalPrincipal spells a role or user ARN with its name in lower case,
// as RAM compares them.
func canonicalPrincipal(a arn.ARN) string {
	typ, name, _ := strings.Cut(a.Resource, "/")
	return arn.ARN{Service: "ram", AccountID: a.AccountID, Resource: typ + "/" + strings.ToLower(name)}.String()
}

func (s *scan) readPrincipal(ctx context.Context, p Principal) Principal {
	c, err := s.clientsFor(ctx, p.Account, s.home)
	if err != nil {
		p.Reason = err.Error()
		return p
	}
	a := arn.MustParse(p.ARN)
	name := a.ResourceName()
	var attached []alicloud.Attached
	if a.IsRole() {
		_, err = c.RAM.GetRole(ctx, name)
		if err == nil {
			attached, err = c.RAM.ListPoliciesForRole(ctx, name)
		}
	} else {
		_, err = c.RAM.GetUser(ctx, name)
		if err == nil {
			attached, err = c.RAM.ListPoliciesForUser(ctx, name)
		}
	}
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
		p.Checked = true
		return p
	case err != nil:
		p.Reason = err.Error()
		return p
	}
	p.Checked, p.Exists = true, true
	for _, at := range attached {
		name := at.Type + "/" + at.Name
		doc, err := s.policies.get(p.Account+"/"+name, func() (*policy.Document, error) {
			got, err := c.RAM.GetPolicy(ctx, at.Name, at.Type)
			if err != nil {
				return nil, err
			}
			return policy.Parse([]byte(got.Document))
		})
		if err != nil {
			p.Checked, p.Reason = false, "reading "+name+": "+err.Error()
			return p
		}
		p.Policies = append(p.Policies, name)
		p.docs = append(p.docs, namedDoc{name: name, doc: doc})
	}
	return p
}

// each runs fn on every item, at most n at a time, and waits for all. It
// stops starting new ones when ctx is done.
func each[T any](ctx context.Context, n int, items []T, fn func(ctx context.Context, i int, item T)) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, it := range items {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(ctx, i, it)
		}()
	}
	wg.Wait()
}

// memo computes each key's value once, even when asked concurrently.
type memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*memoEntry[V]
}

type memoEntry[V any] struct {
	done chan struct{}
	v    V
	err  error
}

func (m *memo[K, V]) get(k K, compute func() (V, error)) (V, error) {
	m.mu.Lock()
	if m.m == nil {
		m.m = map[K]*memoEntry[V]{}
	}
	e, ok := m.m[k]
	if !ok {
		e = &memoEntry[V]{done: make(chan struct{})}
		m.m[k] = e
		m.mu.Unlock()
		e.v, e.err = compute()
		close(e.done)
		return e.v, e.err
	}
	m.mu.Unlock()
	<-e.done
	return e.v, e.err
}
