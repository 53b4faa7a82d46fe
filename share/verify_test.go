package share_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
	"github.com/kmsshare/kmsshare/share"
)

// TestVerifyOutcomes breaks a working share in each way Verify must tell
// apart, and checks the typed outcome.
func TestVerifyOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before func(lz *landingZone) // before the share is applied
		setup  func(t *testing.T, lz *landingZone, c *share.Client, spec *share.Spec)
		want   share.Outcome
		err    error
	}{
		{"ok", nil, func(*testing.T, *landingZone, *share.Client, *share.Spec) {}, share.OutcomeOK, nil},
		{"denied by key policy", nil, func(t *testing.T, lz *landingZone, c *share.Client, spec *share.Spec) {
			setPolicy(t, securitySDK(t, lz), lz.key.ARN, mustDefault(t, lz.security.ID).String())
		}, share.OutcomeDeniedByKeyPolicy, share.OutcomeDeniedByKeyPolicy},
		{"denied by recipient RAM policy", nil, func(t *testing.T, lz *landingZone, c *share.Client, spec *share.Spec) {
			// The application role's only permission is the kmsshare policy; detach it.
			m := lz.members[0]
			ram := ramSDK(t, lz, m)
			detachFromRole(t, ram, "Custom", share.RecipientPolicyName(arn.MustParse(lz.key.ARN), arn.RAMRole(m.ID, "app")), "app")
		}, share.OutcomeDeniedByRecipientPolicy, share.OutcomeDeniedByRecipientPolicy},
		{"key disabled", nil, func(t *testing.T, lz *landingZone, c *share.Client, spec *share.Spec) {
			disableKey(t, securitySDK(t, lz), lz.key.ARN)
		}, share.OutcomeKeyDisabled, share.OutcomeKeyDisabled},
		{"recipient role missing", nil, func(t *testing.T, lz *landingZone, c *share.Client, spec *share.Spec) {
			m := lz.members[0]
			ram := ramSDK(t, lz, m)
			detachFromRole(t, ram, "Custom", share.RecipientPolicyName(arn.MustParse(lz.key.ARN), arn.RAMRole(m.ID, "app")), "app")
			deleteRole(t, ram, "app")
		}, share.OutcomeRecipientRoleMissing, share.OutcomeRecipientRoleMissing},
		{"not yet propagated", func(lz *landingZone) {
			// The share does not take effect within Verify's deadline.
			lz.cloud.SetPropagationDelay(24 * time.Hour)
		}, func(*testing.T, *landingZone, *share.Client, *share.Spec) {}, share.OutcomeNotYetPropagated, share.OutcomeNotYetPropagated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lz := newLandingZone(t, lzOptions{members: 1})
			c := lz.client(t, func(o *share.Options) { o.VerifyTimeout = 10 * time.Minute })
			spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
				{Account: lz.members[0].ID, Principal: share.PrincipalRole, Name: "app", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"}}}}
			if tt.before != nil {
				tt.before(lz)
			}
			if _, err := c.Share(context.Background(), spec); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, lz, c, spec)
			rep, err := c.Verify(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			got := rep.Results[0]
			if got.Outcome != tt.want {
				t.Fatalf("outcome %s (%s; %s), want %s", got.Outcome, got.Detail, got.Error, tt.want)
			}
			if tt.err == nil {
				if rep.Err() != nil {
					t.Errorf("Err() = %v", rep.Err())
				}
				return
			}
			if !errors.Is(rep.Err(), tt.err) {
				t.Errorf("Err() = %v, want %v", rep.Err(), tt.err)
			}
			// Every failure here but not-yet-propagated is one waiting will not change.
			if denied := tt.want != share.OutcomeNotYetPropagated; errors.Is(rep.Err(), share.ErrDenied) != denied {
				t.Errorf("errors.Is(Err(), ErrDenied) = %v, want %v", !denied, denied)
			}
			if tt.want == share.OutcomeNotYetPropagated && got.Elapsed < 10*time.Minute {
				t.Errorf("gave up after %v, before the deadline", got.Elapsed)
			}
		})
	}
}

func TestVerifyKeyNotInInstance(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	dk, err := lz.security.NewDefaultKey("cn-hangzhou", fakecloud.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := lz.client(t)
	spec := &share.Spec{Key: dk.ARN, Recipients: []share.Recipient{{Account: lz.members[0].ID}}}
	plan := mustPlan(t, c, spec)
	if err := plan.Err(); !errors.Is(err, share.ErrKeyPolicyUnsupported) || !strings.Contains(plan.String(), "not in a KMS instance") {
		t.Errorf("plan.Err() = %v\n%s", err, plan)
	}
	rep, err := c.Verify(context.Background(), spec)
	if err != nil || rep.Results[0].Outcome != share.OutcomeKeyNotInInstance {
		t.Errorf("Verify: %v %+v", err, rep.Results)
	}
}

// TestPreflightKeyStates: a disabled key or a missing RD access role makes
// the plan unappliable, with typed errors.
func TestPreflightKeyStates(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	c := lz.client(t)
	disableKey(t, securitySDK(t, lz), lz.key.ARN)
	outsider := lz.cloud.NewAccount("not-in-rd")
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: lz.members[0].ID}, {Account: outsider.ID}}}
	plan := mustPlan(t, c, spec)
	err := plan.Err()
	if !errors.Is(err, share.ErrKeyState) || !errors.Is(err, share.ErrPreflight) {
		t.Errorf("plan.Err() = %v", err)
	}
	if len(plan.Recipients[1].Problems) != 1 || plan.Recipients[1].Problems[0].Code != share.ProblemUnreachable {
		t.Errorf("outsider problems %+v", plan.Recipients[1].Problems)
	}
	var pe *share.PreflightError
	if !errors.As(err, &pe) || len(pe.Problems) != 2 {
		t.Errorf("preflight error %+v", pe)
	}
	seq := lz.lastSeq()
	if _, err := c.Apply(context.Background(), plan); !errors.Is(err, share.ErrPreflight) {
		t.Errorf("Apply = %v", err)
	}
	if lz.lastSeq() != seq {
		t.Error("Apply of a refused plan called the cloud")
	}
}

// TestUserAndApplicationRole covers the other principal kinds, narrower
// action sets, and a revoke that also removes the recipient's policy.
func TestUserAndApplicationRole(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 2})
	m0, m1 := lz.members[0], lz.members[1]
	if _, err := m1.NewUser("batch"); err != nil {
		t.Fatal(err)
	}
	c := lz.client(t)
	ctx := context.Background()
	trust, _ := policy.TrustRAM(arn.RAMRole(m0.ID, "ci-runner"))
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{
		{Account: m0.ID, Principal: share.PrincipalRole, Name: "Orders", Actions: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Trust: trust},
		{Account: m1.ID, Principal: share.PrincipalUser, Name: "batch", Actions: []string{"kms:Decrypt"}},
	}}
	plan := mustPlan(t, c, spec)
	if err := plan.Err(); err != nil {
		t.Fatal(err)
	}
	var actions []share.StepAction
	for _, s := range plan.Recipients[0].Steps {
		actions = append(actions, s.Action)
	}
	if strings.Join(toStrings(actions), ",") != "create-role,create-policy,attach-policy" {
		t.Errorf("role steps %v", actions)
	}
	if s := plan.Recipients[1].Steps; len(s) != 2 || !s[1].User {
		t.Errorf("user steps %v", s)
	}
	if _, err := c.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	kp := policy.MustParse(lz.key.PolicyDocument())
	sids := map[string]bool{}
	for _, s := range kp.Statement {
		sids[s.Sid] = true
	}
	if !sids["kmsshare/cross-account-users/Decrypt+GenerateDataKey"] || !sids["kmsshare/cross-account-users/Decrypt"] {
		t.Errorf("statements %s", kp)
	}
	// The role was created with the spec's trust; the user is verified statically.
	rep, err := c.Verify(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Results[1].Outcome != share.OutcomeVerifiedStatically {
		t.Errorf("user outcome %s", rep.Results[1].Outcome)
	}
	// The role trusts only ci-runner, so Verify cannot act as it, and says
	// so after a few tries instead of polling until the deadline.
	if r := rep.Results[0]; r.Outcome != share.OutcomeError || !strings.Contains(r.Error, "NoPermission") || r.Attempts != 5 {
		t.Errorf("role outcome %+v", r)
	}

	res, err := c.Revoke(ctx, spec, share.RevokeOptions{RemoveRecipientPolicies: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	if !policy.Equivalent(policy.MustParse(lz.key.PolicyDocument()), mustDefault(t, lz.security.ID)) {
		t.Errorf("key policy after revoke: %s", lz.key.PolicyDocument())
	}
	if n := len(lz.cloud.Log().Entries(fakecloud.Match{Action: "DeletePolicy", Status: 200})); n != 2 {
		t.Errorf("%d recipient policies deleted, want 2", n)
	}
	// Revoking again finds nothing to do.
	seq := lz.lastSeq()
	if _, err := c.Revoke(ctx, spec, share.RevokeOptions{RemoveRecipientPolicies: true}); err != nil {
		t.Fatal(err)
	}
	if w := lz.writes(seq); len(w) != 0 {
		t.Errorf("second revoke wrote %v", w)
	}
}

func toStrings(as []share.StepAction) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = string(a)
	}
	return out
}

// TestInventory reports who can use the key, the RAM side of each account,
// and drift against a spec, including a grant made outside the library.
func TestInventory(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 3})
	c := lz.client(t)
	ctx := context.Background()
	spec := lz.spec(lz.members[0], lz.members[1])
	spec.Recipients[1].Actions = []string{"kms:Decrypt"}
	if _, err := c.Share(ctx, spec); err != nil {
		t.Fatal(err)
	}
	// Someone grants a third account by hand, to a role without RAM permission.
	m2 := lz.members[2]
	if _, err := m2.NewRole("legacy", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::`+m2.ID+`:root"}}]}`); err != nil {
		t.Fatal(err)
	}
	sdk := securitySDK(t, lz)
	doc := strings.Replace(getPolicy(t, sdk, lz.key.ARN), `],"Version"`,
		`,{"Sid":"by-hand","Effect":"Allow","Principal":{"RAM":["acs:ram::`+m2.ID+`:role/legacy"]},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":["*"]}],"Version"`, 1)
	setPolicy(t, sdk, lz.key.ARN, doc)

	// And a NotAction grant and a conditional one, which must not read as
	// plain grants of the actions they name.
	if _, err := m2.NewRole("notaction", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::`+m2.ID+`:root"}}]}`); err != nil {
		t.Fatal(err)
	}
	doc = strings.Replace(getPolicy(t, sdk, lz.key.ARN), `],"Version"`,
		`,{"Sid":"all-but-decrypt","Effect":"Allow","Principal":{"RAM":["acs:ram::`+m2.ID+`:role/notaction"]},"NotAction":["kms:Decrypt"],"Resource":["*"]}`+
			`,{"Sid":"vpc-only","Effect":"Allow","Principal":{"RAM":["acs:ram::`+m2.ID+`:role/legacy"]},"Action":["kms:GenerateDataKey"],"Resource":["*"],"Condition":{"StringEquals":{"acs:SourceVpc":"vpc-1"}}}],"Version"`, 1)
	setPolicy(t, sdk, lz.key.ARN, doc)

	inv, err := c.Inventory(ctx, lz.key.ARN, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Accounts) != 4 || !inv.Accounts[0].Owner {
		t.Fatalf("accounts %+v", inv.Accounts)
	}
	byPrincipal := map[string]share.PrincipalAccess{}
	for _, a := range inv.Accounts {
		for _, p := range a.Principals {
			byPrincipal[p.Principal] = p
		}
	}
	rd0 := byPrincipal[arn.ResourceDirectoryAccessRole(lz.members[0].ID).String()]
	if rd0.RAM != "allowed" || len(rd0.Actions) != len(share.DefaultActions()) {
		t.Errorf("member 0: %+v", rd0)
	}
	legacy := byPrincipal["acs:ram::"+m2.ID+":role/legacy"]
	if legacy.RAM != "denied" || len(legacy.RAMDenied) != 2 || legacy.Sids[0] != "by-hand" {
		t.Errorf("legacy: %+v", legacy)
	}
	if len(legacy.Actions) != 2 || len(legacy.Conditional) != 1 || !strings.Contains(legacy.Conditional[0], "kms:GenerateDataKey") {
		t.Errorf("legacy's conditional grant: %+v", legacy)
	}
	notAction := byPrincipal["acs:ram::"+m2.ID+":role/notaction"]
	if len(notAction.Actions) != 0 || strings.Join(notAction.AllActionsExcept, ",") != "kms:Decrypt" || notAction.RAM != "unknown" {
		t.Errorf("NotAction grant read as %+v", notAction)
	}
	if inv.Drift == nil || len(inv.Drift.Missing) != 0 || len(inv.Drift.Extra) != 4 {
		t.Errorf("drift %+v", inv.Drift)
	}
	text := inv.String()
	for _, want := range []string{"(owner)", "RAM side: denied", "Drift: extra Allow RAM acs:ram::" + m2.ID + ":role/legacy kms:Decrypt, kms:Encrypt on *",
		"EVERY action except kms:Decrypt"} {
		if !strings.Contains(text, want) {
			t.Errorf("inventory text lacks %q:\n%s", want, text)
		}
	}
}

// TestVerifyRDRoleWithCustomAccessRole: the RD access role is verified by
// assuming it from the management account even when another role manages
// the member.
func TestVerifyRDRoleWithCustomAccessRole(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	m := lz.members[0]
	if _, err := m.NewRole("ops-admin", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::`+lz.mgmt.ID+`:root"}}]}`, "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	c := lz.client(t)
	spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: m.ID, AccessRole: "ops-admin"}}}
	if _, err := c.Share(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Verify(context.Background(), spec)
	if err != nil || !rep.OK() || rep.Results[0].Outcome != share.OutcomeOK {
		t.Fatalf("%v\n%s", err, rep)
	}
}

// TestOverHTTP runs a share through the emulator's real HTTP server on
// 127.0.0.1, so the whole network path of the SDK is exercised too.
func TestOverHTTP(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 2})
	srv := lz.cloud.Serve()
	defer srv.Close()
	c, err := share.New(srv.Config(lz.pipeline.Credentials(), "cn-hangzhou"), func(o *share.Options) {
		o.Clock = manualClock{lz.clock}
		o.SettleDelay = time.Millisecond
	})
	if err != nil {
		t.Fatal(err)
	}
	spec := lz.spec(lz.members...)
	if _, err := c.Share(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Verify(context.Background(), spec)
	if err != nil || !rep.OK() {
		t.Fatalf("%v\n%s", err, rep)
	}
}

// TestVerifyNeverOKWithoutACall: a granted action without a harmless call
// (kms:Encrypt alone) is checked against both policies and reported as
// verified statically, never OK: no call was made, and with a day of
// propagation delay nothing is in effect yet. (It used to be "ok" with no
// call at all.) Actions that have a call are exercised; the rest are
// checked statically and may still be refused.
func TestVerifyNeverOKWithoutACall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		actions []string
		delay   time.Duration
		deny    string // an action a statement of the key policy denies the role
		want    share.Outcome
		checked string
		static  string
	}{
		// kms:TagResource has no harmless call: checked against the policies only.
		{"tag only, not propagated", []string{"kms:TagResource"}, 24 * time.Hour, "", share.OutcomeVerifiedStatically, "", "kms:TagResource"},
		{"tag and describe", []string{"kms:TagResource", "kms:DescribeKey"}, 0, "", share.OutcomeOK, "DescribeKey", "kms:TagResource"},
		{"tag denied", []string{"kms:TagResource", "kms:DescribeKey"}, 0, "kms:TagResource", share.OutcomeDeniedByKeyPolicy, "DescribeKey", ""},
		// kms:Encrypt is exercised with a real call, so it can wait for
		// propagation like the others.
		{"encrypt only", []string{"kms:Encrypt"}, 0, "", share.OutcomeOK, "Encrypt", ""},
		{"encrypt only, not propagated", []string{"kms:Encrypt"}, 24 * time.Hour, "", share.OutcomeNotYetPropagated, "Encrypt", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lz := newLandingZone(t, lzOptions{members: 1})
			m := lz.members[0]
			c := lz.client(t, func(o *share.Options) { o.VerifyTimeout = 10 * time.Minute })
			spec := &share.Spec{Key: lz.key.ARN, Recipients: []share.Recipient{{Account: m.ID, Principal: share.PrincipalRole, Name: "enc", Actions: tt.actions}}}
			lz.cloud.SetPropagationDelay(tt.delay)
			if _, err := c.Share(context.Background(), spec); err != nil {
				t.Fatal(err)
			}
			if tt.deny != "" {
				sdk := securitySDK(t, lz)
				setPolicy(t, sdk, lz.key.ARN, strings.Replace(getPolicy(t, sdk, lz.key.ARN), `],"Version"`,
					`,{"Sid":"no-encrypt","Effect":"Deny","Principal":{"RAM":["acs:ram::`+m.ID+`:role/enc"]},"Action":["`+tt.deny+`"],"Resource":["*"]}],"Version"`, 1))
			}
			rep, err := c.Verify(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			got := rep.Results[0]
			if got.Outcome != tt.want || strings.Join(got.Checked, ",") != tt.checked || strings.Join(got.Static, ",") != tt.static {
				t.Fatalf("outcome %s, checked %v, static %v (%s); want %s, [%s], [%s]", got.Outcome, got.Checked, got.Static, got.Detail, tt.want, tt.checked, tt.static)
			}
			if tt.static != "" && !strings.Contains(rep.String(), "checked against the policies only, not proof of propagation: "+tt.static) {
				t.Errorf("report text:\n%s", rep)
			}
			if tt.deny != "" && !strings.Contains(got.Detail, tt.deny) {
				t.Errorf("detail %q does not name %s", got.Detail, tt.deny)
			}
		})
	}
}

// TestRevokeLeavesForeignGrants: a principal shared by kmsshare and also
// granted by hand in a statement kmsshare does not own keeps that grant
// after a revoke. PlanRevoke says so, and VerifyRevoked reports it as still
// granted, naming the statement (it used to stop at the first refused call
// and ask the key policy about that action only).
func TestRevokeLeavesForeignGrants(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"kms:Decrypt", "kms:Encrypt", "kms:TagResource"} { // two a call can use, one only the policy shows
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			lz := newLandingZone(t, lzOptions{members: 1})
			m := lz.members[0]
			c := lz.client(t)
			ctx := context.Background()
			spec := lz.spec(m)
			if _, err := c.Share(ctx, spec); err != nil {
				t.Fatal(err)
			}
			sdk := securitySDK(t, lz)
			setPolicy(t, sdk, lz.key.ARN, strings.Replace(getPolicy(t, sdk, lz.key.ARN), `],"Version"`,
				`,{"Sid":"by-hand","Effect":"Allow","Principal":{"RAM":["`+arn.ResourceDirectoryAccessRole(m.ID).String()+`"]},"Action":["`+action+`"],"Resource":["*"]}],"Version"`, 1))

			plan, err := c.PlanRevoke(ctx, spec, share.RevokeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			kept := plan.Recipients[0].Kept
			if len(kept) != 1 || kept[0].Sid != "by-hand" || strings.Join(kept[0].Actions, ",") != action {
				t.Errorf("kept %+v", kept)
			}
			if want := `KEPT: statement "by-hand" allows ` + action; !strings.Contains(plan.String(), want) {
				t.Errorf("plan text lacks %q:\n%s", want, plan)
			}
			if b, _ := json.Marshal(plan); !strings.Contains(string(b), `"kept":[{"sid":"by-hand"`) {
				t.Errorf("plan JSON: %s", b)
			}
			if _, err := c.Apply(ctx, plan); err != nil {
				t.Fatal(err)
			}
			rep, err := c.VerifyRevoked(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			got := rep.Results[0]
			if got.Outcome != share.OutcomeStillGranted || !strings.Contains(got.Detail, `"by-hand" allows `+action) || !errors.Is(rep.Err(), share.OutcomeStillGranted) {
				t.Errorf("VerifyRevoked: %s: %s (checked %v)", got.Outcome, got.Detail, got.Checked)
			}
		})
	}
}
