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
