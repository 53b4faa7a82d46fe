package fakecloud

import (
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

const delay = 10 * time.Minute

// TestPropagation: changes to key policies, attachments, policy default
// versions and trust policies affect authorization only after
// PropagationDelay of emulator time, in both directions (grant and
// revoke), while reads show them at once.
func TestPropagation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// change applies a grant (grant=true) or its revocation; allowed
		// reports whether the affected caller may act now; read reports
		// whether a read already shows the change.
		run func(t *testing.T, w *world) (change func(grant bool), allowed func() bool, read func(grant bool) bool)
	}{
		{"key policy", func(t *testing.T, w *world) (func(bool), func() bool, func(bool) bool) {
			owner := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
			session := assumeRole(t, configFor(t, w.c, inProc), w.pipeline.Credentials(), arn.ResourceDirectoryAccessRole(w.app1.ID).String(), "prop")
			app := newClients(t, w.c.Config(session, region)).kms
			shared := keyPolicy(w.sec.ID, []string{arn.ResourceDirectoryAccessRole(w.app1.ID).String()})
			private := keyPolicy(w.sec.ID, []string{w.secAdmin.ARN})
			return func(grant bool) {
					doc := map[bool]string{true: shared, false: private}[grant]
					wantCode(t, setKeyPolicy(owner, w.key.ID, doc), "")
				}, func() bool {
					_, err := app.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ARN)}, rt)
					return err == nil
				}, func(grant bool) bool {
					return getKeyPolicy(t, owner, w.key.ID) == map[bool]string{true: shared, false: private}[grant]
				}
		}},
		{"attachment", func(t *testing.T, w *world) (func(bool), func() bool, func(bool) bool) {
			user := must(w.app1.NewUser("worker"))
			rc := newClients(t, w.c.Config(w.app1.RootCredentials(), region)).ram
			kc := newClients(t, w.c.Config(user.Credentials(), region)).kms
			return func(grant bool) {
					var err error
					if grant {
						_, err = rc.AttachPolicyToUserWithContext(ctxb(), &ram.AttachPolicyToUserRequest{UserName: tea.String("worker"), PolicyName: tea.String("AliyunKMSFullAccess"), PolicyType: tea.String("System")}, rt)
					} else {
						_, err = rc.DetachPolicyFromUserWithContext(ctxb(), &ram.DetachPolicyFromUserRequest{UserName: tea.String("worker"), PolicyName: tea.String("AliyunKMSFullAccess"), PolicyType: tea.String("System")}, rt)
					}
					wantCode(t, err, "")
				}, func() bool {
					_, err := kc.ListKeysWithContext(ctxb(), &kms.ListKeysRequest{}, rt)
					return err == nil
				}, func(grant bool) bool {
					out := must(rc.ListPoliciesForUserWithContext(ctxb(), &ram.ListPoliciesForUserRequest{UserName: tea.String("worker")}, rt))
					return (len(out.Body.Policies.Policy) == 1) == grant
				}
		}},
		{"default version", func(t *testing.T, w *world) (func(bool), func() bool, func(bool) bool) {
			must(w.app1.NewPolicy("Lister", permDoc("kms:DescribeKey")))
			user := must(w.app1.NewUser("lister", "Lister"))
			rc := newClients(t, w.c.Config(w.app1.RootCredentials(), region)).ram
			kc := newClients(t, w.c.Config(user.Credentials(), region)).kms
			must(rc.CreatePolicyVersionWithContext(ctxb(), &ram.CreatePolicyVersionRequest{PolicyName: tea.String("Lister"), PolicyDocument: tea.String(permDoc("kms:ListKeys"))}, rt))
			return func(grant bool) {
					v := map[bool]string{true: "v2", false: "v1"}[grant]
					must(rc.SetDefaultPolicyVersionWithContext(ctxb(), &ram.SetDefaultPolicyVersionRequest{PolicyName: tea.String("Lister"), VersionId: tea.String(v)}, rt))
				}, func() bool {
					_, err := kc.ListKeysWithContext(ctxb(), &kms.ListKeysRequest{}, rt)
					return err == nil
				}, func(grant bool) bool {
					out := must(rc.GetPolicyWithContext(ctxb(), &ram.GetPolicyRequest{PolicyName: tea.String("Lister"), PolicyType: tea.String("Custom")}, rt))
					return tea.StringValue(out.Body.DefaultPolicyVersion.VersionId) == map[bool]string{true: "v2", false: "v1"}[grant]
				}
		}},
		{"trust policy", func(t *testing.T, w *world) (func(bool), func() bool, func(bool) bool) {
			closed := `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + w.app1.ID + `:root"]}}],"Version":"1"}`
			open := `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + w.mgmt.ID + `:root"]}}],"Version":"1"}`
			role := must(w.app1.NewRole("Deployer", closed, "AliyunKMSFullAccess"))
			rc := newClients(t, w.c.Config(w.app1.RootCredentials(), region)).ram
			sc := newClients(t, w.c.Config(w.pipeline.Credentials(), region)).sts
			return func(grant bool) {
					doc := map[bool]string{true: open, false: closed}[grant]
					must(rc.UpdateRoleWithContext(ctxb(), &ram.UpdateRoleRequest{RoleName: tea.String("Deployer"), NewAssumeRolePolicyDocument: tea.String(doc)}, rt))
				}, func() bool {
					_, err := sc.AssumeRoleWithContext(ctxb(), &sts.AssumeRoleRequest{RoleArn: tea.String(role.ARN), RoleSessionName: tea.String("deploy")}, rt)
					return err == nil
				}, func(grant bool) bool {
					out := must(rc.GetRoleWithContext(ctxb(), &ram.GetRoleRequest{RoleName: tea.String("Deployer")}, rt))
					return tea.StringValue(out.Body.Role.AssumeRolePolicyDocument) == map[bool]string{true: open, false: closed}[grant]
				}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, Options{PropagationDelay: delay})
			change, allowed, read := tc.run(t, w)
			if allowed() {
				t.Fatal("allowed before the grant")
			}
			for _, grant := range []bool{true, false} {
				change(grant)
				if !read(grant) {
					t.Fatalf("grant=%v: the read does not show the change at once", grant)
				}
				w.clock.Advance(delay - time.Second)
				if allowed() == grant {
					t.Fatalf("grant=%v: took effect before the propagation delay", grant)
				}
				w.clock.Advance(time.Second)
				if allowed() != grant {
					t.Fatalf("grant=%v: not in effect after the propagation delay", grant)
				}
			}
		})
	}
}

// TestPropagationDefaultsToZero: without a delay, changes apply at once;
// SetPropagationDelay changes the delay of a running cloud.
func TestPropagationDefaultsToZero(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	owner := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	dev := must(w.app1.NewUser("dev", "AliyunKMSFullAccess"))
	app := newClients(t, w.c.Config(dev.Credentials(), region)).kms
	gen := func() error {
		_, err := app.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ARN)}, rt)
		return err
	}
	wantCode(t, gen(), "Forbidden.NoPermission")
	wantCode(t, setKeyPolicy(owner, w.key.ID, keyPolicy(w.sec.ID, []string{dev.ARN})), "")
	wantCode(t, gen(), "")
	w.c.SetPropagationDelay(time.Minute)
	wantCode(t, setKeyPolicy(owner, w.key.ID, keyPolicy(w.sec.ID, []string{w.secAdmin.ARN})), "")
	wantCode(t, gen(), "")
	w.clock.Advance(time.Minute)
	wantCode(t, gen(), "Forbidden.NoPermission")
}
