package share

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/policy"
)

// TestChangedStatements: the new-access guard of a manifest plan sees only
// what an edit changed, and still sees all of it.
func TestChangedStatements(t *testing.T) {
	t.Parallel()
	owner := "1000000000000009"
	var rs []Recipient
	for i := 0; i < 50; i++ {
		rs = append(rs, Recipient{Account: fmt.Sprintf("20000000000%05d", i)})
	}
	base := policy.MustParse(`{"Version":"1","Statement":[{"Sid":"break-glass","Effect":"Allow","Principal":{"RAM":["acs:ram::3000000000000003:role/auditor"]},"Action":["kms:DescribeKey"],"Resource":"*"}]}`)
	cur, err := grantAll(base, owner, rs)
	if err != nil {
		t.Fatal(err)
	}
	newcomer := Recipient{Account: "4000000000000004"}
	narrow := Recipient{Account: rs[0].Account, Actions: []string{"kms:Decrypt"}}
	for _, tc := range []struct {
		name    string
		edit    func(d *policy.Document) *policy.Document
		meant   []Recipient
		gainers []string // accounts with new access
		problem bool
	}{
		{"one more member", func(d *policy.Document) *policy.Document { d, _ = grantAll(d, owner, []Recipient{newcomer}); return d },
			[]Recipient{newcomer}, []string{newcomer.Account}, false},
		{"a member narrowed", func(d *policy.Document) *policy.Document { d, _ = grantAll(d, owner, []Recipient{narrow}); return d },
			[]Recipient{narrow}, nil, false},
		{"nothing", func(d *policy.Document) *policy.Document { return d }, nil, nil, false},
		{"a foreign statement widened", func(d *policy.Document) *policy.Document {
			out := d.Clone()
			for i, s := range out.Statement {
				if s.Sid == "break-glass" {
					out.Statement[i] = withRAM(s, []string{"acs:ram::3000000000000003:role/auditor"})
					out.Statement[i].Action = policy.List("kms:DescribeKey", "kms:Decrypt")
				}
			}
			return out
		}, nil, []string{"3000000000000003"}, true},
		{"an unmeant member added", func(d *policy.Document) *policy.Document { d, _ = grantAll(d, owner, []Recipient{newcomer}); return d },
			nil, []string{newcomer.Account}, true},
	} {
		next := tc.edit(cur)
		was, will := changedStatements(cur, next)
		full := policy.CheckNoNewAccess(cur, next)
		reduced := policy.CheckNoNewAccess(was, will)
		accounts := func(ns []policy.NewAccess) map[string]bool {
			out := map[string]bool{}
			for _, n := range ns {
				for _, a := range tc.gainers {
					if strings.Contains(n.Principal, a) {
						out[a] = true
					}
				}
				if !strings.Contains(n.String(), "4000000000000004") && !strings.Contains(n.String(), "3000000000000003") {
					out["other:"+n.Principal] = true
				}
			}
			return out
		}
		if fa, ra := accounts(full), accounts(reduced); len(fa) != len(tc.gainers) || len(ra) != len(tc.gainers) {
			t.Errorf("%s: new access in full %v, reduced %v; want %v", tc.name, fa, ra, tc.gainers)
		}
		if n := len(will.Statement); tc.name == "one more member" && (n != 1 || len(will.Statement[0].Principal.RAM.Values) != 1) {
			t.Errorf("%s: reduced to %d statement(s): %v", tc.name, n, will.Statement)
		}
		guard := &Plan{Operation: OpShare, Spec: Spec{Key: "acs:kms:cn-hangzhou:" + owner + ":key/key-x", Recipients: tc.meant},
			KeyPolicy: KeyPolicyPlan{Current: was, Desired: will}}
		checkNewAccess(guard, owner)
		if got := len(guard.Problems) > 0; got != tc.problem {
			t.Errorf("%s: guard problems %v, want a problem: %v", tc.name, guard.Problems, tc.problem)
		}
	}
}
