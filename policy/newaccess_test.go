package policy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
)

func keyPolicy(statements ...string) *Document {
	return MustParse(`{"Version":"1","Statement":[` + strings.Join(statements, ",") + `]}`)
}

func allow(principal, actions string) string {
	return `{"Effect":"Allow","Principal":{"RAM":[` + principal + `]},"Action":[` + actions + `],"Resource":["*"]}`
}

func TestCheckNoNewAccess(t *testing.T) {
	t.Parallel()
	const (
		owner   = `"acs:ram::1111111111111111:*"`
		app     = `"acs:ram::2222222222222222:role/app"`
		appCase = `"acs:ram::2222222222222222:role/APP"`
		other   = `"acs:ram::3333333333333333:role/app"`
		session = `"acs:ram::2222222222222222:assumed-role/app/s1"`
		dec     = `"kms:Decrypt"`
		gen     = `"kms:GenerateDataKey"`
		vpc     = `,"Condition":{"StringEquals":{"acs:SourceVpc":["vpc-1"]}}}`
		vpc12   = `,"Condition":{"StringEquals":{"acs:SourceVpc":["vpc-1","vpc-2"]}}}`
		notVpc  = `,"Condition":{"StringNotEquals":{"acs:SourceVpc":["vpc-9"]}}}`
		notVpc2 = `,"Condition":{"StringNotEquals":{"acs:SourceVpc":["vpc-9","vpc-8"]}}}`
		bogus   = `,"Condition":{"NoSuchOperator":{"acs:SourceVpc":["vpc-1"]}}}`
	)
	withCond := func(stmt, cond string) string { return strings.TrimSuffix(stmt, "}") + cond }
	deny := func(principal, actions string) string {
		return strings.Replace(allow(principal, actions), "Allow", "Deny", 1)
	}
	tests := []struct {
		name     string
		old, new *Document
		want     []string // "document path action principal"
	}{
		{"identical", keyPolicy(allow(owner, `"kms:*"`)), keyPolicy(allow(owner, `"kms:*"`)), nil},
		{"nil to nil", nil, nil, nil},
		{"nil old", nil, keyPolicy(allow(app, dec)), []string{"new /Statement/0 kms:Decrypt RAM acs:ram::2222222222222222:role/app"}},
		{"removal only", keyPolicy(allow(owner, `"kms:*"`), allow(app, dec)), keyPolicy(allow(owner, `"kms:*"`)), nil},
		{"new principal", keyPolicy(allow(app, dec)), keyPolicy(allow(app+","+other, dec)),
			[]string{"new /Statement/0 kms:Decrypt RAM acs:ram::3333333333333333:role/app"}},
		{"new action", keyPolicy(allow(app, dec)), keyPolicy(allow(app, dec+","+gen)),
			[]string{"new /Statement/0 kms:GenerateDataKey RAM acs:ram::2222222222222222:role/app"}},
		{"role name case", keyPolicy(allow(app, dec)), keyPolicy(allow(appCase, `"KMS:decrypt"`)), nil},
		{"role covers session", keyPolicy(allow(app, dec)), keyPolicy(allow(session, dec)), nil},
		{"session does not cover role", keyPolicy(allow(session, dec)), keyPolicy(allow(app, dec)),
			[]string{"new /Statement/0 kms:Decrypt RAM acs:ram::2222222222222222:role/app"}},
		{"account covers role", keyPolicy(allow(`"acs:ram::2222222222222222:*"`, dec)), keyPolicy(allow(app, dec)), nil},
		{"root covers role", keyPolicy(allow(`"acs:ram::2222222222222222:root"`, dec)), keyPolicy(allow(app, dec)), nil},
		{"role does not cover account", keyPolicy(allow(app, dec)), keyPolicy(allow(`"acs:ram::2222222222222222:*"`, dec)),
			[]string{"new /Statement/0 kms:Decrypt RAM acs:ram::2222222222222222:*"}},
		{"wildcard action covers", keyPolicy(allow(app, `"kms:Generate*"`)), keyPolicy(allow(app, gen)), nil},
		{"narrow wildcard does not cover wide", keyPolicy(allow(app, `"kms:Generate*"`)), keyPolicy(allow(app, `"kms:*"`)),
			[]string{"new /Statement/0 kms:* RAM acs:ram::2222222222222222:role/app"}},
		{"kms:* covers wildcard", keyPolicy(allow(app, `"kms:*"`)), keyPolicy(allow(app, `"kms:Gen*Key"`)), nil},
		{"wildcard principal", keyPolicy(allow(app, dec)), keyPolicy(allow(`"*"`, dec)),
			[]string{"new /Statement/0 kms:Decrypt RAM *"}},
		{"account wildcard covers", keyPolicy(allow(`"acs:ram::2*:*"`, dec)), keyPolicy(allow(app, dec)), nil},
		{"split across statements", keyPolicy(allow(app, dec), allow(app, gen)), keyPolicy(allow(app, dec+","+gen)), nil},
		{"condition added narrows", keyPolicy(allow(app, dec)), keyPolicy(withCond(allow(app, dec), vpc)), nil},
		{"condition removed widens", keyPolicy(withCond(allow(app, dec), vpc)), keyPolicy(allow(app, dec)),
			[]string{"new /Statement/0 kms:Decrypt RAM acs:ram::2222222222222222:role/app"}},
		{"condition value added widens", keyPolicy(withCond(allow(app, dec), vpc)), keyPolicy(withCond(allow(app, dec), vpc12)),
			[]string{"new /Statement/0 kms:Decrypt RAM acs:ram::2222222222222222:role/app"}},
		{"condition value removed narrows", keyPolicy(withCond(allow(app, dec), vpc12)), keyPolicy(withCond(allow(app, dec), vpc)), nil},
		{"negated value added narrows", keyPolicy(withCond(allow(app, dec), notVpc)), keyPolicy(withCond(allow(app, dec), notVpc2)), nil},
		{"negated value removed widens", keyPolicy(withCond(allow(app, dec), notVpc2)), keyPolicy(withCond(allow(app, dec), notVpc)),
			[]string{"new /Statement/0 kms:Decrypt RAM acs:ram::2222222222222222:role/app"}},
		{"unknown operator allow grants nothing", keyPolicy(), keyPolicy(withCond(allow(app, dec), bogus)), nil},
		{"unknown operator allow covers nothing", keyPolicy(withCond(allow(app, dec), bogus)), keyPolicy(allow(app, dec)),
			[]string{"new /Statement/0 kms:Decrypt RAM acs:ram::2222222222222222:role/app"}},
		{"deny removed", keyPolicy(allow(`"acs:ram::2222222222222222:*"`, dec), deny(app, dec)),
			keyPolicy(allow(`"acs:ram::2222222222222222:*"`, dec)),
			[]string{"old /Statement/1 kms:Decrypt RAM acs:ram::2222222222222222:role/app"}},
		{"deny widened", keyPolicy(allow(owner, `"kms:*"`), deny(app, dec)), keyPolicy(allow(owner, `"kms:*"`), deny(app, `"kms:*"`)), nil},
		{"deny narrowed by condition", keyPolicy(allow(owner, `"kms:*"`), deny(app, dec)),
			keyPolicy(allow(owner, `"kms:*"`), withCond(deny(app, dec), vpc)),
			[]string{"old /Statement/1 kms:Decrypt RAM acs:ram::2222222222222222:role/app"}},
		{"deny with unknown operator still applies", keyPolicy(deny(app, dec)), keyPolicy(withCond(deny(app, dec), bogus)), nil},
		{"not action", keyPolicy(allow(app, dec)),
			MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":[` + app + `]},"NotAction":["kms:Encrypt"],"Resource":["*"]}]}`),
			[]string{"new /Statement/0 every action but kms:Encrypt RAM acs:ram::2222222222222222:role/app"}},
		{"service principal", MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":["*@ecs.aliyuncs.com"]},"Action":["sts:AssumeRole"]}]}`),
			MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":["2222222222222222@ecs.aliyuncs.com","ecs.aliyuncs.com"]},"Action":["sts:AssumeRole"]}]}`), nil},
		{"service principal widened", MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":["2222222222222222@ecs.aliyuncs.com"]},"Action":["sts:AssumeRole"]}]}`),
			MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":["*@ecs.aliyuncs.com"]},"Action":["sts:AssumeRole"]}]}`),
			[]string{"new /Statement/0 sts:AssumeRole Service *@ecs.aliyuncs.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, n := range CheckNoNewAccess(tt.old, tt.new) {
				got = append(got, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", n.Document, n.Path, n.Action, n.Principal)))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("CheckNoNewAccess:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPatternCovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q, p string
		want bool
	}{
		{"*", "anything*", true},
		{"kms:*", "kms:Gen*", true},
		{"kms:Gen*", "kms:*", false},
		{"kms:Gen*", "kms:GenerateDataKey", true},
		{"a?c", "abc", true},
		{"a?c", "a?c", true},
		{"abc", "a?c", false},
		{"a?c", "a*c", false},
		{"a*c", "a?c", true},
		{"*a*", "xa*", true},
		{"KMS:DECRYPT", "kms:decrypt", false},
	}
	for _, tt := range tests {
		if got := patternCovers(tt.q, tt.p, false); got != tt.want {
			t.Errorf("patternCovers(%q, %q) = %v, want %v", tt.q, tt.p, got, tt.want)
		}
	}
	if !patternCovers("KMS:DECRYPT", "kms:decrypt", true) {
		t.Error("patternCovers folds case when asked")
	}
}

// TestCheckNoNewAccessSound draws random pairs of key policies and random
// requests: whenever Evaluate allows a request under new and not under old,
// CheckNoNewAccess must have reported something.
func TestCheckNoNewAccessSound(t *testing.T) {
	t.Parallel()
	principals := []string{`"*"`, `"acs:ram::1111111111111111:*"`, `"acs:ram::2222222222222222:root"`,
		`"acs:ram::2222222222222222:role/app"`, `"acs:ram::2222222222222222:role/a*"`, `"acs:ram::2222222222222222:user/bob"`,
		`"acs:ram::2*:*"`, `"acs:ram::3333333333333333:role/App"`, `"acs:ram::2222222222222222:assumed-role/app/s1"`,
		`"acs:ram::2222222222222222:user/app"`}
	actions := []string{`"kms:*"`, `"kms:Decrypt"`, `"kms:Encrypt"`, `"kms:Gen*"`, `"kms:GenerateDataKey"`, `"*"`, `"kms:?ecrypt"`}
	conds := []string{"", `"Condition":{"StringEquals":{"acs:SourceVpc":["vpc-1"]}}`,
		`"Condition":{"StringEquals":{"acs:SourceVpc":["vpc-1","vpc-2"]}}`,
		`"Condition":{"StringNotEquals":{"acs:SourceVpc":["vpc-2"]}}`,
		`"Condition":{"StringNotEquals":{"acs:SourceVpc":["vpc-1","vpc-2"]}}`,
		`"Condition":{"StringLike":{"acs:SourceVpc":["vpc-*"]}}`,
		`"Condition":{"Bogus":{"acs:SourceVpc":["vpc-1"]}}`}
	callers := []arn.ARN{
		arn.MustParse("acs:ram::1111111111111111:user/admin"),
		arn.MustParse("acs:ram::2222222222222222:assumed-role/app/s1"),
		arn.MustParse("acs:ram::2222222222222222:assumed-role/app/s2"),
		arn.MustParse("acs:ram::2222222222222222:assumed-role/another/s1"),
		arn.MustParse("acs:ram::2222222222222222:user/bob"),
		arn.MustParse("acs:ram::2222222222222222:user/app"),
		arn.MustParse("acs:ram::2222222222222222:root"),
		arn.MustParse("acs:ram::3333333333333333:assumed-role/app/s1"),
		arn.MustParse("acs:ram::4444444444444444:user/bob"),
	}
	requestActions := []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:SetKeyPolicy"}
	contexts := []map[string][]string{nil, {"acs:SourceVpc": {"vpc-1"}}, {"acs:SourceVpc": {"vpc-2"}}, {"acs:SourceVpc": {"vpc-3"}}}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	doc := func() *Document {
		var stmts []string
		for range rng.IntN(3) + 1 {
			effect := "Allow"
			if rng.IntN(4) == 0 {
				effect = "Deny"
			}
			ps := pick(principals)
			if rng.IntN(2) == 0 {
				ps += "," + pick(principals)
			}
			as := pick(actions)
			if rng.IntN(2) == 0 {
				as += "," + pick(actions)
			}
			s := `{"Effect":"` + effect + `","Principal":{"RAM":[` + ps + `]},"Action":[` + as + `],"Resource":["*"]`
			if c := pick(conds); c != "" {
				s += "," + c
			}
			stmts = append(stmts, s+"}")
		}
		return keyPolicy(stmts...)
	}
	const owner = "1111111111111111"
	found := 0
	for range 3000 {
		old, new := doc(), doc()
		reported := len(CheckNoNewAccess(old, new)) > 0
		for _, c := range callers {
			for _, a := range requestActions {
				for _, ctx := range contexts {
					req := Request{Caller: Caller{ARN: c}, Action: a, Resource: "acs:kms:cn-hangzhou:" + owner + ":key/key-1",
						ResourceAccount: owner, Context: ctx}
					if Evaluate(req, new).Decision == Allowed && Evaluate(req, old).Decision != Allowed {
						found++
						if !reported {
							t.Fatalf("new access not reported: %s %s %v\nold %s\nnew %s", c, a, ctx, old, new)
						}
					}
				}
			}
		}
		if Equivalent(old, new) && reported {
			t.Fatalf("equivalent documents reported:\nold %s\nnew %s\n%v", old, new, CheckNoNewAccess(old, new))
		}
	}
	if found == 0 {
		t.Fatal("the random documents never granted new access; the test checks nothing")
	}
}

func ExampleCheckNoNewAccess() {
	old := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::2222222222222222:role/app"]},"Action":["kms:Decrypt"],"Resource":["*"]}]}`)
	new := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::2222222222222222:role/app"]},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":["*"]}]}`)
	for _, n := range CheckNoNewAccess(old, new) {
		fmt.Println(n)
	}
	// Output:
	// new document /Statement/0: RAM acs:ram::2222222222222222:role/app may kms:GenerateDataKey on *: no Allow of the old document grants it
}
