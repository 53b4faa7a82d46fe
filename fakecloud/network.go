package fakecloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// Network paths to keys in a KMS instance (corrections.md §2).
//
// A request comes from the Internet or from a VPC of some account: its
// Origin, set on the transport (ConfigFrom, HTTPClientFrom,
// Server.ConfigFrom). Management calls work from anywhere on the shared
// gateway. Cryptographic calls on keys in an instance are refused from the
// Internet with Forbidden.InternetAccessDisabled (the code is undocumented:
// assumed) when the instance is VPCOnly and its owner has not turned on
// Internet access for the caller's account (Instance.SetInternetAccess; the
// real switch is console-only). From a VPC they work on the shared
// gateway (kms-vpc.<region>.aliyuncs.com). The dedicated gateway
// <kst-id>.cryptoservice.kms.aliyuncs.com (DedicatedEndpoint) resolves only
// from the instance's own VPC and the VPCs bound to it
// (UpdateKmsInstanceBindVpc); from anywhere else the transport fails as DNS
// does ("no such host"), and it serves cryptographic calls only (no
// management call, no ReEncrypt).

// Origin is where a request comes from. The zero value is the Internet.
type Origin struct {
	VPC     string // the VPC ID ("vpc-…"); "" for the Internet
	Account string // the UID of the account that owns the VPC
	IP      string // the caller's address in the VPC; "" means 192.168.0.10
}

// FromVPC is a request from vpcID of account.
func FromVPC(account, vpcID string) Origin { return Origin{VPC: vpcID, Account: account} }

func (o Origin) String() string {
	if o.VPC == "" {
		return "the Internet"
	}
	return o.VPC + " of account " + o.Account
}

// VPC is a VPC bound to a KMS instance.
type VPC struct {
	ID        string // vpc-…
	VSwitchID string // vsw-…; "" means one is made up
	Region    string // "" means the instance's region
	Owner     string // the UID of the VPC's account; "" means the instance's owner
}

// dedicatedSuffix ends the host of every dedicated gateway.
const dedicatedSuffix = ".cryptoservice.kms.aliyuncs.com"

// DedicatedEndpoint is the host of the instance's dedicated gateway.
func DedicatedEndpoint(instanceID string) string { return instanceID + dedicatedSuffix }

// dedicatedInstance returns the instance ID of a dedicated gateway host
// (with or without a port), or "".
func dedicatedInstance(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	id, ok := strings.CutSuffix(strings.ToLower(host), dedicatedSuffix)
	if !ok {
		return ""
	}
	return id
}

// cryptoActions are the KMS operations the dedicated gateway serves and
// the Internet switch governs.
var cryptoActions = map[string]bool{
	"Encrypt": true, "Decrypt": true, "GenerateDataKey": true, "GenerateDataKeyWithoutPlaintext": true,
	"ReEncrypt": true,
}

// originKey carries a request's Origin in its context.
type originKey struct{}

// originHeader carries the Origin over the HTTP transport: the test's
// stand-in for where the packets come from. Nothing signs it.
const originHeader = "X-Fakecloud-Origin"

func withOrigin(r *http.Request, o Origin) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), originKey{}, o))
}

// originOf reads a request's Origin: from the in-process transport's
// context, else the HTTP transport's header ("vpc-id@account[@ip]").
func originOf(r *http.Request) Origin {
	if o, ok := r.Context().Value(originKey{}).(Origin); ok {
		return o
	}
	h := r.Header.Get(originHeader)
	if h == "" {
		return Origin{}
	}
	parts := strings.SplitN(h, "@", 3)
	o := Origin{VPC: parts[0]}
	if len(parts) > 1 {
		o.Account = parts[1]
	}
	if len(parts) > 2 {
		o.IP = parts[2]
	}
	return o
}

func (o Origin) header() string {
	if o.VPC == "" {
		return ""
	}
	h := o.VPC + "@" + o.Account
	if o.IP != "" {
		h += "@" + o.IP
	}
	return h
}

func (o Origin) vpcIP() string {
	if o.IP == "" {
		return "192.168.0.10"
	}
	return o.IP
}

// noSuchHost is what a resolver says for a host it does not know.
func noSuchHost(r *http.Request) error {
	host := r.URL.Hostname()
	return &url.Error{Op: r.Method, URL: r.URL.Scheme + "://" + r.URL.Host + r.URL.Path,
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}}
}

// resolves reports whether host resolves from o: every host does, except
// a dedicated gateway, which resolves only in its instance's VPC and the
// VPCs bound to it.
func (c *Cloud) resolves(host string, o Origin) bool {
	id := dedicatedInstance(host)
	if id == "" {
		return true
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	inst := c.instances[id]
	return inst != nil && inst.reachableFrom(o)
}

// reachableFrom reports whether o is the instance's VPC or one bound to it.
func (inst *instance) reachableFrom(o Origin) bool {
	if o.VPC == "" {
		return false
	}
	if o.VPC == inst.vpc && (o.Account == "" || o.Account == inst.account.id) {
		return true
	}
	for _, v := range inst.bound {
		if v.ID == o.VPC && (o.Account == "" || o.Account == v.Owner) {
			return true
		}
	}
	return false
}

// ConfigFrom is Config for requests coming from o.
func (c *Cloud) ConfigFrom(creds Credentials, region string, o Origin) *openapi.Config {
	cfg := c.Config(creds, region)
	cfg.HttpClient = c.HTTPClientFrom(region, o)
	return cfg
}

// DedicatedConfig is ConfigFrom for the instance's dedicated gateway:
// Endpoint is DedicatedEndpoint(instanceID). From anywhere but the
// instance's own and bound VPCs, every call fails with "no such host".
func (c *Cloud) DedicatedConfig(creds Credentials, region, instanceID string, o Origin) *openapi.Config {
	cfg := c.ConfigFrom(creds, region, o)
	cfg.Endpoint = tea.String(DedicatedEndpoint(instanceID))
	return cfg
}

// ConfigFrom is Config for requests coming from o, over HTTP. A dedicated
// gateway endpoint (set cfg.Endpoint to DedicatedEndpoint) is resolved as
// from o and then reaches the server for region.
func (s *Server) ConfigFrom(creds Credentials, region string, o Origin) *openapi.Config {
	cfg := s.Config(creds, region)
	cfg.HttpClient = netClient{c: s.client, from: o, cloud: s.c, server: s.Endpoint(region)}
	return cfg
}

// networkContext adds the network condition keys of the request's origin:
// acs:SourceVpc and acs:VpcSourceIp from a VPC, on the shared gateway only
// (corrections.md §2).
func (k *call) networkContext(ctx map[string][]string) {
	if k.from.VPC == "" || k.dedicated != "" {
		return
	}
	ctx["acs:SourceVpc"] = []string{k.from.VPC}
	ctx["acs:VpcSourceIp"] = []string{k.from.vpcIP()}
}

// gatewayRefusal is the dedicated gateway's answer to an operation it does
// not serve, or "" when it serves it (or the request is on the shared
// gateway).
func (k *call) gatewayRefusal() *Error {
	if k.dedicated == "" {
		return nil
	}
	if k.service != "kms" || !cryptoActions[k.action] || k.action == "ReEncrypt" {
		return k.fail("InvalidAction.NotFound", "the dedicated gateway serves Encrypt, Decrypt and GenerateDataKey only")
	}
	inst := k.c.instances[k.dedicated]
	if inst == nil || !inst.reachableFrom(k.from) {
		// The HTTP transport resolved the host for a different origin.
		return k.fail("InvalidAction.NotFound", "the dedicated gateway of "+k.dedicated+" is not reachable from "+k.from.String())
	}
	return nil
}

// reachable checks that the caller may reach key for a cryptographic call
// on this path, before anything else is decided about the call.
func (k *call) reachable(key *key) *Error {
	if key.inst == nil {
		return nil // default keys: the shared gateway from anywhere
	}
	if k.dedicated != "" {
		if key.inst.id != k.dedicated {
			return k.fail("Forbidden.KeyNotFound", key.id+" is not in instance "+k.dedicated)
		}
		return nil
	}
	if k.from.VPC == "" && key.inst.vpcOnly && !key.inst.internet[k.who.acct.id] {
		return k.fail("Forbidden.InternetAccessDisabled", fmt.Sprintf(
			"keys of %s are reachable from a VPC only; the owner has not turned on Internet access for account %s",
			key.inst.id, k.who.acct.id))
	}
	return nil
}

// bindVPC is one element of UpdateKmsInstanceBindVpc's BindVpcs.
type bindVPC struct {
	VpcID      string          `json:"VpcId"`
	VSwitchID  string          `json:"VSwitchId"`
	RegionID   string          `json:"RegionId"`
	VpcOwnerID json.RawMessage `json:"VpcOwnerId"` // a number in the documented example, a string elsewhere
}

// kmsUpdateKmsInstanceBindVpc replaces the instance's bound VPCs with the
// given list ("subsequent associations will overwrite previous
// configurations"). Each VPC costs one unit of the access management
// quota, which foreign accounts share; a list that does not fit is refused
// and changes nothing. That a foreign VPC needs a vSwitch shared through
// Resource Sharing first is not emulated.
func (k *call) kmsUpdateKmsInstanceBindVpc() (any, *Error) {
	inst, e := k.instanceFor("UpdateKmsInstanceBindVpc")
	if e != nil {
		return nil, e
	}
	raw, e := k.required("BindVpcs")
	if e != nil {
		return nil, e
	}
	var list []bindVPC
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil, k.fail("InvalidParameter", "BindVpcs is not a JSON list of {VpcId, VSwitchId, RegionId, VpcOwnerId}")
	}
	var next []VPC
	seen := map[string]bool{}
	for _, b := range list {
		owner := strings.Trim(string(b.VpcOwnerID), `" `)
		if _, err := strconv.ParseUint(owner, 10, 64); err != nil || b.VpcID == "" || b.VSwitchID == "" {
			return nil, k.fail("InvalidParameter", "each VPC needs VpcId, VSwitchId and a numeric VpcOwnerId")
		}
		if k.c.accounts[owner] == nil {
			return nil, k.fail("InvalidParameter", "VpcOwnerId "+owner+" is not an account")
		}
		if b.RegionID != "" && b.RegionID != inst.region {
			return nil, k.fail("InvalidParameter", "VPC "+b.VpcID+" is in "+b.RegionID+", the instance in "+inst.region)
		}
		if seen[b.VpcID] {
			return nil, k.fail("InvalidParameter", "VPC "+b.VpcID+" listed twice")
		}
		seen[b.VpcID] = true
		next = append(next, VPC{ID: b.VpcID, VSwitchID: b.VSwitchID, Region: inst.region, Owner: owner})
	}
	before := k.c.quotaUsed(inst, k.now, nil, nil)
	old := inst.bound
	inst.bound = next
	if after := k.c.quotaUsed(inst, k.now, nil, nil); after > inst.quota && after > before {
		inst.bound = old
		return nil, k.fail("Rejected.ShareQuotaExceedLimit", fmt.Sprintf("%d of %d in use with %d VPCs", after, inst.quota, len(next)))
	}
	return &kms.UpdateKmsInstanceBindVpcResponseBody{RequestId: k.requestID()}, nil
}

// boundVPCs is the instance's bound VPCs as GetKmsInstance reports them.
func (inst *instance) boundVPCs() []*kms.GetKmsInstanceResponseBodyKmsInstanceBindVpcsBindVpc {
	out := make([]*kms.GetKmsInstanceResponseBodyKmsInstanceBindVpcsBindVpc, 0, len(inst.bound))
	for _, v := range inst.bound {
		out = append(out, &kms.GetKmsInstanceResponseBodyKmsInstanceBindVpcsBindVpc{
			RegionId: tea.String(v.Region), VpcId: tea.String(v.ID), VSwitchId: tea.String(v.VSwitchID), VpcOwnerId: tea.String(v.Owner)})
	}
	return out
}

// SetInternetAccess turns Internet access to the instance's keys on or off
// for the callers of one account, as the owner does in the console (there
// is no API for it). It matters only for a VPCOnly instance.
func (i *Instance) SetInternetAccess(account string, on bool) {
	i.locked(func(_ *Cloud, inst *instance) {
		if on {
			inst.internet[account] = true
		} else {
			delete(inst.internet, account)
		}
	})
}

// VPC returns the ID of the VPC the instance was created in.
func (i *Instance) VPC() string {
	var id string
	i.locked(func(_ *Cloud, inst *instance) { id = inst.vpc })
	return id
}

// BoundVPCs returns the VPCs bound to the instance, sorted by ID.
func (i *Instance) BoundVPCs() []VPC {
	var out []VPC
	i.locked(func(_ *Cloud, inst *instance) { out = append(out, inst.bound...) })
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}
