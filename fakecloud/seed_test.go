package fakecloud

import (
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/google/go-cmp/cmp"
)

// TestSameSeedSameIDs: every identifier the emulator chooses, in set-up
// and over the wire (accounts, directory and folders, instances, keys and
// key versions, roles, users, access key IDs, request IDs), comes from the
// seeded source: two runs with the same Seed and the same order give the
// same IDs, and another seed gives others. Secrets are not compared: they
// come from crypto/rand on purpose.
func TestSameSeedSameIDs(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []string {
		w := newWorld(t, Options{Seed: seed})
		ids := []string{w.mgmt.ID, w.app1.ID, w.app2.ID, w.sec.ID, w.rd.ID, w.rd.Root().ID, w.apps.ID,
			w.inst.ID, w.key.ID, w.pipeline.Credentials().AccessKeyID, w.secAdmin.Credentials().AccessKeyID}
		cl := newClients(t, w.c.Config(w.secAdmin.Credentials(), region))
		ck := must(cl.kms.CreateKeyWithContext(ctxb(), &kms.CreateKeyRequest{DKMSInstanceId: tea.String(w.inst.ID)}, rt))
		md := ck.Body.KeyMetadata
		ids = append(ids, tea.StringValue(ck.Body.RequestId), tea.StringValue(md.KeyId), tea.StringValue(md.PrimaryKeyVersion))
		cr := must(cl.ram.CreateRoleWithContext(ctxb(), &ram.CreateRoleRequest{RoleName: tea.String("r"), AssumeRolePolicyDocument: tea.String(ecsTrust)}, rt))
		ids = append(ids, tea.StringValue(cr.Body.RequestId), tea.StringValue(cr.Body.Role.RoleId))
		cu := must(cl.ram.CreateUserWithContext(ctxb(), &ram.CreateUserRequest{UserName: tea.String("u")}, rt))
		ids = append(ids, tea.StringValue(cu.Body.RequestId), tea.StringValue(cu.Body.User.UserId))
		ca := must(cl.ram.CreateAccessKeyWithContext(ctxb(), &ram.CreateAccessKeyRequest{UserName: tea.String("u")}, rt))
		ids = append(ids, tea.StringValue(ca.Body.RequestId), tea.StringValue(ca.Body.AccessKey.AccessKeyId))
		for i, id := range ids {
			if id == "" {
				t.Fatalf("seed %d: ID %d is empty", seed, i)
			}
		}
		return ids
	}
	a, b, c := run(5), run(5), run(6)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs with seed 5 chose different IDs (-first +second):\n%s", diff)
	}
	// Request IDs count requests, so they repeat across seeds; the chosen
	// IDs must not.
	for i := range a {
		if a[i] == c[i] && !isRequestID(a[i]) {
			t.Errorf("ID %d is %q with seed 5 and seed 6", i, a[i])
		}
	}
}

func isRequestID(s string) bool { return len(s) > 4 && s[:4] == "FAKE" }
