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
			AccessQuota: tea.Int64Value(i.VpcNum), KeyNum: tea.Int64Value(i.KeyNum)}
		if i.BindVpcs != nil {
			out.BoundVPCs = len(i.BindVpcs.BindVpc)
		}
		return nil
	})
	return out, err
}
