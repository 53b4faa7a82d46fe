package alicloud

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// BoundVPC is a VPC bound to a KMS instance.
type BoundVPC struct {
	VPC     string `json:"vpc"`
	VSwitch string `json:"vswitch"`
	Region  string `json:"region"`
	Owner   string `json:"owner"` // the UID of the VPC's account
}

// Instance is what GetKmsInstance reports about a KMS instance.
type Instance struct {
	ID    string
	VPC   string // the VPC the instance was created in
	Bound []BoundVPC
	CA    string // the instance CA (PEM), for TLS to its dedicated gateway
}

// GetKmsInstance reads a KMS instance.
func (k *KMS) GetKmsInstance(ctx context.Context, instanceID string) (Instance, error) {
	var out Instance
	err := k.pool.do(ctx, k.retry, "kms", "GetKmsInstance", func(ctx context.Context, cl *kms.Client) error {
		resp, err := cl.GetKmsInstanceWithContext(ctx, &kms.GetKmsInstanceRequest{KmsInstanceId: tea.String(instanceID)}, rt())
		if err != nil {
			return err
		}
		if resp.Body == nil || resp.Body.KmsInstance == nil {
			return fmt.Errorf("GetKmsInstance: empty response")
		}
		ki := resp.Body.KmsInstance
		out = Instance{ID: tea.StringValue(ki.InstanceId), VPC: tea.StringValue(ki.VpcId), CA: tea.StringValue(ki.CaCertificateChainPem)}
		if ki.BindVpcs != nil {
			for _, v := range ki.BindVpcs.BindVpc {
				out.Bound = append(out.Bound, BoundVPC{VPC: tea.StringValue(v.VpcId), VSwitch: tea.StringValue(v.VSwitchId),
					Region: tea.StringValue(v.RegionId), Owner: tea.StringValue(v.VpcOwnerId)})
			}
		}
		return nil
	})
	return out, err
}

// UpdateKmsInstanceBindVpc replaces the instance's whole list of bound
// VPCs with vpcs, in a single attempt: like SetKeyPolicy, the list was
// merged into what was read, and resending it after a backoff could erase
// a binding another writer saved meanwhile. The caller re-reads, re-merges
// and confirms.
func (k *KMS) UpdateKmsInstanceBindVpc(ctx context.Context, instanceID string, vpcs []BoundVPC) error {
	type entry struct {
		VpcID      string      `json:"VpcId"`
		VSwitchID  string      `json:"VSwitchId"`
		RegionID   string      `json:"RegionId"`
		VpcOwnerID json.Number `json:"VpcOwnerId"` // a number, as the API documents it
	}
	list := make([]entry, len(vpcs))
	for i, v := range vpcs {
		if _, err := strconv.ParseUint(v.Owner, 10, 64); err != nil {
			return fmt.Errorf("UpdateKmsInstanceBindVpc: VPC %s: owner %q is not an account UID", v.VPC, v.Owner)
		}
		list[i] = entry{VpcID: v.VPC, VSwitchID: v.VSwitch, RegionID: v.Region, VpcOwnerID: json.Number(v.Owner)}
	}
	doc, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return k.pool.do(ctx, cloudapi.Retry{MaxAttempts: 1}, "kms", "UpdateKmsInstanceBindVpc", func(ctx context.Context, cl *kms.Client) error {
		_, err := cl.UpdateKmsInstanceBindVpcWithContext(ctx, &kms.UpdateKmsInstanceBindVpcRequest{
			KmsInstanceId: tea.String(instanceID), BindVpcs: tea.String(string(doc))}, rt())
		return err
	})
}

// WithKMS returns a copy of the factory whose KMS clients are configured by
// adapt applied to a copy of the KMS template: another endpoint (a VPC
// endpoint, an instance's dedicated gateway), its CA, another transport.
func (f Factory) WithKMS(adapt func(*openapi.Config)) Factory {
	c := *f.kms
	adapt(&c)
	f.kms = &c
	return f
}
