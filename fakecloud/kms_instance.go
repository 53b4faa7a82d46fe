package fakecloud

import (
	"sort"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

// KMS instances: GetKmsInstance and ListKmsInstances.

// instanceFor finds the caller's instance named by KmsInstanceId.
func (k *call) instanceFor(action string) (*instance, *Error) {
	id, e := k.required("KmsInstanceId")
	if e != nil {
		return nil, e
	}
	inst := k.c.instances[id]
	if inst == nil || inst.account != k.who.acct || inst.region != k.region {
		return nil, k.fail("Forbidden.DKMSInstanceNotFound", id)
	}
	k.target = inst.account.id
	if !k.allowed("kms:"+action, k.kmsResource("keystore/"+inst.id)) {
		return nil, k.fail("Forbidden.NoPermission", "")
	}
	return inst, nil
}

func (k *call) kmsGetKmsInstance() (any, *Error) {
	inst, e := k.instanceFor("GetKmsInstance")
	if e != nil {
		return nil, e
	}
	live := liveKeys(inst, k.now)
	vpcs := inst.boundVPCs()
	productType := "kms_ddi_public_cn"
	if inst.external {
		productType = "kms_xki_public_cn"
	}
	return &kms.GetKmsInstanceResponseBody{RequestId: k.requestID(), KmsInstance: &kms.GetKmsInstanceResponseBodyKmsInstance{
		InstanceId: tea.String(inst.id), InstanceName: tea.String(inst.name), Status: tea.String(inst.status),
		VpcNum: tea.Int64(int64(inst.quota)), KeyNum: tea.Int64(int64(live)), SecretNum: tea.String("0"),
		Spec: tea.Int64(1000), ProductType: tea.String(productType), ProductVersion: tea.String("3"),
		ChargeType: tea.String("PREPAY"), SaleStatus: tea.String("NORMAL"),
		CreateTime: date(inst.created), StartDate: date(inst.created), EndDate: date(inst.created.AddDate(1, 0, 0)),
		BindVpcs:   &kms.GetKmsInstanceResponseBodyKmsInstanceBindVpcs{BindVpc: vpcs},
		VpcId:      tea.String(inst.vpc),
		VswitchIds: []*string{}, ZoneIds: []*string{tea.String(inst.region + "-a")},
	}}, nil
}

func (k *call) kmsListKmsInstances() (any, *Error) {
	if !k.allowed("kms:ListKmsInstances", k.kmsResource("keystore")) {
		return nil, k.fail("Forbidden.NoPermission", "")
	}
	k.target = k.who.acct.id
	page, size, e := k.paging(10, 100)
	if e != nil {
		return nil, e
	}
	var insts []*instance
	for _, inst := range k.c.instances {
		if inst.account == k.who.acct && inst.region == k.region {
			insts = append(insts, inst)
		}
	}
	sort.Slice(insts, func(i, j int) bool {
		if !insts[i].created.Equal(insts[j].created) {
			return insts[i].created.Before(insts[j].created)
		}
		return insts[i].id < insts[j].id
	})
	body := &kms.ListKmsInstancesResponseBody{RequestId: k.requestID(), PageNumber: tea.Int64(int64(page)),
		PageSize: tea.Int64(int64(size)), TotalCount: tea.Int64(int64(len(insts))),
		KmsInstances: &kms.ListKmsInstancesResponseBodyKmsInstances{KmsInstance: []*kms.ListKmsInstancesResponseBodyKmsInstancesKmsInstance{}}}
	for _, inst := range pageOf(insts, page, size) {
		body.KmsInstances.KmsInstance = append(body.KmsInstances.KmsInstance, &kms.ListKmsInstancesResponseBodyKmsInstancesKmsInstance{
			KmsInstanceId:  tea.String(inst.id),
			KmsInstanceArn: tea.String(arn.ARN{Service: "kms", Region: inst.region, AccountID: inst.account.id, Resource: "keystore/" + inst.id}.String()),
		})
	}
	return body, nil
}
