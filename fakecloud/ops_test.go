package fakecloud

import (
	"encoding/base64"
	"sort"
	"strings"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

// TestOperations runs every operation of the emulator through the real SDK
// clients, over both transports, in the order a Landing Zone rollout uses
// them (workflow W1), and checks each response. It ends by asserting that
// the request log holds a successful call of every operation in the
// dispatch table, so an operation added without a test fails here.
func TestOperations(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, Options{Seed: 7})
			cfg := configFor(t, w.c, tr)
			sec := newClients(t, cfg(w.secAdmin.Credentials()))
			ctx := ctxb()

			// --- KMS, in the Security account ---
			created, err := sec.kms.CreateKeyWithContext(ctx, &kms.CreateKeyRequest{
				DKMSInstanceId: tea.String(w.inst.ID), Description: tea.String("orders")}, rt)
			if err != nil {
				t.Fatal(err)
			}
			md := created.Body.KeyMetadata
			keyID, keyARN := tea.StringValue(md.KeyId), tea.StringValue(md.Arn)
			if !strings.HasPrefix(keyID, "key-hzz") || keyARN != arn.KMSKey(region, w.sec.ID, keyID).String() ||
				tea.StringValue(md.DKMSInstanceId) != w.inst.ID || tea.StringValue(md.KeyState) != "Enabled" {
				t.Fatalf("CreateKey metadata = %v", md)
			}
			for _, ref := range []string{keyID, keyARN} {
				d, err := sec.kms.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(ref)}, rt)
				if err != nil || tea.StringValue(d.Body.KeyMetadata.KeyId) != keyID || tea.StringValue(d.Body.KeyMetadata.Creator) != w.sec.ID {
					t.Fatalf("DescribeKey(%s) = %v, %v", ref, d, err)
				}
			}
			d, err := sec.kms.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String("alias/shared")}, rt)
			if err != nil || tea.StringValue(d.Body.KeyMetadata.KeyId) != w.key.ID {
				t.Fatalf("DescribeKey(alias) = %v, %v", d, err)
			}
			lk, err := sec.kms.ListKeysWithContext(ctx, &kms.ListKeysRequest{PageSize: tea.Int32(1), PageNumber: tea.Int32(2)}, rt)
			if err != nil || tea.Int32Value(lk.Body.TotalCount) != 2 || len(lk.Body.Keys.Key) != 1 || tea.StringValue(lk.Body.Keys.Key[0].KeyId) != keyID {
				t.Fatalf("ListKeys page 2 = %v, %v", lk, err)
			}
			if _, err := sec.kms.DisableKeyWithContext(ctx, &kms.DisableKeyRequest{KeyId: tea.String(keyID)}, rt); err != nil {
				t.Fatal(err)
			}
			_, err = sec.kms.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{KeyId: tea.String(keyID)}, rt)
			wantCode(t, err, "Rejected.Disabled")
			if _, err := sec.kms.EnableKeyWithContext(ctx, &kms.EnableKeyRequest{KeyId: tea.String(keyID)}, rt); err != nil {
				t.Fatal(err)
			}

			gp, err := sec.kms.GetKeyPolicyWithContext(ctx, &kms.GetKeyPolicyRequest{KeyId: tea.String(w.key.ID), PolicyName: tea.String("default")}, rt)
			if err != nil || !strings.Contains(tea.StringValue(gp.Body.Policy), "kms default key policy") {
				t.Fatalf("GetKeyPolicy = %v, %v", gp, err)
			}
			share := `{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::` + w.sec.ID + `:*"]},"Resource":["*"],"Sid":"kms default key policy"},` +
				`{"Action":["kms:DescribeKey","kms:GenerateDataKey","kms:Decrypt"],"Effect":"Allow","Principal":{"RAM":["` +
				arn.ResourceDirectoryAccessRole(w.app1.ID).String() + `"]},"Resource":["*"]}],"Version":"1"}`
			if _, err := sec.kms.SetKeyPolicyWithContext(ctx, &kms.SetKeyPolicyRequest{KeyId: tea.String(w.key.ID), PolicyName: tea.String("default"), Policy: tea.String(share)}, rt); err != nil {
				t.Fatal(err)
			}

			gi, err := sec.kms.GetKmsInstanceWithContext(ctx, &kms.GetKmsInstanceRequest{KmsInstanceId: tea.String(w.inst.ID)}, rt)
			if err != nil || tea.Int64Value(gi.Body.KmsInstance.VpcNum) != 10 || tea.Int64Value(gi.Body.KmsInstance.KeyNum) != 2 {
				t.Fatalf("GetKmsInstance = %v, %v", gi, err)
			}
			li, err := sec.kms.ListKmsInstancesWithContext(ctx, &kms.ListKmsInstancesRequest{}, rt)
			if err != nil || len(li.Body.KmsInstances.KmsInstance) != 1 || tea.StringValue(li.Body.KmsInstances.KmsInstance[0].KmsInstanceId) != w.inst.ID {
				t.Fatalf("ListKmsInstances = %v, %v", li, err)
			}
			qi, err := sec.kms.GetKmsInstanceQuotaInfosWithContext(ctx, &kms.GetKmsInstanceQuotaInfosRequest{KmsInstanceId: tea.String(w.inst.ID), ResourceType: tea.String("vpc")}, rt)
			if err != nil || len(qi.Body.KmsInstanceQuotaInfos) != 1 || tea.Int64Value(qi.Body.KmsInstanceQuotaInfos[0].UsedQuantity) != 1 ||
				tea.Int64Value(qi.Body.KmsInstanceQuotaInfos[0].ResourceQuota) != 10 {
				t.Fatalf("GetKmsInstanceQuotaInfos = %v, %v", qi, err)
			}
			// Without KmsInstanceId: the caller's instances in the region.
			qa, err := sec.kms.GetKmsInstanceQuotaInfosWithContext(ctx, &kms.GetKmsInstanceQuotaInfosRequest{ResourceType: tea.String("vpc")}, rt)
			if err != nil || len(qa.Body.KmsInstanceQuotaInfos) != 1 || tea.Int64Value(qa.Body.KmsInstanceQuotaInfos[0].ResourceQuota) != 10 {
				t.Fatalf("GetKmsInstanceQuotaInfos without KmsInstanceId = %v, %v", qa, err)
			}
			bind := `[{"VpcId":"vpc-app1","VSwitchId":"vsw-app1","RegionId":"` + region + `","VpcOwnerId":` + w.app1.ID + `}]`
			if _, err := sec.kms.UpdateKmsInstanceBindVpcWithContext(ctx, &kms.UpdateKmsInstanceBindVpcRequest{KmsInstanceId: tea.String(w.inst.ID), BindVpcs: tea.String(bind)}, rt); err != nil {
				t.Fatal(err)
			}
			gi, err = sec.kms.GetKmsInstanceWithContext(ctx, &kms.GetKmsInstanceRequest{KmsInstanceId: tea.String(w.inst.ID)}, rt)
			if err != nil || len(gi.Body.KmsInstance.BindVpcs.BindVpc) != 1 || tea.StringValue(gi.Body.KmsInstance.BindVpcs.BindVpc[0].VpcOwnerId) != w.app1.ID {
				t.Fatalf("GetKmsInstance after a bind = %v, %v", gi, err)
			}
			if _, err := sec.kms.UpdateKmsInstanceBindVpcWithContext(ctx, &kms.UpdateKmsInstanceBindVpcRequest{KmsInstanceId: tea.String(w.inst.ID), BindVpcs: tea.String("[]")}, rt); err != nil {
				t.Fatal(err)
			}

			ec := map[string]interface{}{"tenant": "a b*c~", "purpose": "envelope"}
			gk, err := sec.kms.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{KeyId: tea.String(keyID), NumberOfBytes: tea.Int32(24), EncryptionContext: ec}, rt)
			if err != nil {
				t.Fatal(err)
			}
			if pt, _ := base64.StdEncoding.DecodeString(tea.StringValue(gk.Body.Plaintext)); len(pt) != 24 || tea.StringValue(gk.Body.KeyId) != keyID {
				t.Fatalf("GenerateDataKey = %d bytes, key %s", len(pt), tea.StringValue(gk.Body.KeyId))
			}
			gw, err := sec.kms.GenerateDataKeyWithoutPlaintextWithContext(ctx, &kms.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(keyARN), KeySpec: tea.String("AES_128")}, rt)
			if err != nil || tea.StringValue(gw.Body.CiphertextBlob) == "" {
				t.Fatalf("GenerateDataKeyWithoutPlaintext = %v, %v", gw, err)
			}
			en, err := sec.kms.EncryptWithContext(ctx, &kms.EncryptRequest{KeyId: tea.String("alias/shared"), Plaintext: tea.String(base64.StdEncoding.EncodeToString([]byte("hello")))}, rt)
			if err != nil || tea.StringValue(en.Body.KeyId) != w.key.ID {
				t.Fatalf("Encrypt = %v, %v", en, err)
			}
			re, err := sec.kms.ReEncryptWithContext(ctx, &kms.ReEncryptRequest{CiphertextBlob: en.Body.CiphertextBlob, DestinationKeyId: tea.String(keyID),
				DestinationEncryptionContext: ec}, rt)
			if err != nil || tea.StringValue(re.Body.KeyId) != keyID {
				t.Fatalf("ReEncrypt = %v, %v", re, err)
			}
			for _, c := range []struct {
				blob *string
				want string
			}{{gk.Body.CiphertextBlob, tea.StringValue(gk.Body.Plaintext)}, {re.Body.CiphertextBlob, base64.StdEncoding.EncodeToString([]byte("hello"))}} {
				dc, err := sec.kms.DecryptWithContext(ctx, &kms.DecryptRequest{CiphertextBlob: c.blob, EncryptionContext: map[string]interface{}{"purpose": "envelope", "tenant": "a b*c~"}}, rt)
				if err != nil || tea.StringValue(dc.Body.Plaintext) != c.want || tea.StringValue(dc.Body.KeyId) != keyID {
					t.Fatalf("Decrypt = %v, %v", dc, err)
				}
			}
			if _, err := sec.kms.ScheduleKeyDeletionWithContext(ctx, &kms.ScheduleKeyDeletionRequest{KeyId: tea.String(keyID), PendingWindowInDays: tea.Int32(7)}, rt); err != nil {
				t.Fatal(err)
			}
			d, err = sec.kms.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(keyID)}, rt)
			if err != nil || tea.StringValue(d.Body.KeyMetadata.KeyState) != "PendingDeletion" || tea.StringValue(d.Body.KeyMetadata.DeleteDate) != "2026-01-08T00:00:00Z" {
				t.Fatalf("after ScheduleKeyDeletion: %v, %v", d, err)
			}
			if _, err := sec.kms.CancelKeyDeletionWithContext(ctx, &kms.CancelKeyDeletionRequest{KeyId: tea.String(keyID)}, rt); err != nil {
				t.Fatal(err)
			}

			// --- STS: the pipeline reaches app-1 through its RD access role ---
			mg := newClients(t, cfg(w.pipeline.Credentials()))
			ci, err := mg.sts.GetCallerIdentity()
			if err != nil || tea.StringValue(ci.Body.IdentityType) != "RAMUser" || tea.StringValue(ci.Body.Arn) != w.pipeline.ARN {
				t.Fatalf("GetCallerIdentity = %v, %v", ci, err)
			}
			ar, err := mg.sts.AssumeRoleWithContext(ctx, &sts.AssumeRoleRequest{RoleArn: tea.String(arn.ResourceDirectoryAccessRole(w.app1.ID).String()),
				RoleSessionName: tea.String("rollout"), DurationSeconds: tea.Int64(900)}, rt)
			if err != nil {
				t.Fatal(err)
			}
			if got := tea.StringValue(ar.Body.AssumedRoleUser.Arn); got != "acs:ram::"+w.app1.ID+":role/resourcedirectoryaccountaccessrole/rollout" {
				t.Fatalf("AssumedRoleUser.Arn = %s", got)
			}
			if got := tea.StringValue(ar.Body.Credentials.Expiration); got != "2026-01-01T00:15:00Z" || !strings.HasPrefix(tea.StringValue(ar.Body.Credentials.AccessKeyId), "STS.") {
				t.Fatalf("Credentials = %v", ar.Body.Credentials)
			}
			cr := ar.Body.Credentials
			app := newClients(t, cfg(NewCredentials(*cr.AccessKeyId, *cr.AccessKeySecret, *cr.SecurityToken)))
			ci, err = app.sts.GetCallerIdentity()
			if err != nil || tea.StringValue(ci.Body.IdentityType) != "AssumedRoleUser" || tea.StringValue(ci.Body.AccountId) != w.app1.ID ||
				tea.StringValue(ci.Body.Arn) != "acs:ram::"+w.app1.ID+":assumed-role/resourcedirectoryaccountaccessrole/rollout" {
				t.Fatalf("GetCallerIdentity(session) = %v, %v", ci, err)
			}

			// --- RAM, in app-1 as the access role ---
			perm := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:DescribeKey","kms:GenerateDataKey","kms:Decrypt"],"Resource":["` + w.key.ARN + `"]}]}`
			cp, err := app.ram.CreatePolicyWithContext(ctx, &ram.CreatePolicyRequest{PolicyName: tea.String("Use-Shared-Key"), PolicyDocument: tea.String(perm), Description: tea.String("d")}, rt)
			if err != nil || tea.StringValue(cp.Body.Policy.DefaultVersion) != "v1" || tea.StringValue(cp.Body.Policy.PolicyType) != "Custom" {
				t.Fatalf("CreatePolicy = %v, %v", cp, err)
			}
			cv, err := app.ram.CreatePolicyVersionWithContext(ctx, &ram.CreatePolicyVersionRequest{PolicyName: tea.String("use-shared-key"), PolicyDocument: tea.String(perm), SetAsDefault: tea.Bool(true)}, rt)
			if err != nil || tea.StringValue(cv.Body.PolicyVersion.VersionId) != "v2" || !tea.BoolValue(cv.Body.PolicyVersion.IsDefaultVersion) {
				t.Fatalf("CreatePolicyVersion = %v, %v", cv, err)
			}
			gpol, err := app.ram.GetPolicyWithContext(ctx, &ram.GetPolicyRequest{PolicyName: tea.String("Use-Shared-Key"), PolicyType: tea.String("Custom")}, rt)
			if err != nil || tea.StringValue(gpol.Body.DefaultPolicyVersion.VersionId) != "v2" || tea.StringValue(gpol.Body.DefaultPolicyVersion.PolicyDocument) != perm {
				t.Fatalf("GetPolicy = %v, %v", gpol, err)
			}
			gv, err := app.ram.GetPolicyVersionWithContext(ctx, &ram.GetPolicyVersionRequest{PolicyName: tea.String("Use-Shared-Key"), PolicyType: tea.String("Custom"), VersionId: tea.String("v1")}, rt)
			if err != nil || tea.BoolValue(gv.Body.PolicyVersion.IsDefaultVersion) {
				t.Fatalf("GetPolicyVersion = %v, %v", gv, err)
			}
			if _, err := app.ram.SetDefaultPolicyVersionWithContext(ctx, &ram.SetDefaultPolicyVersionRequest{PolicyName: tea.String("Use-Shared-Key"), VersionId: tea.String("v1")}, rt); err != nil {
				t.Fatal(err)
			}
			if _, err := app.ram.DeletePolicyVersionWithContext(ctx, &ram.DeletePolicyVersionRequest{PolicyName: tea.String("Use-Shared-Key"), VersionId: tea.String("v2")}, rt); err != nil {
				t.Fatal(err)
			}
			lv, err := app.ram.ListPolicyVersionsWithContext(ctx, &ram.ListPolicyVersionsRequest{PolicyName: tea.String("Use-Shared-Key"), PolicyType: tea.String("Custom")}, rt)
			if err != nil || len(lv.Body.PolicyVersions.PolicyVersion) != 1 || tea.StringValue(lv.Body.PolicyVersions.PolicyVersion[0].VersionId) != "v1" {
				t.Fatalf("ListPolicyVersions = %v, %v", lv, err)
			}

			trust := `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}`
			crr, err := app.ram.CreateRoleWithContext(ctx, &ram.CreateRoleRequest{RoleName: tea.String("AliyunECSDiskEncryptDefaultRole"), AssumeRolePolicyDocument: tea.String(trust)}, rt)
			if err != nil || tea.StringValue(crr.Body.Role.Arn) != "acs:ram::"+w.app1.ID+":role/aliyunecsdiskencryptdefaultrole" ||
				tea.StringValue(crr.Body.Role.RoleName) != "AliyunECSDiskEncryptDefaultRole" || tea.Int64Value(crr.Body.Role.MaxSessionDuration) != 3600 {
				t.Fatalf("CreateRole = %v, %v", crr, err)
			}
			gr, err := app.ram.GetRoleWithContext(ctx, &ram.GetRoleRequest{RoleName: tea.String("aliyunecsdiskencryptdefaultrole")}, rt)
			if err != nil || tea.StringValue(gr.Body.Role.RoleName) != "AliyunECSDiskEncryptDefaultRole" || tea.StringValue(gr.Body.Role.AssumeRolePolicyDocument) != trust {
				t.Fatalf("GetRole = %v, %v", gr, err)
			}
			ur, err := app.ram.UpdateRoleWithContext(ctx, &ram.UpdateRoleRequest{RoleName: tea.String("AliyunECSDiskEncryptDefaultRole"), NewDescription: tea.String("disks"), NewMaxSessionDuration: tea.Int64(7200)}, rt)
			if err != nil || tea.StringValue(ur.Body.Role.Description) != "disks" || tea.Int64Value(ur.Body.Role.MaxSessionDuration) != 7200 {
				t.Fatalf("UpdateRole = %v, %v", ur, err)
			}
			lr, err := app.ram.ListRolesWithContext(ctx, &ram.ListRolesRequest{MaxItems: tea.Int32(1)}, rt)
			if err != nil || len(lr.Body.Roles.Role) != 1 || !tea.BoolValue(lr.Body.IsTruncated) {
				t.Fatalf("ListRoles = %v, %v", lr, err)
			}
			lr, err = app.ram.ListRolesWithContext(ctx, &ram.ListRolesRequest{Marker: lr.Body.Marker}, rt)
			if err != nil || len(lr.Body.Roles.Role) != 1 || tea.BoolValue(lr.Body.IsTruncated) {
				t.Fatalf("ListRoles page 2 = %v, %v", lr, err)
			}
			for _, p := range []struct{ name, typ string }{{"Use-Shared-Key", "Custom"}, {"AliyunECSDiskEncryptRolePolicy", "System"}} {
				if _, err := app.ram.AttachPolicyToRoleWithContext(ctx, &ram.AttachPolicyToRoleRequest{RoleName: tea.String("AliyunECSDiskEncryptDefaultRole"), PolicyName: tea.String(p.name), PolicyType: tea.String(p.typ)}, rt); err != nil {
					t.Fatal(err)
				}
			}
			lp, err := app.ram.ListPoliciesForRoleWithContext(ctx, &ram.ListPoliciesForRoleRequest{RoleName: tea.String("AliyunECSDiskEncryptDefaultRole")}, rt)
			if err != nil || len(lp.Body.Policies.Policy) != 2 || tea.StringValue(lp.Body.Policies.Policy[1].PolicyType) != "System" {
				t.Fatalf("ListPoliciesForRole = %v, %v", lp, err)
			}
			le, err := app.ram.ListEntitiesForPolicyWithContext(ctx, &ram.ListEntitiesForPolicyRequest{PolicyName: tea.String("Use-Shared-Key"), PolicyType: tea.String("Custom")}, rt)
			if err != nil || len(le.Body.Roles.Role) != 1 || tea.StringValue(le.Body.Roles.Role[0].RoleName) != "AliyunECSDiskEncryptDefaultRole" {
				t.Fatalf("ListEntitiesForPolicy = %v, %v", le, err)
			}

			cu, err := app.ram.CreateUserWithContext(ctx, &ram.CreateUserRequest{UserName: tea.String("batch"), DisplayName: tea.String("Batch jobs")}, rt)
			if err != nil || tea.StringValue(cu.Body.User.UserName) != "batch" {
				t.Fatalf("CreateUser = %v, %v", cu, err)
			}
			gu, err := app.ram.GetUserWithContext(ctx, &ram.GetUserRequest{UserName: tea.String("BATCH")}, rt)
			if err != nil || tea.StringValue(gu.Body.User.DisplayName) != "Batch jobs" {
				t.Fatalf("GetUser = %v, %v", gu, err)
			}
			if _, err := app.ram.AttachPolicyToUserWithContext(ctx, &ram.AttachPolicyToUserRequest{UserName: tea.String("batch"), PolicyName: tea.String("Use-Shared-Key"), PolicyType: tea.String("Custom")}, rt); err != nil {
				t.Fatal(err)
			}
			lu, err := app.ram.ListPoliciesForUserWithContext(ctx, &ram.ListPoliciesForUserRequest{UserName: tea.String("batch")}, rt)
			if err != nil || len(lu.Body.Policies.Policy) != 1 {
				t.Fatalf("ListPoliciesForUser = %v, %v", lu, err)
			}
			ak, err := app.ram.CreateAccessKeyWithContext(ctx, &ram.CreateAccessKeyRequest{UserName: tea.String("batch")}, rt)
			if err != nil || !strings.HasPrefix(tea.StringValue(ak.Body.AccessKey.AccessKeyId), "LTAI") {
				t.Fatalf("CreateAccessKey = %v, %v", ak, err)
			}

			// The new user's key works at once and is allowed what its
			// policy says on the shared key: cross-account, by ARN, with
			// the key policy naming app-1's access role... which the user
			// is not, so the key policy side refuses.
			batch := newClients(t, cfg(NewCredentials(*ak.Body.AccessKey.AccessKeyId, *ak.Body.AccessKey.AccessKeySecret, "")))
			_, err = batch.kms.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(w.key.ARN)}, rt)
			wantCode(t, err, "Forbidden.NoPermission")
			// The access role session is named in the key policy and has
			// AdministratorAccess at home: both sides allow.
			sk, err := app.kms.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(w.key.ARN)}, rt)
			if err != nil || tea.StringValue(sk.Body.KeyMetadata.Creator) != w.sec.ID {
				t.Fatalf("cross-account DescribeKey = %v, %v", sk, err)
			}
			if _, err := app.kms.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ARN)}, rt); err != nil {
				t.Fatal(err)
			}

			if _, err := app.ram.DetachPolicyFromUserWithContext(ctx, &ram.DetachPolicyFromUserRequest{UserName: tea.String("batch"), PolicyName: tea.String("Use-Shared-Key"), PolicyType: tea.String("Custom")}, rt); err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct{ name, typ string }{{"Use-Shared-Key", "Custom"}, {"AliyunECSDiskEncryptRolePolicy", "System"}} {
				if _, err := app.ram.DetachPolicyFromRoleWithContext(ctx, &ram.DetachPolicyFromRoleRequest{RoleName: tea.String("AliyunECSDiskEncryptDefaultRole"), PolicyName: tea.String(p.name), PolicyType: tea.String(p.typ)}, rt); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := app.ram.DeleteRoleWithContext(ctx, &ram.DeleteRoleRequest{RoleName: tea.String("AliyunECSDiskEncryptDefaultRole")}, rt); err != nil {
				t.Fatal(err)
			}
			if _, err := app.ram.DeletePolicyWithContext(ctx, &ram.DeletePolicyRequest{PolicyName: tea.String("Use-Shared-Key")}, rt); err != nil {
				t.Fatal(err)
			}
			_, err = app.ram.GetRoleWithContext(ctx, &ram.GetRoleRequest{RoleName: tea.String("AliyunECSDiskEncryptDefaultRole")}, rt)
			wantCode(t, err, "EntityNotExist.Role")

			// The log names who called and whose resources were touched.
			for _, e := range w.c.Log().Entries(Match{Status: 200}) {
				if e.CallerAccount == "" || e.Caller == "" || e.TargetAccount == "" || e.RequestID == "" || !e.Time.Equal(w.clock.Now()) {
					t.Errorf("incomplete log entry %+v", e)
				}
				if e.Service == "ram" && e.TargetAccount != e.CallerAccount {
					t.Errorf("RAM call on another account: %+v", e)
				}
			}
			if n := w.c.Log().Count(Match{Service: "kms", Action: "DescribeKey", CallerAccount: w.app1.ID, TargetAccount: w.sec.ID, Status: 200}); n != 1 {
				t.Errorf("log: %d cross-account DescribeKey calls, want 1", n)
			}

			// Writes are flagged: the read-only operations are not.
			for _, e := range w.c.Log().Entries(Match{Writes: true}) {
				if strings.HasPrefix(e.Action, "Get") || strings.HasPrefix(e.Action, "List") || strings.HasPrefix(e.Action, "Describe") || e.Service == "sts" {
					t.Errorf("%s/%s flagged as a write", e.Service, e.Action)
				}
			}
			if n := w.c.Log().Count(Match{Writes: true, Action: "SetKeyPolicy"}); n != 1 {
				t.Errorf("%d SetKeyPolicy writes logged, want 1", n)
			}

			exerciseResourceManager(t, w, cfg)
			// Every operation in the dispatch table succeeded at least once.
			var missing []string
			for name := range w.c.ops {
				svc, action, _ := strings.Cut(name, ":")
				if w.c.Log().Count(Match{Service: svc, Action: action, Status: 200}) == 0 {
					missing = append(missing, name)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("operations never exercised successfully: %v", missing)
			}
		})
	}
}
