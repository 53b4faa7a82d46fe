package share

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/policy"
)

// QuotaInfo is the key's KMS instance's access management quota: one unit
// per distinct other account any key of the instance is shared with (and
// per bound VPC), so an account another key already shares with costs
// nothing more (kms.md §9).
type QuotaInfo struct {
	Limit       int64    `json:"limit"`
	Used        int64    `json:"used"`
	NewAccounts []string `json:"newAccounts,omitempty"` // accounts this plan adds to the key policy
	// AlreadyCounted are the new accounts that other keys of the instance
	// already share with; filled in only when Used plus NewAccounts would
	// exceed Limit and the instance's keys could be listed.
	AlreadyCounted []string `json:"alreadyCounted,omitempty"`
}

// checkQuota checks that the instance's access management quota has room
// for the accounts the plan adds. The quota counts distinct accounts across
// all keys of the instance, so when the simple sum (used plus new) is too
// high, the accounts the instance's other keys already share with are
// counted: only a true excess is a problem, and if they cannot be counted
// the plan only warns, since SetKeyPolicy enforces the quota anyway.
func (c *Client) checkQuota(ctx context.Context, owner *alicloud.Clients, key arn.ARN, p *Plan) {
	newAccounts := newForeignAccounts(p.KeyPolicy.Current, p.KeyPolicy.Desired, key.AccountID)
	if len(newAccounts) == 0 || p.Key.InstanceID == "" || c.opts.SkipQuotaCheck {
		return
	}
	q, err := owner.KMS.AccessQuota(ctx, p.Key.InstanceID)
	if err != nil {
		c.emit(ctx, Event{Phase: "plan", Account: key.AccountID, Message: "could not read the instance's access quota; SetKeyPolicy will check it", Err: err})
		return
	}
	p.Quota = &QuotaInfo{Limit: q.Limit, Used: q.Used, NewAccounts: newAccounts}
	n := int64(len(newAccounts))
	if q.Used+n <= q.Limit {
		return
	}
	exceeded := func(cost int64, why string) {
		p.Problems = append(p.Problems, Problem{Code: ProblemQuota, Account: key.AccountID, Message: fmt.Sprintf(
			"instance %s's access management quota is %d and %d is used; sharing with %d more account(s) would exceed it (%s)",
			p.Key.InstanceID, q.Limit, q.Used, cost, why)})
	}
	// At most the units that this key's own accounts do not explain can
	// belong to accounts of other keys (or to VPCs, or to accounts released
	// moments ago): if even that many new accounts cost nothing, and the
	// rest is still too much, no listing can change the answer.
	free := max(0, q.Used-int64(len(policy.ForeignAccounts(p.KeyPolicy.Current, key.AccountID))))
	if least := max(0, n-free); q.Used+least > q.Limit {
		exceeded(least, "even if other keys of the instance already share with some of them")
		return
	}
	counted, err := c.sharedByOtherKeys(ctx, owner, key, p.Key.InstanceID)
	if err != nil {
		msg := fmt.Sprintf("instance %s's access management quota is %d and %d is used, which leaves room for %d new account(s) only if "+
			"other keys of the instance already share with the rest; they could not be counted, so SetKeyPolicy will decide "+
			"(Rejected.ShareQuotaExceedLimit leaves the key policy unchanged)", p.Key.InstanceID, q.Limit, q.Used, n)
		p.Warnings = append(p.Warnings, Problem{Code: WarningQuotaUnchecked, Account: key.AccountID, Message: msg, Err: err})
		c.emit(ctx, Event{Phase: "plan", Account: key.AccountID, Message: msg, Err: err})
		return
	}
	for _, a := range newAccounts {
		if counted[a] {
			p.Quota.AlreadyCounted = append(p.Quota.AlreadyCounted, a)
		}
	}
	if cost := n - int64(len(p.Quota.AlreadyCounted)); q.Used+cost > q.Limit {
		exceeded(cost, fmt.Sprintf("%d of the %d are already counted through other keys of the instance", len(p.Quota.AlreadyCounted), n))
	}
}

// sharedByOtherKeys returns the other accounts that the keys of instance,
// other than key, share with: ListKeys, then DescribeKey and GetKeyPolicy
// of each key.
func (c *Client) sharedByOtherKeys(ctx context.Context, owner *alicloud.Clients, key arn.ARN, instance string) (map[string]bool, error) {
	return c.sharedByKeysOutside(ctx, owner, instance, key.AccountID, []string{key.String()})
}

// keyAccounts returns the other accounts a key's policy names, if the key
// is in instance (none otherwise).
func (c *Client) keyAccounts(ctx context.Context, owner *alicloud.Clients, id, instance, ownerID string) ([]string, error) {
	meta, err := owner.KMS.DescribeKey(ctx, id)
	if err != nil || meta.InstanceID != instance {
		return nil, err
	}
	d, err := readPolicy(ctx, owner.KMS, id)
	if err != nil {
		return nil, err
	}
	return policy.ForeignAccounts(d, ownerID), nil
}

// newForeignAccounts lists the accounts other than owner that desired names
// and current does not.
func newForeignAccounts(current, desired *policy.Document, owner string) []string {
	have := policy.ForeignAccounts(current, owner)
	var out []string
	for _, a := range policy.ForeignAccounts(desired, owner) {
		if !slices.Contains(have, a) {
			out = append(out, a)
		}
	}
	return out
}

// InstancePlan is a KMS instance's access management quota across the
// manifest's keys in it.
type InstancePlan struct {
	ID     string   `json:"id"`
	Owner  string   `json:"owner"`
	Keys   []string `json:"keys"`
	Limit  int64    `json:"limit"`
	Used   int64    `json:"used"`
	New    []string `json:"new,omitempty"` // accounts the manifest adds to the instance
	Counts []string `json:"alreadyCounted,omitempty"`
	// Fits is how many new accounts the quota still admits.
	Fits int64 `json:"fits"`
}

// planInstances counts each KMS instance's access management quota across
// the manifest's keys in it: the accounts the manifest adds to the
// instance (an account any of its keys already names costs nothing), then,
// only if that looks too much, the accounts the instance's other keys
// already share with. An overrun is a problem naming the keys and how many
// accounts fit.
func (c *Client) planInstances(ctx context.Context, p *OrgPlan) {
	type group struct {
		owner         string
		keys          []int
		have, desired map[string]bool
	}
	groups := map[string]*group{}
	var ids []string
	for i, kp := range p.Keys {
		if kp.Key.InstanceID == "" || kp.KeyPolicy.Current == nil {
			continue
		}
		g := groups[kp.Key.InstanceID]
		if g == nil {
			g = &group{owner: kp.Key.Owner, have: map[string]bool{}, desired: map[string]bool{}}
			groups[kp.Key.InstanceID] = g
			ids = append(ids, kp.Key.InstanceID)
		}
		g.keys = append(g.keys, i)
		principalAccounts(kp.KeyPolicy.Current, kp.Key.Owner, g.have)
		principalAccounts(kp.KeyPolicy.Desired, kp.Key.Owner, g.desired)
	}
	sort.Strings(ids)
	p.Instances = make([]InstancePlan, len(ids))
	var mu sync.Mutex
	parallel(ctx, c.opts.Concurrency, len(ids), func(n int) {
		id := ids[n]
		g := groups[id]
		ip := InstancePlan{ID: id, Owner: g.owner}
		for _, i := range g.keys {
			ip.Keys = append(ip.Keys, p.Keys[i].Key.ARN)
		}
		for a := range g.desired {
			if !g.have[a] {
				ip.New = append(ip.New, a)
			}
		}
		sort.Strings(ip.New)
		warn := func(msg string, err error) {
			mu.Lock()
			p.Warnings = append(p.Warnings, Problem{Code: WarningQuotaUnchecked, Account: g.owner, Message: msg, Err: err})
			mu.Unlock()
		}
		defer func() { p.Instances[n] = ip }()
		if len(ip.New) == 0 || c.opts.SkipQuotaCheck {
			return
		}
		owner, err := c.account(ctx, g.owner, "")
		if err != nil {
			warn("cannot read instance "+id+"'s access quota; SetKeyPolicy will check it", err)
			return
		}
		q, err := owner.KMS.AccessQuota(ctx, id)
		if err != nil {
			warn("cannot read instance "+id+"'s access quota; SetKeyPolicy will check it", err)
			return
		}
		ip.Limit, ip.Used = q.Limit, q.Used
		cost := int64(len(ip.New))
		if q.Used+cost > q.Limit {
			// Some new accounts may already count through keys outside the
			// manifest: look only now, since it reads every key.
			counted, err := c.sharedByKeysOutside(ctx, owner, id, g.owner, ip.Keys)
			if err != nil {
				warn(fmt.Sprintf("instance %s's quota is %d, %d used, and the manifest adds %d accounts; keys outside the manifest "+
					"could not be counted, so SetKeyPolicy will decide", id, q.Limit, q.Used, cost), err)
				ip.Fits = max(0, q.Limit-q.Used)
				return
			}
			for _, a := range ip.New {
				if counted[a] {
					ip.Counts = append(ip.Counts, a)
				}
			}
			cost -= int64(len(ip.Counts))
		}
		ip.Fits = max(0, q.Limit-q.Used)
		if q.Used+cost > q.Limit {
			var keys []string
			for _, i := range g.keys {
				if len(newForeignAccounts(p.Keys[i].KeyPolicy.Current, p.Keys[i].KeyPolicy.Desired, g.owner)) > 0 {
					keys = append(keys, p.Keys[i].Key.ARN)
				}
			}
			mu.Lock()
			p.Problems = append(p.Problems, Problem{Code: ProblemQuota, Account: g.owner, Message: fmt.Sprintf(
				"instance %s's access management quota is %d and %d is used; keys %s would add %d more account(s), "+
					"but only %d fit (raise the quota or select fewer accounts)",
				id, q.Limit, q.Used, strings.Join(keys, ", "), cost, ip.Fits)})
			mu.Unlock()
		}
	})
}

// sharedByKeysOutside returns the other accounts that the instance's keys
// outside skip share with.
func (c *Client) sharedByKeysOutside(ctx context.Context, owner *alicloud.Clients, instance, ownerID string, skip []string) (map[string]bool, error) {
	ids, err := owner.KMS.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("share: list the keys of account %s: %w", ownerID, err)
	}
	skipIDs := map[string]bool{}
	for _, s := range skip {
		if a, err := arn.Parse(s); err == nil {
			skipIDs[a.ResourceName()] = true
		}
	}
	var mu sync.Mutex
	out := map[string]bool{}
	var firstErr error
	parallel(ctx, c.opts.Concurrency, len(ids), func(i int) {
		id := ids[i]
		if a, err := arn.Parse(id); err == nil {
			id = a.ResourceName()
		}
		if skipIDs[id] {
			return
		}
		accounts, err := c.keyAccounts(ctx, owner, id, instance, ownerID)
		mu.Lock()
		defer mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("share: read key %s: %w", id, err)
		}
		for _, a := range accounts {
			out[a] = true
		}
	})
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// principalAccounts adds to into the accounts other than owner that count
// against the access quota (policy.ForeignAccounts, which reads the
// statements directly: a policy of hundreds of principals has thousands
// of grants).
func principalAccounts(d *policy.Document, owner string, into map[string]bool) {
	for _, a := range policy.ForeignAccounts(d, owner) {
		into[a] = true
	}
}
