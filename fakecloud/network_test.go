package fakecloud

import (
	"errors"
	"net"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// TestNetworkPaths: cryptographic calls on a VPC-only instance's keys are
// refused from the Internet (Forbidden.InternetAccessDisabled, assumed)
// unless the owner turned Internet access on for the caller's account;
// from a VPC they work on the shared gateway, with acs:SourceVpc in the
// request context. The dedicated gateway resolves only from the
// instance's own and bound VPCs ("no such host" elsewhere) and serves
// cryptographic calls only; UpdateKmsInstanceBindVpc replaces the whole
// list, and each VPC costs a unit of the access management quota.
func TestNetworkPaths(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, Options{})
			inst := w.sec.NewKMSInstance(region, InstanceOptions{Quota: 3, VPCOnly: true})
			key := must(inst.NewKey(KeyOptions{}))
			dev := must(w.app1.NewUser("dev", "AliyunKMSFullAccess"))
			owner := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
			wantCode(t, setKeyPolicy(owner, key.ID, keyPolicy(w.sec.ID, []string{dev.ARN})), "")

			var from func(o Origin) *openapi.Config
			var dedicated func(o Origin) *openapi.Config
			if tr == inProc {
				from = func(o Origin) *openapi.Config { return w.c.ConfigFrom(dev.Credentials(), region, o) }
				dedicated = func(o Origin) *openapi.Config { return w.c.DedicatedConfig(dev.Credentials(), region, inst.ID, o) }
			} else {
				srv := w.c.Serve()
				t.Cleanup(srv.Close)
				from = func(o Origin) *openapi.Config { return srv.ConfigFrom(dev.Credentials(), region, o) }
				dedicated = func(o Origin) *openapi.Config {
					cfg := srv.ConfigFrom(dev.Credentials(), region, o)
					cfg.Endpoint = tea.String(DedicatedEndpoint(inst.ID))
					return cfg
				}
			}
			gen := func(cfg *openapi.Config) error {
				_, err := newClients(t, cfg).kms.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(key.ARN)}, rt)
				return err
			}
			describe := func(cfg *openapi.Config) error {
				_, err := newClients(t, cfg).kms.DescribeKeyWithContext(ctxb(), &kms.DescribeKeyRequest{KeyId: tea.String(key.ARN)}, rt)
				return err
			}

			// The Internet: management yes, cryptography only with the switch.
			internet := from(Origin{})
			wantCode(t, describe(internet), "")
			err := gen(internet)
			wantCode(t, err, "Forbidden.InternetAccessDisabled")
			if c := cloudapi.Classify("kms", "GenerateDataKey", err); !errors.Is(c, cloudapi.ErrNetwork) || errStatus(err) != 403 {
				t.Errorf("refusal %v classified as %v", err, c)
			}
			inst.SetInternetAccess(w.app1.ID, true)
			wantCode(t, gen(internet), "")
			inst.SetInternetAccess(w.app1.ID, false)
			wantCode(t, gen(internet), "Forbidden.InternetAccessDisabled")

			// Any VPC on the shared gateway; acs:SourceVpc is set there.
			appVPC := FromVPC(w.app1.ID, "vpc-app1")
			wantCode(t, gen(from(appVPC)), "")
			onlyFrom := `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + w.sec.ID + `:*"]},"Action":["kms:*"],"Resource":["*"]},` +
				`{"Effect":"Allow","Principal":{"RAM":["` + dev.ARN + `"]},"Action":["kms:GenerateDataKey"],"Resource":["*"],"Condition":{"StringEquals":{"acs:SourceVpc":["vpc-app1"]}}}]}`
			wantCode(t, setKeyPolicy(owner, key.ID, onlyFrom), "")
			wantCode(t, gen(from(appVPC)), "")
			wantCode(t, gen(from(FromVPC(w.app1.ID, "vpc-other"))), "Forbidden.NoPermission")

			// The dedicated gateway: not from an unbound VPC, as DNS says.
			err = gen(dedicated(appVPC))
			var dns *net.DNSError
			if !errors.As(err, &dns) || !dns.IsNotFound || dns.Name != DedicatedEndpoint(inst.ID) {
				t.Fatalf("dedicated gateway from an unbound VPC: %v", err)
			}
			if c := cloudapi.Classify("kms", "GenerateDataKey", err); !errors.Is(c, cloudapi.ErrNetwork) {
				t.Errorf("no such host classified as %v", c)
			}
			// Bind the recipient's VPC: it costs a unit of quota (1 foreign
			// account + 1 VPC of 3).
			bind := func(list string) error {
				_, err := owner.UpdateKmsInstanceBindVpcWithContext(ctxb(), &kms.UpdateKmsInstanceBindVpcRequest{
					KmsInstanceId: tea.String(inst.ID), BindVpcs: tea.String(list)}, rt)
				return err
			}
			one := `{"VpcId":"vpc-app1","VSwitchId":"vsw-app1","RegionId":"` + region + `","VpcOwnerId":` + w.app1.ID + `}`
			wantCode(t, bind("["+one+"]"), "")
			if n := inst.QuotaUsed(); n != 2 {
				t.Errorf("quota used %d, want 2 (an account and a VPC)", n)
			}
			// On the dedicated gateway acs:SourceVpc is never set: the
			// conditional grant does not match there.
			wantCode(t, gen(dedicated(appVPC)), "Forbidden.NoPermission")
			wantCode(t, setKeyPolicy(owner, key.ID, keyPolicy(w.sec.ID, []string{dev.ARN})), "")
			wantCode(t, gen(dedicated(appVPC)), "")
			wantCode(t, describe(dedicated(appVPC)), "InvalidAction.NotFound") // crypto only
			// The instance's own VPC reaches it too.
			wantCode(t, gen(dedicated(FromVPC(w.sec.ID, inst.VPC()))), "")

			// The list is replaced as a whole, and must fit the quota.
			two := `{"VpcId":"vpc-app2","VSwitchId":"vsw-app2","RegionId":"` + region + `","VpcOwnerId":` + w.app2.ID + `}`
			three := `{"VpcId":"vpc-app3","VSwitchId":"vsw-app3","RegionId":"` + region + `","VpcOwnerId":` + w.app2.ID + `}`
			wantCode(t, bind("["+one+","+two+","+three+"]"), "Rejected.ShareQuotaExceedLimit")
			if got := inst.BoundVPCs(); len(got) != 1 || got[0].ID != "vpc-app1" {
				t.Errorf("a refused bind changed the list: %+v", got)
			}
			wantCode(t, bind("["+two+"]"), "")
			if got := inst.BoundVPCs(); len(got) != 1 || got[0].ID != "vpc-app2" {
				t.Errorf("bound %+v, want vpc-app2 only (the list is replaced)", got)
			}
			if err := gen(dedicated(appVPC)); !errors.As(err, &dns) {
				t.Errorf("after unbinding vpc-app1: %v", err)
			}
		})
	}
}
