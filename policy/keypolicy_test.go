package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
)

func TestDefaultKeyPolicy(t *testing.T) {
	t.Parallel()
	d, err := DefaultKeyPolicy(owner)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:*"]},"Resource":["*"],"Sid":"kms default key policy"}],"Version":"1"}`
	if got := d.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if err := d.Validate(KeyPolicy); err != nil {
		t.Error(err)
	}
	if _, err := DefaultKeyPolicy("119285303511****"); !errors.Is(err, ErrInvalid) || !errors.Is(err, arn.ErrMasked) {
		t.Errorf("masked owner: %v", err)
	}
}

func TestSetCrossAccountUsers(t *testing.T) {
	t.Parallel()
	base, _ := DefaultKeyPolicy(owner)
	app := arn.RAMRole(other, "App")
	disk := arn.RAMRole(third, "AliyunECSDiskEncryptDefaultRole")

	d, err := SetCrossAccountUsers(base, owner, nil, app, disk)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:*"]},"Resource":["*"],"Sid":"kms default key policy"},` +
		`{"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey","kms:GenerateAndExportDataKey","kms:AsymmetricEncrypt","kms:AsymmetricDecrypt","kms:DescribeKey","kms:DescribeKeyVersion","kms:ListKeyVersions","kms:ListAliasesByKeyId","kms:TagResource"],` +
		`"Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app","acs:ram::` + third + `:role/aliyunecsdiskencryptdefaultrole"]},"Resource":["*"],"Sid":"kmsshare/cross-account-users"}],"Version":"1"}`
	if got := d.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if base.String() == d.String() {
		t.Error("the input document was modified")
	}
	// Idempotent: the same grant again changes nothing, byte for byte.
	again, err := SetCrossAccountUsers(d, owner, nil, disk, app)
	if err != nil || again.String() != d.String() {
		t.Errorf("second application changed the document:\n%s", again)
	}
	// Order of application does not matter.
	d2, _ := SetCrossAccountUsers(base, owner, nil, disk)
	d2, _ = SetCrossAccountUsers(d2, owner, nil, app)
	if d2.String() != d.String() {
		t.Errorf("order-dependent result:\n%s\n%s", d2, d)
	}
	// A narrower set moves the principal to its own statement.
	narrow, err := SetCrossAccountUsers(d, owner, []string{"kms:GenerateDataKey", "kms:decrypt", "kms:Decrypt"}, app)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(narrow.Statement); n != 3 {
		t.Fatalf("want 3 statements, got %s", narrow)
	}
	s := narrow.Statement[2]
	if s.Sid != "kmsshare/cross-account-users/Decrypt+GenerateDataKey" || strings.Join(s.Action.Values, ",") != "kms:Decrypt,kms:GenerateDataKey" ||
		strings.Join(s.Principal.RAM.Values, ",") != "acs:ram::"+other+":role/app" {
		t.Errorf("narrow statement %+v", s)
	}
	if narrow.Statement[1].Principal.RAM.Contains("acs:ram::" + other + ":role/app") {
		t.Error("principal left in the full-set statement")
	}
	// Removing everything drops the owned statements.
	empty, err := RemoveCrossAccountUsers(narrow, owner, app, disk)
	if err != nil {
		t.Fatal(err)
	}
	if empty.String() != base.String() {
		t.Errorf("after removing all: %s", empty)
	}
	// Removing what is not there is a no-op.
	if same, _ := RemoveCrossAccountUsers(base, owner, app); same.String() != base.String() {
		t.Error("removing an absent principal changed the document")
	}
}

func TestForeignStatementsUntouched(t *testing.T) {
	t.Parallel()
	// Someone else's statements, in their own style: field order, scalars,
	// spacing, a Condition. They must come back byte for byte.
	in := `{"Version": "1", "Statement": [
	  {"Sid": "kms default key policy", "Effect": "Allow", "Principal": {"RAM": "acs:ram::` + owner + `:*"}, "Action": "kms:*", "Resource": "*"},
	  {"Effect": "Allow", "Resource": ["*"], "Action": ["kms:Decrypt"], "Principal": {"RAM": ["acs:ram::` + third + `:user/legacy"]}, "Sid": "legacy-grant"},
	  {"Sid": "kmsshare/cross-account-users", "Effect": "Allow", "Principal": {"RAM": ["acs:ram::` + other + `:role/Old"]}, "Action": ["kms:Decrypt"], "Resource": ["*"]}
	]}`
	d := MustParse(in)
	foreign0 := string(d.Statement[0].raw)
	foreign1 := string(d.Statement[1].raw)
	out, err := SetCrossAccountUsers(d, owner, nil, arn.RAMRole(other, "App"))
	if err != nil {
		t.Fatal(err)
	}
	b := out.String()
	if !strings.Contains(b, foreign0) || !strings.Contains(b, foreign1) {
		t.Errorf("foreign statements rewritten:\n%s", b)
	}
	if !strings.HasPrefix(b, `{"Version":"1","Statement":[`+foreign0+","+foreign1+",") {
		t.Errorf("statement order or document form changed:\n%s", b)
	}
	// The owned statement was rewritten into the library's form. The
	// principal already there had been narrowed to kms:Decrypt by hand: it
	// keeps exactly that, moved to the statement for that set, and is not
	// widened to the full set the new principal gets.
	if got := out.Statement[2]; !got.Principal.RAM.Contains("acs:ram::"+other+":role/app") || got.Principal.RAM.Contains("acs:ram::"+other+":role/old") {
		t.Errorf("owned statement %s", got.appendCanonical(nil))
	}
	old := Caller{ARN: arn.MustParse("acs:ram::" + other + ":assumed-role/Old/s1")}
	for action, want := range map[string]Decision{"kms:Decrypt": Allowed, "kms:Encrypt": ImplicitDeny, "kms:GenerateDataKey": ImplicitDeny} {
		req := Request{Caller: old, Action: action, Resource: keyARN, ResourceAccount: owner}
		if got := Evaluate(req, out).Decision; got != want {
			t.Errorf("role/Old %s: %v, want %v\n%s", action, got, want, out)
		}
	}
	if !strings.Contains(b, `"Sid":"kmsshare/cross-account-users/Decrypt"`) {
		t.Errorf("narrowed principal not moved to its own statement:\n%s", b)
	}
	if err := out.Validate(KeyPolicy); err != nil {
		t.Error(err)
	}
}

func TestKeyPolicyEditsRefuseBadInput(t *testing.T) {
	t.Parallel()
	base, _ := DefaultKeyPolicy(owner)
	tests := []struct {
		name string
		edit func() (*Document, error)
		want string
	}{
		{"admin action to other account", func() (*Document, error) {
			return SetCrossAccountUsers(base, owner, []string{"kms:Decrypt", "kms:ScheduleKeyDeletion"}, arn.RAMRole(other, "app"))
		}, "administrator actions are never granted"},
		{"kms:* to other account", func() (*Document, error) {
			return SetCrossAccountUsers(base, owner, []string{"kms:*"}, arn.RAMRole(other, "app"))
		}, "administrator actions"},
		{"wildcard action to other account", func() (*Document, error) {
			return SetCrossAccountUsers(base, owner, []string{"kms:Generate*"}, arn.RAMRole(other, "app"))
		}, "administrator actions"},
		{"action covered by an administrator pattern", func() (*Document, error) {
			return SetCrossAccountUsers(base, owner, []string{"kms:SetKeyPolicy"}, arn.RAMRole(other, "app"))
		}, "administrator actions"},
		{"unknown action", func() (*Document, error) {
			return SetCrossAccountUsers(base, owner, []string{"kms:GenerateDataKeyWithoutPlaintext"}, arn.RAMRole(other, "app"))
		}, "not a key user action"},
		{"empty action list", func() (*Document, error) {
			return SetCrossAccountUsers(base, owner, []string{}, arn.RAMRole(other, "app"))
		}, "no actions"},
		{"owner account as cross-account user", func() (*Document, error) {
			return SetCrossAccountUsers(base, owner, nil, arn.RAMRole(owner, "app"))
		}, "key's own account"},
		{"account principal as cross-account user", func() (*Document, error) {
			return SetCrossAccountUsers(base, owner, nil, arn.AccountAll(other))
		}, "want a RAM user"},
		{"masked principal", func() (*Document, error) {
			return SetCrossAccountUsers(base, owner, nil, arn.RAMRole("119285303511****", "app"))
		}, "masks IDs"},
		{"no principals", func() (*Document, error) {
			return SetCrossAccountUsers(base, owner, nil)
		}, "no principals"},
		{"other account as administrator", func() (*Document, error) {
			return AddKeyAdministrators(base, owner, arn.RAMUser(other, "admin"))
		}, "must belong to the key's account"},
		{"other account as key user", func() (*Document, error) {
			return AddKeyUsers(base, owner, arn.RAMRole(other, "app"))
		}, "must belong to the key's account"},
		{"bad owner", func() (*Document, error) {
			return AddKeyUsers(base, "<owner-uid>", arn.RAMRole(owner, "app"))
		}, "placeholder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.edit()
			if d != nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, %v; want an error mentioning %q", d, err, tt.want)
			}
		})
	}
}

func TestAdministratorsAndUsers(t *testing.T) {
	t.Parallel()
	base, _ := DefaultKeyPolicy(owner)
	d, err := AddKeyAdministrators(base, owner, arn.RAMUser(owner, "for_test_policy"))
	if err != nil {
		t.Fatal(err)
	}
	d, err = AddKeyUsers(d, owner, arn.RAMRole(owner, "App"), arn.RAMUser(owner, "svc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Statement) != 3 || d.Statement[1].Sid != SidKeyAdministrators || d.Statement[2].Sid != SidKeyUsers {
		t.Fatalf("got %s", d)
	}
	if len(d.Statement[1].Action.Values) != 14 || len(d.Statement[2].Action.Values) != 11 {
		t.Errorf("action counts %d, %d", len(d.Statement[1].Action.Values), len(d.Statement[2].Action.Values))
	}
	if fs := Lint(d, KeyPolicy, LintOptions{Owner: owner}); len(fs) != 0 {
		t.Errorf("lint findings on a built policy: %v", fs)
	}
	d, _ = RemoveKeyUsers(d, owner, arn.RAMRole(owner, "app"))
	if got := d.Statement[2].Principal.RAM.Values; len(got) != 1 || got[0] != "acs:ram::"+owner+":user/svc" {
		t.Errorf("after removing the role: %v", got)
	}
	d, _ = RemoveKeyAdministrators(d, owner, arn.RAMUser(owner, "for_test_policy"))
	if len(d.Statement) != 2 {
		t.Errorf("administrators statement left behind: %s", d)
	}
}

func TestCrossAccountSid(t *testing.T) {
	t.Parallel()
	all := CrossAccountUserActions()
	if CrossAccountSid(all) != SidCrossAccountUsers {
		t.Error("full set")
	}
	ten := all[:10]
	sid := CrossAccountSid(ten)
	if len(sid) > MaxSidLen || !validSid(sid) || !strings.HasPrefix(sid, SidCrossAccountUsers+"/") {
		t.Errorf("sid %q", sid)
	}
	if CrossAccountSid(ten) != sid || CrossAccountSid(all[1:]) == sid {
		t.Error("sid not a function of the set")
	}
}

// TestOwnedStatementsRepaired: an owned statement that someone widened by
// hand is put back into shape by the next edit, duplicates of an owned Sid
// are merged, and RAM user names compare case-insensitively.
func TestOwnedStatementsRepaired(t *testing.T) {
	t.Parallel()
	app := "acs:ram::" + other + ":role/app"
	widened := MustParse(`{"Version":"1","Statement":[` + ownerStmtKP + `,
		{"Sid":"kmsshare/cross-account-users","Effect":"Allow","Principal":{"RAM":["` + app + `"]},"Action":["kms:*"],"Resource":["*"],
		 "Condition":{"Bool":{"acs:SecureTransport":"true"}}}]}`)
	d, err := SetCrossAccountUsers(widened, owner, nil, arn.RAMRole(other, "app"))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Statement[1]
	if len(s.Action.Values) != 11 || s.Condition != nil || s.Action.Contains("kms:*") {
		t.Errorf("widened statement not repaired: %s", s.appendCanonical(nil))
	}
	for _, f := range Lint(d, KeyPolicy, LintOptions{Owner: owner}) {
		if f.Code == "cross-account-admin" {
			t.Errorf("still grants administration: %v", f)
		}
	}
	// Removing another principal from a tampered narrow statement also repairs it.
	narrowTampered := MustParse(`{"Version":"1","Statement":[` + ownerStmtKP + `,
		{"Sid":"kmsshare/cross-account-users/Decrypt","Effect":"Allow","Principal":{"RAM":["` + app + `","acs:ram::` + third + `:role/x"]},"Action":["kms:Decrypt","kms:ScheduleKeyDeletion"],"Resource":["*"]}]}`)
	d, _ = RemoveCrossAccountUsers(narrowTampered, owner, arn.RAMRole(third, "x"))
	if got := strings.Join(d.Statement[1].Action.Values, ","); got != "kms:Decrypt" {
		t.Errorf("narrow statement actions %s", got)
	}

	dup := MustParse(`{"Version":"1","Statement":[` + ownerStmtKP + `,
		{"Sid":"kmsshare/cross-account-users","Effect":"Allow","Principal":{"RAM":["` + app + `"]},"Action":["kms:Decrypt"],"Resource":["*"]},
		{"Sid":"legacy","Effect":"Allow","Principal":{"RAM":["acs:ram::` + third + `:root"]},"Action":["kms:Decrypt"],"Resource":["*"]},
		{"Sid":"kmsshare/cross-account-users","Effect":"Allow","Principal":{"RAM":["acs:ram::` + third + `:role/b"]},"Action":["kms:Encrypt"],"Resource":["*"]}]}`)
	d, _ = RemoveCrossAccountUsers(dup, owner, arn.RAMRole(third, "b"))
	req := Request{Caller: Caller{Account: third, ARN: arn.MustParse("acs:ram::" + third + ":assumed-role/b/s1")},
		Action: "kms:Encrypt", Resource: keyARN, ResourceAccount: owner}
	if got := Evaluate(req, d).Decision; got != ImplicitDeny {
		t.Errorf("revoked principal still %v through a duplicate Sid: %s", got, d)
	}
	// app, narrowed to Decrypt by hand in a duplicate, keeps just that.
	appReq := Request{Caller: Caller{ARN: arn.MustParse("acs:ram::" + other + ":assumed-role/app/s1")},
		Action: "kms:Decrypt", Resource: keyARN, ResourceAccount: owner}
	if got := Evaluate(appReq, d).Decision; got != Allowed {
		t.Errorf("app lost kms:Decrypt: %s", d)
	}
	appReq.Action = "kms:Encrypt"
	if got := Evaluate(appReq, d).Decision; got != ImplicitDeny {
		t.Errorf("app widened to kms:Encrypt: %s", d)
	}
	for _, sid := range []string{"kmsshare/cross-account-users", "kmsshare/cross-account-users/Decrypt"} {
		if n := strings.Count(d.String(), `"Sid":"`+sid+`"`); n > 1 {
			t.Errorf("%d statements with Sid %s after the edit", n, sid)
		}
	}
	if !strings.Contains(d.String(), `"Sid":"legacy"`) {
		t.Error("a foreign statement was lost")
	}

	withBob, _ := SetCrossAccountUsers(mustDefaultKP(t), owner, nil, arn.RAMUser(other, "Bob"))
	again, _ := SetCrossAccountUsers(withBob, owner, nil, arn.RAMUser(other, "bob"))
	if again.String() != withBob.String() {
		t.Errorf("user name case made a second principal:\n%s", again)
	}
	gone, _ := RemoveCrossAccountUsers(withBob, owner, arn.RAMUser(other, "BOB"))
	if len(gone.Statement) != 1 {
		t.Errorf("user not removed across case: %s", gone)
	}
}

const ownerStmtKP = `{"Sid":"kms default key policy","Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:*"]},"Action":["kms:*"],"Resource":["*"]}`

func mustDefaultKP(t *testing.T) *Document {
	d, err := DefaultKeyPolicy(owner)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
