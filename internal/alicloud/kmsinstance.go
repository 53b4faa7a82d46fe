package alicloud

import (
	"context"
	"fmt"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// Instance is what GetKmsInstance reports about a KMS instance.
type Instance struct {
	ID     string
	Name   string
	Status string
	// AccessQuota is VpcNum: the access management quota, shared by bound
	// VPCs and the foreign accounts keys are shared with.
	AccessQuota int64
	BoundVPCs   int
	KeyNum      int64
	VPC         string     // the VPC the instance was created in
	Bound       []BoundVPC // the bound VPCs (BoundVPCs of them)
	CA          string     // the instance CA (PEM), for TLS to its dedicated gateway
}

// GetKmsInstance reads one KMS instance of the caller's account.
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
		i := resp.Body.KmsInstance
		out = Instance{ID: tea.StringValue(i.InstanceId), Name: tea.StringValue(i.InstanceName), Status: tea.StringValue(i.Status),
			AccessQuota: tea.Int64Value(i.VpcNum), KeyNum: tea.Int64Value(i.KeyNum),
			VPC: tea.StringValue(i.VpcId), CA: tea.StringValue(i.CaCertificateChainPem)}
		if i.BindVpcs != nil {
			out.BoundVPCs = len(i.BindVpcs.BindVpc)
			for _, v := range i.BindVpcs.BindVpc {
				out.Bound = append(out.Bound, BoundVPC{VPC: tea.StringValue(v.VpcId), VSwitch: tea.StringValue(v.VSwitchId),
					Region: tea.StringValue(v.RegionId), Owner: tea.StringValue(v.VpcOwnerId)})
			}
		}
		return nil
	})
	return out, err
}
