package share_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// TestPartialFailureReport: when one recipient's side keeps failing, Apply
// finishes the others, leaves that recipient out of the key policy, and
// says per step what was done, what failed and what was not attempted; a
// second run finishes the job.
func TestPartialFailureReport(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 2})
	m0, m1 := lz.members[0], lz.members[1]
	fault := lz.cloud.Faults().Add(fakecloud.Fault{Action: "CreatePolicy", Account: m0.ID, Unavailable: 1})
	c := lz.client(t, func(o *share.Options) { o.Retry.MaxAttempts = 2 })
	ctx := context.Background()
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
		{Account: m0.ID, Principal: share.PrincipalRole, Name: "app"}, {Account: m1.ID}}}

	res, err := c.Share(ctx, spec)
	var ae *share.ApplyError
	if !errors.As(err, &ae) || !errors.Is(err, share.ErrIncomplete) || !errors.Is(err, share.ErrUnavailable) || ae.Result != res {
		t.Fatalf("Share = %v, want an *ApplyError wrapping ErrUnavailable", err)
	}
	app, rd := res.Recipients[0], res.Recipients[1]
	var got []string
	for _, s := range app.Steps {
		got = append(got, string(s.Status)+" "+string(s.Step.Action))
	}
	if strings.Join(got, ", ") != "done create-role, failed create-policy, not-attempted attach-policy" ||
		app.Done || app.Granted || !strings.Contains(app.Error, "ServiceUnavailable") || app.Steps[1].Error == "" {
		t.Errorf("app: steps [%s], %+v", strings.Join(got, ", "), app)
	}
	if !rd.Done || !rd.Granted || rd.Error != "" {
		t.Errorf("RD role: %+v", rd)
	}
	if kp := res.KeyPolicy; kp.Status != share.StatusDone || kp.Writes != 1 {
		t.Errorf("key policy %+v", kp)
	}
	doc := lz.key.PolicyDocument()
	if strings.Contains(doc, "role/app") || !strings.Contains(doc, arn.ResourceDirectoryAccessRole(m1.ID).String()) {
		t.Errorf("key policy %s", doc)
	}
	text := res.String()
	for _, want := range []string{"acs:ram::" + m0.ID + ":role/app: NOT granted in the key policy\n", "  done: create role app",
		"  failed: create policy kmsshare-", "  not-attempted: attach custom policy", arn.ResourceDirectoryAccessRole(m1.ID).String() + ": granted in the key policy\n",
		"Key policy: done (1 write(s))"} {
		if !strings.Contains(text, want) {
			t.Errorf("result text lacks %q:\n%s", want, text)
		}
	}

	lz.cloud.Faults().Remove(fault)
	if res, err = c.Share(ctx, spec); err != nil {
		t.Fatalf("second run: %v\n%s", err, res)
	}
	got = nil
	for _, s := range res.Recipients[0].Steps {
		got = append(got, string(s.Status)+" "+string(s.Step.Action))
	}
	if strings.Join(got, ", ") != "done create-policy, done attach-policy" || !res.Recipients[0].Granted {
		t.Errorf("second run: [%s] %+v", strings.Join(got, ", "), res.Recipients[0])
	}
}

// TestPreflightKeyMissingAndUsage: a key that does not exist, and a key for
// signing, are preflight problems; Apply refuses such a plan before any
// call.
func TestPreflightKeyMissingAndUsage(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	signing, err := lz.instance.NewKey(fakecloud.KeyOptions{Spec: "RSA_2048", Usage: "SIGN/VERIFY"})
	if err != nil {
		t.Fatal(err)
	}
	missing := arn.MustParse(lz.key.ARN)
	missing.Resource = "key/key-hzz00000000000000000000"
	tests := []struct {
		name, key string
		code      share.ProblemCode
		class     error
	}{
		{"missing", missing.String(), share.ProblemKeyNotFound, share.ErrNotFound},
		{"signing key", signing.ARN, share.ProblemKeyUsage, share.ErrPreflight},
	}
	c := lz.client(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := mustPlan(t, c, &share.Spec{Key: tt.key, Recipients: []share.Recipient{{Account: lz.members[0].ID}}})
			err := plan.Err()
			var pe *share.PreflightError
			if !errors.As(err, &pe) || !errors.Is(err, share.ErrPreflight) || !errors.Is(err, tt.class) || !errors.Is(err, tt.code) {
				t.Fatalf("plan.Err() = %v", err)
			}
			if len(pe.Problems) != 1 || pe.Problems[0].Code != tt.code {
				t.Errorf("problems %+v", pe.Problems)
			}
			if !strings.Contains(plan.String(), "PROBLEM "+string(tt.code)+": ") {
				t.Errorf("plan text:\n%s", plan)
			}
			seq := lz.lastSeq()
			if _, err := c.Apply(context.Background(), plan); !errors.Is(err, share.ErrPreflight) {
				t.Errorf("Apply = %v", err)
			}
			if lz.lastSeq() != seq {
				t.Error("Apply of a refused plan called the cloud")
			}
		})
	}
}

// TestVerifyQuotaExceeded: a recipient missing from the key policy while the
// instance's quota is full is told apart from a plain denial.
func TestVerifyQuotaExceeded(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 2, quota: 1})
	c := lz.client(t)
	ctx := context.Background()
	if _, err := c.Share(ctx, lz.spec(lz.members[0])); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Verify(ctx, lz.spec(lz.members[1]))
	if err != nil {
		t.Fatal(err)
	}
	got := rep.Results[0]
	if got.Outcome != share.OutcomeQuotaExceeded || !strings.Contains(got.Detail, "access quota is full (1 of 1)") || got.Attempts != 1 {
		t.Errorf("%+v", got)
	}
	if !errors.Is(rep.Err(), share.ErrQuotaExceeded) {
		t.Errorf("Err() = %v", rep.Err())
	}
}

// TestExternalIDOnTheHop: Options.ExternalID is passed on AssumeRole, so an
// access role whose trust requires an external ID can be used; without it
// the account cannot be entered.
func TestExternalIDOnTheHop(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	m := lz.members[0]
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::` + lz.mgmt.ID +
		`:root"},"Condition":{"StringEquals":{"sts:ExternalId":"team-7-ext"}}}]}`
	if _, err := m.NewRole("ext-admin", trust, "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
		{Account: m.ID, Principal: share.PrincipalRole, Name: "app", AccessRole: "ext-admin", Actions: []string{"kms:GenerateDataKey", "kms:Decrypt"}}}}
	ctx := context.Background()

	plan := mustPlan(t, lz.client(t), spec)
	if p := plan.Recipients[0].Problems; len(p) != 1 || p[0].Code != share.ProblemUnreachable || !errors.Is(p[0].Err, share.ErrAccessDenied) {
		t.Errorf("without the external ID: %+v", p)
	}
	wrong := mustPlan(t, lz.client(t, func(o *share.Options) { o.ExternalID = "team-8-ext" }), spec)
	if p := wrong.Recipients[0].Problems; len(p) != 1 || p[0].Code != share.ProblemUnreachable {
		t.Errorf("with the wrong external ID: %+v", p)
	}

	c := lz.client(t, func(o *share.Options) { o.ExternalID = "team-7-ext" })
	seq := lz.lastSeq()
	if _, err := c.Share(ctx, spec); err != nil {
		t.Fatal(err)
	}
	hops := 0
	for _, e := range lz.cloud.Log().Entries(fakecloud.Match{Action: "AssumeRole", Status: 200}) {
		if e.Seq > seq && e.TargetAccount == m.ID {
			hops++
		}
	}
	if hops == 0 {
		t.Error("no AssumeRole into the member account")
	}
	rep, err := c.Verify(ctx, spec)
	if err != nil || !rep.OK() || rep.Results[0].Outcome != share.OutcomeOK {
		t.Fatalf("Verify: %v\n%s", err, rep)
	}
	if !policy.Equivalent(policy.MustParse(roleTrust(t, lz, m.ID, "ext-admin")), policy.MustParse(trust)) {
		t.Error("the access role's trust changed")
	}
}
