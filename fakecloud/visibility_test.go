package fakecloud

import (
	"testing"
	"time"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
)

// TestVisibilityOfNewPrincipals: a role created moments ago is invisible,
// for VisibilityDelay, to SetKeyPolicy's principal check (InvalidParameter,
// as for a role that does not exist) and to AssumeRole
// (EntityNotExist.Role); a detach from a role is invisible to DeletePolicy,
// which answers DeleteConflict.Role.Policy (RAM documents no
// DeleteConflict.Policy.Role). Once the delay has passed, all succeed.
func TestVisibilityOfNewPrincipals(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{VisibilityDelay: 10 * time.Second})
	app := newClients(t, w.c.Config(w.app1.RootCredentials(), region))
	sec := newClients(t, w.c.Config(w.secAdmin.Credentials(), region)).kms
	trustMgmt := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + w.mgmt.ID + `:root"]}}]}`
	must(app.ram.CreateRoleWithContext(ctxb(), &ram.CreateRoleRequest{RoleName: tea.String("Fresh"), AssumeRolePolicyDocument: tea.String(trustMgmt)}, rt))
	must(app.ram.CreatePolicyWithContext(ctxb(), &ram.CreatePolicyRequest{PolicyName: tea.String("Gone"), PolicyDocument: tea.String(kmsAll)}, rt))

	fresh := "acs:ram::" + w.app1.ID + ":role/fresh"
	err := setKeyPolicy(sec, w.key.ID, keyPolicy(w.sec.ID, []string{fresh}))
	wantCode(t, err, "InvalidParameter")
	pipeline := newClients(t, w.c.Config(w.pipeline.Credentials(), region)).sts
	assume := func() error {
		_, err := pipeline.AssumeRoleWithContext(ctxb(), &sts.AssumeRoleRequest{RoleArn: tea.String(fresh), RoleSessionName: tea.String("visibility")}, rt)
		return err
	}
	wantCode(t, assume(), "EntityNotExist.Role")

	w.clock.Advance(10 * time.Second)
	if err := setKeyPolicy(sec, w.key.ID, keyPolicy(w.sec.ID, []string{fresh})); err != nil {
		t.Fatalf("SetKeyPolicy once the role is visible: %v", err)
	}
	if err := assume(); err != nil {
		t.Fatalf("AssumeRole once the role is visible: %v", err)
	}

	attach := &ram.AttachPolicyToRoleRequest{RoleName: tea.String("Fresh"), PolicyName: tea.String("Gone"), PolicyType: tea.String("Custom")}
	must(app.ram.AttachPolicyToRoleWithContext(ctxb(), attach, rt))
	del := func() error {
		_, err := app.ram.DeletePolicyWithContext(ctxb(), &ram.DeletePolicyRequest{PolicyName: tea.String("Gone")}, rt)
		return err
	}
	wantCode(t, del(), "DeleteConflict.Role.Policy")
	must(app.ram.DetachPolicyFromRoleWithContext(ctxb(), &ram.DetachPolicyFromRoleRequest{RoleName: attach.RoleName, PolicyName: attach.PolicyName, PolicyType: attach.PolicyType}, rt))
	err = del()
	wantCode(t, err, "DeleteConflict.Role.Policy")
	if errStatus(err) != 409 {
		t.Errorf("DeleteConflict.Role.Policy with HTTP %d, want 409", errStatus(err))
	}
	w.clock.Advance(10 * time.Second)
	if err := del(); err != nil {
		t.Fatalf("DeletePolicy once the detach is visible: %v", err)
	}
}
