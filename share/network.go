package share

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
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

// NetworkPath is how a recipient's workloads reach the key.
type NetworkPath string

// The network paths.
const (
	// NetworkInternet is the shared gateway (kms.<region>.aliyuncs.com)
	// over the Internet: the instance's owner must turn on Internet access
	// for the recipient's account in the console. The default.
	NetworkInternet NetworkPath = "internet"
	// NetworkVPC is the shared gateway from a VPC
	// (kms-vpc.<region>.aliyuncs.com): nothing to set up.
	NetworkVPC NetworkPath = "vpc"
	// NetworkDedicated is the instance's dedicated gateway from a VPC of
	// the recipient, which must be bound to the instance
	// (UpdateKmsInstanceBindVpc, planned and applied by this package); it
	// costs a unit of the instance's access management quota.
	NetworkDedicated NetworkPath = "dedicated"
)

// Network is a recipient's network path to the key.
type Network struct {
	Path NetworkPath `json:"path,omitempty"` // "" means NetworkInternet
	// VPC is the recipient's VPC (vpc-…): required for NetworkDedicated,
	// optional for NetworkVPC.
	VPC string `json:"vpc,omitempty"`
	// VSwitch is a vSwitch of VPC (vsw-…), which the binding names:
	// required for NetworkDedicated. A VPC of another account than the
	// instance's can be bound only once the vSwitch is shared with the
	// instance's owner through Resource Sharing (not checked here).
	VSwitch string `json:"vswitch,omitempty"`
}

func (n *Network) path() NetworkPath {
	if n == nil || n.Path == "" {
		return NetworkInternet
	}
	return n.Path
}

// validateNetwork reports what is wrong with a recipient's network path.
func validateNetwork(n *Network) (field, value, reason string) {
	if n == nil {
		return "", "", ""
	}
	switch n.path() {
	case NetworkInternet:
		if n.VPC != "" || n.VSwitch != "" {
			return "network.vpc", n.VPC, "the internet path takes no VPC"
		}
	case NetworkVPC:
		if n.VPC != "" && !validID(n.VPC, "vpc-") {
			return "network.vpc", n.VPC, "want a VPC ID, vpc-…"
		}
		if n.VSwitch != "" {
			return "network.vswitch", n.VSwitch, "only the dedicated path binds a vSwitch"
		}
	case NetworkDedicated:
		if !validID(n.VPC, "vpc-") {
			return "network.vpc", n.VPC, "the dedicated path needs the recipient's VPC ID, vpc-…"
		}
		if !validID(n.VSwitch, "vsw-") {
			return "network.vswitch", n.VSwitch, "the dedicated path needs a vSwitch ID of the VPC, vsw-…"
		}
	default:
		return "network.path", string(n.Path), `unknown network path; want "internet", "vpc" or "dedicated"`
	}
	return "", "", ""
}

// validID checks a VPC or vSwitch ID: the prefix, then letters and digits.
func validID(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || rest == "" || len(id) > 64 {
		return false
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// NetworkTarget is where Verify's cryptographic calls as a recipient go.
type NetworkTarget struct {
	Account    string      // the recipient's account (the VPC's owner)
	Path       NetworkPath // never ""
	VPC        string      // the recipient's VPC, if any
	InstanceID string      // the key's KMS instance
	Region     string
	CA         string // the instance CA (PEM) for NetworkDedicated, if known
}

// DefaultNetworkConfig points an SDK configuration at the target's gateway
// on real Alibaba Cloud: the shared gateway's VPC endpoint, or the
// instance's dedicated gateway with its CA. The process must run where the
// path starts (in the VPC) for the calls to get through.
func DefaultNetworkConfig(t NetworkTarget, cfg *openapi.Config) {
	switch t.Path {
	case NetworkVPC:
		cfg.Endpoint = tea.String("kms-vpc." + t.Region + ".aliyuncs.com")
	case NetworkDedicated:
		cfg.Endpoint = tea.String(t.InstanceID + ".cryptoservice.kms.aliyuncs.com")
		if t.CA != "" {
			cfg.Ca = tea.String(t.CA)
		}
	}
}

// Outcome and error of a refused network path.
const (
	// OutcomeNetworkRefused: the recipient's network path does not reach
	// the key (Internet access off for its account, or its VPC not bound
	// for the dedicated gateway). Detail says how to fix it. Waiting does
	// not change it.
	OutcomeNetworkRefused Outcome = "network-refused"
)

// ErrNetworkRefused matches a *VerifyError with an OutcomeNetworkRefused.
var ErrNetworkRefused = errors.New("share: the key is not reachable on the recipient's network path")

// ErrNetwork is the failure class of a refused network path (see
// OutcomeNetworkRefused).
var ErrNetwork = cloudapi.ErrNetwork

// networkFix says, for people, how to open the recipient's path.
func networkFix(r Recipient, t NetworkTarget, err error) string {
	switch t.Path {
	case NetworkDedicated:
		return fmt.Sprintf("%s cannot reach the dedicated gateway of %s from %s: bind the VPC to the instance "+
			"(apply this spec; the VPC's vSwitch %s must be shared with the key owner through Resource Sharing first) "+
			"or use the shared gateway", r.PrincipalARN(), t.InstanceID, t.VPC, r.Network.VSwitch)
	case NetworkVPC:
		return fmt.Sprintf("%s cannot reach the key from its VPC: %v", r.PrincipalARN(), err)
	}
	return fmt.Sprintf("KMS refuses calls on keys of instance %s over the Internet from account %s: the key owner must turn on "+
		"Internet access for that account in the KMS console (Instances, %s, Internet access; there is no API for it), "+
		"or the recipient's workloads must call from a VPC", t.InstanceID, r.Account, t.InstanceID)
}

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
		adapt = DefaultNetworkConfig
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

// checkNetworkPlan refuses VPC bindings a plan could not have made for its
// spec: each must be a dedicated-path recipient's VPC.
func checkNetworkPlan(p *Plan) []SpecProblem {
	if p.Network == nil {
		return nil
	}
	var ps []SpecProblem
	for i, v := range p.Network.Bind {
		ok := slices.ContainsFunc(p.Spec.Recipients, func(r Recipient) bool {
			return r.Network.path() == NetworkDedicated && r.Network.VPC == v.VPC && r.Network.VSwitch == v.VSwitch && r.Account == v.Owner
		})
		if !ok {
			ps = append(ps, SpecProblem{Field: fmt.Sprintf("plan.network.bind[%d]", i), Value: v.VPC,
				Reason: "is not the VPC of a recipient with the dedicated network path"})
		}
	}
	if p.Network.InstanceID != p.Key.InstanceID {
		ps = append(ps, SpecProblem{Field: "plan.network.instanceId", Value: p.Network.InstanceID, Reason: "is not the key's instance " + p.Key.InstanceID})
	}
	return ps
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

// probeNetwork makes one cryptographic call over the recipient's path and
// returns its error if the path refuses it (ErrNetwork); any other answer,
// a permission refusal included, says the path is open.
func probeNetwork(ctx context.Context, crypto *alicloud.Clients, key arn.ARN) error {
	dk, err := crypto.KMS.GenerateDataKey(ctx, key.String(), verifyContext())
	clear(dk.Plaintext)
	if errors.Is(err, cloudapi.ErrNetwork) {
		return err
	}
	return nil
}
