package policy

import (
	"slices"
	"testing"
)

// TestForeignAccounts is the semantics table of the access-quota count: which
// principals name a foreign account, and whether the account then also gets
// anything from the key (EffectiveKeyPolicy). Counted-but-granting-nothing is
// the documented :* / :root case (corrections.md §3).
func TestForeignAccounts(t *testing.T) {
	t.Parallel()
	const owner, b, c = "1111111111111111", "2222222222222222", "3333333333333333"
	allow := func(principals ...string) Statement {
		return Statement{Effect: Allow, Principal: &Principal{RAM: List(principals...)}, Action: List("kms:Decrypt"), Resource: List("*")}
	}
	tests := []struct {
		name    string
		stmts   []Statement
		want    []string // counted against the quota
		granted []string // foreign accounts the effective policy grants something
	}{
		{"owner only", []Statement{allow("acs:ram::" + owner + ":*")}, nil, nil},
		{"foreign role", []Statement{allow("acs:ram::" + b + ":role/app")}, []string{b}, []string{b}},
		{"foreign user", []Statement{allow("acs:ram::" + b + ":user/bob")}, []string{b}, []string{b}},
		{"foreign :* counts, grants nothing", []Statement{allow("acs:ram::" + b + ":*")}, []string{b}, nil},
		{"foreign :root counts, grants nothing", []Statement{allow("acs:ram::" + b + ":root")}, []string{b}, nil},
		{"wildcard account names no account", []Statement{allow("acs:ram::*:role/app", "acs:ram::22222222222222?2:*")}, nil, nil},
		{"deny names no account", []Statement{{Effect: Deny, Principal: &Principal{RAM: List("acs:ram::" + b + ":role/app")}, Action: List("kms:Decrypt"), Resource: List("*")}}, nil, nil},
		{"service principal is no account", []Statement{{Effect: Allow, Principal: &Principal{Service: List(b + "@ecs.aliyuncs.com")}, Action: List("kms:Decrypt"), Resource: List("*")}}, nil, nil},
		{"distinct and sorted", []Statement{allow("acs:ram::"+c+":role/x", "acs:ram::"+b+":role/app"), allow("acs:ram::"+b+":user/bob", "acs:ram::"+owner+":role/admin")}, []string{b, c}, []string{b, c}},
		{"ignored action still counts", []Statement{{Effect: Allow, Principal: &Principal{RAM: List("acs:ram::" + b + ":role/app")}, Action: List("kms:CreateKey"), Resource: List("*")}}, []string{b}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Document{Version: Version, Statement: tt.stmts}
			if got := ForeignAccounts(d, owner); !slices.Equal(got, tt.want) {
				t.Errorf("ForeignAccounts = %q, want %q", got, tt.want)
			}
			var granted []string
			for _, s := range EffectiveKeyPolicy(d, owner).Statement {
				if s.Effect == Allow {
					granted = append(granted, ForeignAccounts(&Document{Statement: []Statement{s}}, owner)...)
				}
			}
			slices.Sort(granted)
			if granted = slices.Compact(granted); !slices.Equal(granted, tt.granted) {
				t.Errorf("effective policy grants foreign accounts %q, want %q", granted, tt.granted)
			}
		})
	}
	if got := ForeignAccounts(nil, owner); got != nil {
		t.Errorf("ForeignAccounts(nil) = %q, want nil", got)
	}
}
