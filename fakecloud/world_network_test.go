package fakecloud

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// networkWorldJSON has a VPC-only instance in its own VPC, with one VPC of
// the owner and one of app-2 bound, Internet access on for app-1 only,
// and a fault of the Internal kind.
const networkWorldJSON = `{
  "clock": {"kind": "manual", "start": "2026-03-01T00:00:00Z"},
  "accounts": [
    {"name": "security", "users": [{"name": "admin", "policies": ["AdministratorAccess"]}],
     "instances": [{"name": "main", "region": "cn-hangzhou", "quota": 4,
       "vpc": "vpc-security", "vpcOnly": true, "internet": ["app-1"],
       "vpcs": ["vpc-shared",
                {"id": "vpc-app2", "vSwitch": "vsw-app2", "account": "app-2"}],
       "keys": [{"name": "shared", "policy": {"Version": "1", "Statement": [
         {"Effect": "Allow", "Principal": {"RAM": ["acs:ram::${uid:security}:*"]}, "Action": ["kms:*"], "Resource": ["*"]},
         {"Effect": "Allow", "Principal": {"RAM": ["acs:ram::${uid:app-1}:user/dev", "acs:ram::${uid:app-2}:user/dev"]},
          "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": ["*"]}]}}]}]},
    {"name": "app-1", "users": [{"name": "dev", "policies": ["AliyunKMSFullAccess"]}]},
    {"name": "app-2", "users": [{"name": "dev", "policies": ["AliyunKMSFullAccess"]}]}
  ],
  "faults": [{"service": "kms", "action": "ListKeys", "account": "app-1", "internal": 1}]
}`

// TestWorldFileNetwork: a world file's network settings reach the
// emulator: through the real SDK client, cryptography from the Internet is
// refused for the account without Internet access and allowed for the one
// with it, the bound VPC of another account reaches the dedicated gateway,
// an unbound one does not, and a file's Internal fault answers 500.
func TestWorldFileNetwork(t *testing.T) {
	t.Parallel()
	w, err := LoadWorld(strings.NewReader(networkWorldJSON), WorldOptions{Name: "network.json", Clock: NewManualClock(time.Time{})})
	if err != nil {
		t.Fatal(err)
	}
	inst, key := w.Instance("security", "main"), w.Key("security", "shared")
	app2 := w.Account("app-2")
	if inst.VPC() != "vpc-security" {
		t.Errorf("VPC() = %s, want vpc-security", inst.VPC())
	}
	bound := inst.BoundVPCs()
	want := []VPC{{ID: "vpc-app2", VSwitchID: "vsw-app2", Region: "cn-hangzhou", Owner: app2.ID}, // by ID
		{ID: "vpc-shared", VSwitchID: "vsw-shared", Region: "cn-hangzhou", Owner: w.Account("security").ID}}
	if len(bound) != 2 || bound[0] != want[0] || bound[1] != want[1] {
		t.Errorf("BoundVPCs() = %+v, want %+v", bound, want)
	}
	if n := inst.QuotaUsed(); n != 4 {
		t.Errorf("quota used %d, want 4 (two VPCs, two accounts)", n)
	}
	dev := func(account string) Credentials {
		creds, err := w.Credentials(account + "/dev")
		if err != nil {
			t.Fatal(err)
		}
		return creds
	}
	gen := func(cfg *openapi.Config) error {
		_, err := newClients(t, cfg).kms.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(key.ARN)}, rt)
		return err
	}
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			from := func(creds Credentials, o Origin) *openapi.Config { return w.Cloud.ConfigFrom(creds, region, o) }
			dedicated := func(creds Credentials, o Origin) *openapi.Config {
				return w.Cloud.DedicatedConfig(creds, region, inst.ID, o)
			}
			if tr == overHTTP {
				srv := w.Cloud.Serve()
				t.Cleanup(srv.Close)
				from = func(creds Credentials, o Origin) *openapi.Config { return srv.ConfigFrom(creds, region, o) }
				dedicated = func(creds Credentials, o Origin) *openapi.Config {
					cfg := srv.ConfigFrom(creds, region, o)
					cfg.Endpoint = tea.String(DedicatedEndpoint(inst.ID))
					return cfg
				}
			}
			// The Internet: app-1's switch is on, app-2's is not.
			wantCode(t, gen(from(dev("app-1"), Origin{})), "")
			wantCode(t, gen(from(dev("app-2"), Origin{})), "Forbidden.InternetAccessDisabled")
			// app-2's bound VPC reaches the dedicated gateway; another of
			// its VPCs does not resolve it.
			wantCode(t, gen(dedicated(dev("app-2"), FromVPC(app2.ID, "vpc-app2"))), "")
			err := gen(dedicated(dev("app-2"), FromVPC(app2.ID, "vpc-elsewhere")))
			var dns *net.DNSError
			if !errors.As(err, &dns) || !dns.IsNotFound {
				t.Errorf("dedicated gateway from an unbound VPC: %v", err)
			}
			// The file's fault: app-1's ListKeys fails with a 500.
			_, err = newClients(t, from(dev("app-1"), Origin{})).kms.ListKeysWithContext(ctxb(), &kms.ListKeysRequest{}, rt)
			wantCode(t, err, "InternalFailure")
			if errStatus(err) != 500 {
				t.Errorf("ListKeys status %d, want 500", errStatus(err))
			}
			_, err = newClients(t, from(dev("app-2"), Origin{})).kms.ListKeysWithContext(ctxb(), &kms.ListKeysRequest{}, rt)
			wantCode(t, err, "")
		})
	}
}

// TestWorldFileGatewayClock: a world file's gateway clock ahead of or
// behind the host's by more than 15 minutes refuses the SDK's requests as
// expired; a smaller skew, and the default, do not.
func TestWorldFileGatewayClock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		gateway, code string
	}{
		{"", ""},
		{`"gatewayClock": {"ahead": "5m"},`, ""},
		{`"gatewayClock": {"ahead": "20m"},`, "InvalidTimeStamp.Expired"},
		{`"gatewayClock": {"behind": "20m"},`, "InvalidTimeStamp.Expired"},
	} {
		t.Run(tc.gateway, func(t *testing.T) {
			t.Parallel()
			w, err := LoadWorld(strings.NewReader(`{`+tc.gateway+` "accounts": [{"name": "a"}]}`), WorldOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := w.Config("a", region)
			if err != nil {
				t.Fatal(err)
			}
			_, err = newClients(t, cfg).kms.ListKeysWithContext(ctxb(), &kms.ListKeysRequest{}, rt)
			wantCode(t, err, tc.code)
		})
	}
}
