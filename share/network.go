package share

import (
	"context"
	"fmt"
	"slices"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
)

// Network paths (corrections.md §2). Keys in a KMS instance answer
// cryptographic calls from a VPC by default: over the Internet only if the
// instance's owner turned Internet access on for the caller's account in
// the console (there is no API for it). Management calls go through the
// shared gateway from anywhere. The dedicated gateway
// (<kst-id>.cryptoservice.kms.aliyuncs.com) serves cryptographic calls to
// the instance's own VPC and the VPCs bound to it, and resolves nowhere
// else ("no such host"). A recipient says how its workloads reach the key
// (Recipient.Network); Plan reports what that path still needs, Apply binds
// VPCs, and Verify makes its calls over the path.

// target is the network target of recipient r for key.
func (c *Client) target(ctx context.Context, key arn.ARN, r Recipient) (NetworkTarget, error) {
	t := NetworkTarget{Account: r.Account, Path: r.Network.path(), Region: key.Region}
	if r.Network != nil {
		t.VPC = r.Network.VPC
	}
	if t.Path != NetworkDedicated && c.opts.NetworkConfig == nil {
		return t, nil // nothing depends on the instance
	}
	c.mu.Lock()
	known, ok := c.targets[key.String()]
	c.mu.Unlock()
	if ok {
		t.InstanceID, t.CA = known.InstanceID, known.CA
		return t, nil
	}
	owner, err := c.account(ctx, key.AccountID, "")
	if err != nil {
		return t, err
	}
	meta, err := owner.KMS.DescribeKey(ctx, key.String())
	if err != nil {
		return t, err
	}
	t.InstanceID = meta.InstanceID
	if t.Path == NetworkDedicated && t.InstanceID != "" {
		inst, err := owner.KMS.GetKmsInstance(ctx, t.InstanceID)
		if err != nil {
			return t, err
		}
		t.CA = inst.CA
	}
	if t.Path == NetworkDedicated || t.InstanceID == "" {
		c.mu.Lock()
		c.targets[key.String()] = NetworkTarget{InstanceID: t.InstanceID, CA: t.CA}
		c.mu.Unlock()
	}
	return t, nil
}

// onPath returns clients of the session whose KMS calls go over t. The
// Internet path without an Options.NetworkConfig is the session itself.
func (c *Client) onPath(s *session, t NetworkTarget) (*alicloud.Clients, error) {
	if t.Path == NetworkInternet && c.opts.NetworkConfig == nil {
		return s.clients, nil
	}
	id := fmt.Sprintf("%s|%s|%s", t.Path, t.VPC, t.InstanceID)
	c.mu.Lock()
	cl := s.paths[id]
	c.mu.Unlock()
	if cl != nil {
		return cl, nil
	}
	adapt := c.opts.NetworkConfig
	if adapt == nil {
		adapt = defaultNetworkConfig
	}
	cl, err := c.factory.WithKMS(func(cfg *openapi.Config) { adapt(t, cfg) }).With(s.creds)
	if err != nil {
		return nil, fmt.Errorf("share: clients for the %s path: %w", t.Path, err)
	}
	c.mu.Lock()
	if s.paths == nil {
		s.paths = map[string]*alicloud.Clients{}
	}
	s.paths[id] = cl
	c.mu.Unlock()
	return cl, nil
}

// ---- Plan and Apply ----

// NetworkPlan is what the recipients' network paths need on the owner's
// side.
type NetworkPlan struct {
	InstanceID string `json:"instanceId"`
	// Bind are the recipients' VPCs the dedicated path needs bound to the
	// instance, not bound yet. Apply adds them to the bound list with a
	// confirmed read-modify-write (UpdateKmsInstanceBindVpc replaces the
	// whole list).
	Bind []alicloud.BoundVPC `json:"bind,omitempty"`
	// Manual are steps only the key's owner can take, in the console.
	Manual []string `json:"manual,omitempty"`
}

// planNetwork reads the instance and records what the recipients' paths
// need; with VPCs to bind, it checks the quota that VPCs and accounts
// share.
func (c *Client) planNetwork(ctx context.Context, owner *alicloud.Clients, key arn.ARN, p *Plan) error {
	if p.Key.InstanceID == "" {
		return nil
	}
	var dedicated, internet []Recipient
	for _, r := range p.Spec.Recipients {
		switch r.Network.path() {
		case NetworkDedicated:
			dedicated = append(dedicated, r)
		case NetworkInternet:
			if r.Network != nil {
				internet = append(internet, r)
			}
		}
	}
	if len(dedicated) == 0 && len(internet) == 0 {
		return nil
	}
	np := &NetworkPlan{InstanceID: p.Key.InstanceID}
	for _, r := range internet {
		np.Manual = append(np.Manual, fmt.Sprintf(
			"in the KMS console of account %s, turn on Internet access to instance %s for account %s (the API cannot do it, nor tell whether it is on; Verify will)",
			key.AccountID, p.Key.InstanceID, r.Account))
	}
	if len(dedicated) > 0 {
		inst, err := owner.KMS.GetKmsInstance(ctx, p.Key.InstanceID)
		if err != nil {
			return fmt.Errorf("share: read KMS instance %s: %w", p.Key.InstanceID, err)
		}
		np.Bind = missingBindings(inst, key.Region, dedicated)
	}
	p.Network = np
	if len(np.Bind) == 0 || c.opts.SkipQuotaCheck || slices.ContainsFunc(p.Problems, func(pr Problem) bool { return pr.Code == ProblemQuota }) {
		return nil
	}
	q, err := owner.KMS.AccessQuota(ctx, p.Key.InstanceID)
	if err != nil {
		c.emit(ctx, Event{Phase: "plan", Account: key.AccountID, Message: "could not read the instance's access quota; UpdateKmsInstanceBindVpc will check it", Err: err})
		return nil
	}
	accounts := 0
	if p.Quota != nil {
		accounts = len(p.Quota.NewAccounts) - len(p.Quota.AlreadyCounted)
	}
	if need := q.Used + int64(accounts) + int64(len(np.Bind)); need > q.Limit {
		p.Problems = append(p.Problems, Problem{Code: ProblemQuota, Account: key.AccountID, Message: fmt.Sprintf(
			"instance %s's access management quota is %d and %d is used; %d more account(s) and %d VPC binding(s) need %d (accounts and VPCs share the quota)",
			p.Key.InstanceID, q.Limit, q.Used, accounts, len(np.Bind), need)})
	}
	return nil
}

// missingBindings lists the dedicated-path VPCs inst has no binding for.
func missingBindings(inst alicloud.Instance, region string, rs []Recipient) []alicloud.BoundVPC {
	var out []alicloud.BoundVPC
	for _, r := range rs {
		v := alicloud.BoundVPC{VPC: r.Network.VPC, VSwitch: r.Network.VSwitch, Region: region, Owner: r.Account}
		if v.VPC == inst.VPC || slices.ContainsFunc(inst.Bound, func(b alicloud.BoundVPC) bool { return b.VPC == v.VPC }) ||
			slices.ContainsFunc(out, func(b alicloud.BoundVPC) bool { return b.VPC == v.VPC }) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// NetworkResult is what Apply did for the network plan.
type NetworkResult struct {
	Status Status   `json:"status"`
	Bound  []string `json:"bound,omitempty"` // the VPCs now bound
	Writes int      `json:"writes"`
	Error  string   `json:"error,omitempty"`
	err    error
}

// bindVPCs adds vpcs to the instance's bound VPCs with read-modify-write,
// confirmed by reading back after the settle delay, like the key policy
// (the API replaces the whole list and has no revision check).
func (c *Client) bindVPCs(ctx context.Context, owner *alicloud.Clients, account, instanceID string, vpcs []alicloud.BoundVPC) NetworkResult {
	l := c.keyLock("instance:" + instanceID)
	l.Lock()
	defer l.Unlock()
	var res NetworkResult
	fail := func(err error) NetworkResult {
		res.Status, res.err, res.Error = StatusFailed, err, err.Error()
		c.emit(ctx, Event{Phase: "apply", Account: account, Message: "VPC bindings of " + instanceID + " not changed", Err: err})
		return res
	}
	missing := func() ([]alicloud.BoundVPC, []alicloud.BoundVPC, error) {
		inst, err := owner.KMS.GetKmsInstance(ctx, instanceID)
		if err != nil {
			return nil, nil, err
		}
		var add []alicloud.BoundVPC
		for _, v := range vpcs {
			if v.VPC != inst.VPC && !slices.ContainsFunc(inst.Bound, func(b alicloud.BoundVPC) bool { return b.VPC == v.VPC }) {
				add = append(add, v)
			}
		}
		return inst.Bound, add, nil
	}
	failures := 0
	for round := 0; ; round++ {
		have, add, err := missing()
		if err != nil {
			return fail(err)
		}
		if len(add) == 0 {
			if res.Writes == 0 {
				res.Status = StatusAlreadyDone
			} else {
				res.Status = StatusDone
			}
			for _, v := range vpcs {
				res.Bound = append(res.Bound, v.VPC)
			}
			if res.Writes > 0 {
				c.emit(ctx, Event{Phase: "apply", Account: account, Message: fmt.Sprintf("VPC bindings of %s confirmed after %d write(s)", instanceID, res.Writes)})
			}
			return res
		}
		if round >= c.opts.KeyPolicyAttempts {
			return fail(fmt.Errorf("%w: the VPC bindings of %s (%d rounds)", ErrLostUpdate, instanceID, round))
		}
		res.Writes++
		err = owner.KMS.UpdateKmsInstanceBindVpc(ctx, instanceID, append(slices.Clone(have), add...))
		if err != nil {
			failures++
			if c.opts.Retry.Check == nil || !c.opts.Retry.Check(err) || failures >= c.opts.Retry.MaxAttempts {
				return fail(err)
			}
			if serr := c.opts.Retry.Sleep(ctx, c.opts.Retry.Backoff(failures)); serr != nil {
				return fail(err)
			}
			continue
		}
		failures = 0
		names := make([]string, len(add))
		for i, v := range add {
			names[i] = v.VPC
		}
		c.emit(ctx, Event{Phase: "apply", Account: account, Message: fmt.Sprintf("bound %s to %s; confirming", strings.Join(names, ", "), instanceID)})
		// Read back after the settle delay: a writer that read the list
		// before this write and saves after it shows up here.
		if err := c.opts.Clock.Sleep(ctx, settleDelay(c.opts.SettleDelay, 0, c.jitter())); err != nil {
			return fail(err)
		}
	}
}

// networkText renders the network plan for Plan.String.
func (np *NetworkPlan) text() string {
	if np == nil || (len(np.Bind) == 0 && len(np.Manual) == 0) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Network (instance %s):\n", np.InstanceID)
	for _, v := range np.Bind {
		fmt.Fprintf(&b, "  bind %s (vSwitch %s, account %s) for the dedicated gateway\n", v.VPC, v.VSwitch, v.Owner)
	}
	for _, m := range np.Manual {
		fmt.Fprintf(&b, "  MANUAL %s\n", m)
	}
	return b.String()
}
