package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// doctorCommand is keyshare doctor: is real Alibaba Cloud ready for the
// spec? It reads only: GetCallerIdentity, AssumeRole (which creates nothing
// but a short session), DescribeKey, GetKmsInstance, and plain HTTPS
// requests for reachability and the server's clock.
func doctorCommand() specCommand {
	return specCommand{
		name:     "doctor",
		summary:  "check that real Alibaba Cloud is ready for the spec (credentials, clock, endpoints, key, roles); changes nothing",
		realOnly: true,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.DurationVar(&o.timeout, "timeout", 15*time.Second, "how long each network check may take")
		},
		do: doDoctor,
	}
}

// maxSkew is how far a request's timestamp may be from the server's clock:
// beyond it Alibaba Cloud refuses it with InvalidTimeStamp.Expired.
const maxSkew = 15 * time.Minute

// Check statuses.
const (
	checkOK      = "ok"
	checkWarning = "warning"
	checkFailed  = "failed"
	checkSkipped = "skipped"
)

// doctorReport is what doctor prints.
type doctorReport struct {
	Region string        `json:"region"`
	Ready  bool          `json:"ready"`
	Checks []doctorCheck `json:"checks"`
}

type doctorCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

func (r *doctorReport) add(name, status, format string, args ...any) {
	r.Checks = append(r.Checks, doctorCheck{Name: name, Status: status, Detail: fmt.Sprintf(format, args...)})
}

func (r *doctorReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Readiness for keyshare on Alibaba Cloud, region %s (doctor changes nothing):\n", r.Region)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "  %-8s %s: %s\n", strings.ToUpper(c.Status), c.Name, c.Detail)
	}
	failed := r.count(checkFailed)
	if failed == 0 {
		fmt.Fprintf(&b, "Ready: yes (%d warning(s)).\n", r.count(checkWarning))
	} else {
		fmt.Fprintf(&b, "Ready: no; %d check(s) failed.\n", failed)
	}
	return b.String()
}

func (r *doctorReport) count(status string) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == status {
			n++
		}
	}
	return n
}

// errNotReady is doctor's failure: exit 3, like a failed preflight.
var errNotReady = errors.New("not ready for real Alibaba Cloud")

func doDoctor(ctx context.Context, inv *invocation) (any, string, error) {
	rep := &doctorReport{Region: inv.region}
	finish := func(err error) (any, string, error) {
		rep.Ready = rep.count(checkFailed) == 0 && err == nil
		if err == nil && !rep.Ready {
			err = fmt.Errorf("%w: %d check(s) failed", errNotReady, rep.count(checkFailed))
		}
		return rep, inv.bannerDoctor() + rep.String(), err
	}

	cfg, source, err := inv.realConfig()
	if err != nil {
		rep.add("credentials", checkFailed, "%s", message(err))
		return finish(err)
	}
	provider, keyID, err := realcloud.Load(cfg)
	if err != nil {
		rep.add("credentials", checkFailed, "%s", message(err))
		return finish(err)
	}
	rep.add("credentials", checkOK, "from %s (provider %s, access key ID %s)", source, provider, maskID(keyID))

	// Endpoints, as the SDK computes them for this region, and the clock of
	// the first that answers.
	serverDate := doctorEndpoints(ctx, inv, cfg, rep)
	doctorClock(inv, serverDate, rep)

	stsClient, err := sts.NewClient(cfg)
	if err != nil {
		return finish(err)
	}
	id, err := stsClient.GetCallerIdentityWithOptions(inv.runtime()) // the SDK has no WithContext form
	if err != nil {
		rep.add("identity", checkFailed, "GetCallerIdentity: %v", cloudapi.Classify("sts", "GetCallerIdentity", err))
		rep.add("key", checkSkipped, "no identity")
		return finish(nil)
	}
	caller := tea.StringValue(id.Body.AccountId)
	rep.add("identity", checkOK, "account %s, %s %s", caller, tea.StringValue(id.Body.IdentityType), tea.StringValue(id.Body.Arn))

	key := inv.spec.KeyARN()
	ownerCfg := cfg
	if caller != key.AccountID {
		ownerCfg = doctorAssume(ctx, inv, stsClient, cfg, arn.ResourceDirectoryAccessRole(key.AccountID), "access role of the key owner "+key.AccountID, rep)
	} else {
		rep.add("access role of the key owner "+key.AccountID, checkOK, "not needed: the credentials are the key owner's own")
	}
	if ownerCfg != nil {
		doctorKey(ctx, inv, ownerCfg, inv.spec.Key, rep)
	} else {
		rep.add("key", checkSkipped, "the key owner's account cannot be entered")
	}
	seen := map[string]bool{}
	for _, r := range inv.spec.Recipients {
		role := arn.ResourceDirectoryAccessRole(r.Account)
		if r.AccessRole != "" {
			role = arn.RAMRole(r.Account, r.AccessRole)
		}
		if seen[role.String()] {
			continue
		}
		seen[role.String()] = true
		if r.Account == caller {
			rep.add("access role of recipient "+r.Account, checkOK, "not needed: the credentials are the recipient's own")
			continue
		}
		doctorAssume(ctx, inv, stsClient, cfg, role, "access role of recipient "+r.Account, rep)
	}
	return finish(nil)
}

// runtime bounds each API call of doctor by -timeout, without retries: a
// check that hangs or fails is what doctor reports.
func (inv *invocation) runtime() *dara.RuntimeOptions {
	ms := int(inv.opts.timeout.Milliseconds())
	return &dara.RuntimeOptions{ConnectTimeout: &ms, ReadTimeout: &ms}
}

func (inv *invocation) bannerDoctor() string {
	return "Alibaba Cloud (not simulated): doctor reads only.\n"
}

// maskID shows an access key ID's first and last four characters: enough
// to tell keys apart, not the whole ID (which is not a secret, but need not
// be in logs either).
func maskID(id string) string {
	if len(id) <= 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + strings.Repeat("*", len(id)-8) + id[len(id)-4:]
}

// doctorEndpoints checks that every endpoint the SDK will call answers
// HTTP, and returns the Date of the first answer.
func doctorEndpoints(ctx context.Context, inv *invocation, cfg *openapi.Config, rep *doctorReport) time.Time {
	type service struct {
		name     string
		endpoint func() (*string, error)
	}
	services := []service{
		{"kms", func() (*string, error) { c, err := kms.NewClient(cfg); return endpointOf(c, err) }},
		{"sts", func() (*string, error) { c, err := sts.NewClient(cfg); return endpointOfSTS(c, err) }},
		{"ram", func() (*string, error) { c, err := ram.NewClient(cfg); return endpointOfRAM(c, err) }},
	}
	var names []string
	byEndpoint := map[string][]string{}
	for _, s := range services {
		ep, err := s.endpoint()
		if err != nil || tea.StringValue(ep) == "" {
			rep.add("endpoint of "+s.name, checkFailed, "the SDK has no endpoint for region %s: %v", inv.region, err)
			continue
		}
		e := tea.StringValue(ep)
		if _, ok := byEndpoint[e]; !ok {
			names = append(names, e)
		}
		byEndpoint[e] = append(byEndpoint[e], s.name)
	}
	protocol := strings.ToLower(cmpOr(tea.StringValue(cfg.Protocol), "https"))
	var date time.Time
	for _, e := range names {
		label := "endpoint " + e + " (" + strings.Join(byEndpoint[e], ", ") + ")"
		reqCtx, cancel := context.WithTimeout(ctx, inv.opts.timeout)
		req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, protocol+"://"+e+"/", nil)
		if err != nil {
			cancel()
			rep.add(label, checkFailed, "%v", err)
			continue
		}
		var resp *http.Response
		if cfg.HttpClient != nil {
			resp, err = cfg.HttpClient.Call(req, nil)
		} else {
			resp, err = (&http.Client{Timeout: inv.opts.timeout}).Do(req)
		}
		if err != nil {
			cancel()
			rep.add(label, checkFailed, "unreachable: %v", err)
			continue
		}
		resp.Body.Close()
		cancel()
		rep.add(label, checkOK, "reachable (HTTP %d)", resp.StatusCode)
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil && date.IsZero() {
			date = d
		}
	}
	return date
}

func endpointOf(c *kms.Client, err error) (*string, error) {
	if err != nil {
		return nil, err
	}
	return c.Endpoint, nil
}

func endpointOfSTS(c *sts.Client, err error) (*string, error) {
	if err != nil {
		return nil, err
	}
	return c.Endpoint, nil
}

func endpointOfRAM(c *ram.Client, err error) (*string, error) {
	if err != nil {
		return nil, err
	}
	return c.Endpoint, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// doctorClock compares this host's clock with the server's Date: Alibaba
// Cloud refuses requests signed more than 15 minutes off.
func doctorClock(inv *invocation, server time.Time, rep *doctorReport) {
	if server.IsZero() {
		rep.add("clock", checkWarning, "no endpoint answered with a Date header; this host's clock could not be compared")
		return
	}
	skew := inv.env.now().Sub(server).Truncate(time.Second)
	off := skew.Abs()
	where := "ahead of"
	if skew < 0 {
		where = "behind"
	}
	switch {
	case off > maxSkew:
		rep.add("clock", checkFailed, "this host's clock is %s %s the server's; Alibaba Cloud refuses requests more than %s off "+
			"(InvalidTimeStamp.Expired): fix your clock (NTP) before running keyshare", off, where, maxSkew)
	case off > time.Minute:
		rep.add("clock", checkWarning, "this host's clock is %s %s the server's (the limit is %s); consider NTP", off, where, maxSkew)
	default:
		rep.add("clock", checkOK, "within %s of the server's (the limit is %s)", max(off, time.Second), maxSkew)
	}
}

// doctorAssume checks that role can be assumed and returns a configuration
// with its session, or nil.
func doctorAssume(ctx context.Context, inv *invocation, c *sts.Client, base *openapi.Config, role arn.ARN, name string, rep *doctorReport) *openapi.Config {
	resp, err := c.AssumeRoleWithContext(ctx, &sts.AssumeRoleRequest{
		RoleArn: tea.String(role.String()), RoleSessionName: tea.String("keyshare-doctor"), DurationSeconds: tea.Int64(900),
	}, inv.runtime())
	if err != nil {
		rep.add(name, checkFailed, "cannot assume %s: %v", role, cloudapi.Classify("sts", "AssumeRole", err))
		return nil
	}
	rep.add(name, checkOK, "%s can be assumed", role)
	cr := resp.Body.Credentials
	cfg := *base
	cfg.Credential = nil
	cfg.AccessKeyId, cfg.AccessKeySecret, cfg.SecurityToken = cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken
	return &cfg
}

// doctorKey reports the key's state and its KMS instance's network
// settings, as far as the API shows them.
func doctorKey(ctx context.Context, inv *invocation, cfg *openapi.Config, keyARN string, rep *doctorReport) {
	c, err := kms.NewClient(cfg)
	if err != nil {
		rep.add("key", checkFailed, "%v", err)
		return
	}
	d, err := c.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(keyARN)}, inv.runtime())
	if err != nil {
		rep.add("key", checkFailed, "DescribeKey: %v", cloudapi.Classify("kms", "DescribeKey", err))
		return
	}
	m := d.Body.KeyMetadata
	state, inst := tea.StringValue(m.KeyState), tea.StringValue(m.DKMSInstanceId)
	status := checkOK
	if state != "Enabled" {
		status = checkFailed
	}
	rep.add("key", status, "%s is %s (%s, %s)", keyARN, state, tea.StringValue(m.KeySpec), tea.StringValue(m.ProtectionLevel))
	if inst == "" {
		rep.add("instance", checkFailed, "the key is not in a KMS instance; only keys of KMS instances can be shared with other accounts")
		return
	}
	g, err := c.GetKmsInstanceWithContext(ctx, &kms.GetKmsInstanceRequest{KmsInstanceId: tea.String(inst)}, inv.runtime())
	if err != nil {
		rep.add("instance", checkFailed, "GetKmsInstance %s: %v", inst, cloudapi.Classify("kms", "GetKmsInstance", err))
		return
	}
	k := g.Body.KmsInstance
	var vpcs []string
	if k.BindVpcs != nil {
		for _, v := range k.BindVpcs.BindVpc {
			vpcs = append(vpcs, tea.StringValue(v.VpcId)+" ("+tea.StringValue(v.VpcOwnerId)+")")
		}
	}
	slices.Sort(vpcs)
	bound := "none"
	if len(vpcs) > 0 {
		bound = strings.Join(vpcs, ", ")
	}
	status = checkOK
	if s := tea.StringValue(k.Status); s != "" && !strings.EqualFold(s, "Connected") && !strings.EqualFold(s, "Enabled") {
		status = checkWarning
	}
	rep.add("instance", status, "%s, status %s, access management quota %d, bound VPCs: %s; its dedicated gateway %s.cryptoservice.kms.aliyuncs.com "+
		"answers only from those VPCs; whether Internet access is on for cryptographic calls is a console setting the API does not show",
		inst, tea.StringValue(k.Status), tea.Int64Value(k.VpcNum), bound, inst)
}
