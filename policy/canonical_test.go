package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestEquivalent(t *testing.T) {
	t.Parallel()
	base := `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app"]},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":["*"]}]}`
	tests := []struct {
		name string
		b    string
		want bool
	}{
		{"identical", base, true},
		{"string vs one-element list", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":"acs:ram::` + other + `:role/app"},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}]}`, true},
		{"list order", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app"]},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":["*"]}]}`, true},
		{"action case", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app"]},"Action":["KMS:decrypt","kms:encrypt"],"Resource":["*"]}]}`, true},
		{"role name case", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/App"]},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":["*"]}]}`, true},
		{"duplicate values", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app","acs:ram::` + other + `:role/APP"]},"Action":["kms:Decrypt","kms:Encrypt","kms:Decrypt"],"Resource":["*","*"]}]}`, true},
		{"duplicate statement", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app"]},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":["*"]},{"Sid":"s","Effect":"Allow","Principal":{"RAM":"acs:ram::` + other + `:role/app"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}`, true},
		{"field order and whitespace", "{\"Statement\": [ {\"Resource\": [\"*\"], \"Action\": [\"kms:Decrypt\", \"kms:Encrypt\"], \"Principal\": {\"RAM\": [\"acs:ram::" + other + ":role/app\"]}, \"Effect\": \"Allow\", \"Sid\": \"s\"} ], \"Version\": \"1\"}", true},
		{"different action", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app"]},"Action":["kms:Decrypt"],"Resource":["*"]}]}`, false},
		{"different principal", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + third + `:role/app"]},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":["*"]}]}`, false},
		{"user name is not a role name", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:user/app"]},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":["*"]}]}`, false},
		{"Sid matters", `{"Version":"1","Statement":[{"Sid":"t","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app"]},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":["*"]}]}`, false},
		{"effect matters", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Deny","Principal":{"RAM":["acs:ram::` + other + `:role/app"]},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":["*"]}]}`, false},
		{"Action vs NotAction", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app"]},"NotAction":["kms:Decrypt","kms:Encrypt"],"Resource":["*"]}]}`, false},
		{"extra statement", `{"Version":"1","Statement":[{"Sid":"s","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app"]},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":["*"]},{"Effect":"Deny","Principal":{"RAM":"acs:ram::` + other + `:*"},"Action":"kms:*","Resource":"*"}]}`, false},
	}
	a := MustParse(base)
	for _, tt := range tests {
		b := MustParse(tt.b)
		if got := Equivalent(a, b); got != tt.want {
			t.Errorf("%s: Equivalent = %v, want %v", tt.name, got, tt.want)
		}
		if got := Equivalent(b, a); got != tt.want {
			t.Errorf("%s: not symmetric", tt.name)
		}
		if tt.want && len(Diff(a, b)) != 0 {
			t.Errorf("%s: Diff of equivalent documents is %v", tt.name, Diff(a, b))
		}
	}
	if !Equivalent(nil, nil) || Equivalent(a, nil) {
		t.Error("nil handling")
	}
}

func TestEquivalentConditions(t *testing.T) {
	t.Parallel()
	a := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::` + other + `:root"},"Condition":{"StringEquals":{"sts:ExternalId":["x","y"]},"Bool":{"acs:MFAPresent":true}}}]}`)
	b := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + other + `:root"]},"Condition":{"bool":{"acs:mfapresent":"true"},"stringequals":{"STS:EXTERNALID":["y","x"]}}}]}`)
	c := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + other + `:root"]},"Condition":{"StringEquals":{"sts:ExternalId":["X","y"]},"Bool":{"acs:MFAPresent":true}}}]}`)
	if !Equivalent(a, b) {
		t.Error("operator and key case, value order and bool form should not matter")
	}
	if Equivalent(a, c) {
		t.Error("condition values are case-sensitive")
	}
	if d := Diff(a, b); len(d) != 0 {
		t.Errorf("Diff = %v", d)
	}
}

func TestCanonical(t *testing.T) {
	t.Parallel()
	d := MustParse(`{"Version":"1","Statement":[
		{"Sid":"b","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/B","acs:ram::` + other + `:role/a","acs:ram::` + other + `:role/b"]},"Action":["kms:Encrypt","KMS:Decrypt","kms:decrypt"],"Resource":"*","Condition":{"stringequals":{"k":["2","1"]}}},
		{"Sid":"a","Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:*"},"Action":"kms:*","Resource":"*"}]}`)
	want := `{"Statement":[` +
		`{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:*"]},"Resource":["*"],"Sid":"a"},` +
		`{"Action":["KMS:Decrypt","kms:Encrypt"],"Condition":{"StringEquals":{"k":["1","2"]}},"Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/a","acs:ram::` + other + `:role/b"]},"Resource":["*"],"Sid":"b"}` +
		`],"Version":"1"}`
	c := d.Canonical()
	if got := c.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !Equivalent(c, d) {
		t.Error("Canonical changed the meaning")
	}
	if c.Canonical().String() != c.String() {
		t.Error("Canonical is not idempotent")
	}
}

// TestConditionNameCollisions: operators or keys that differ only in case are
// separate tests that must all hold. Validate refuses them; Canonical and
// Equivalent stay deterministic and never call two documents equivalent
// when Evaluate decides them differently.
func TestConditionNameCollisions(t *testing.T) {
	t.Parallel()
	doc := func(cond string) *Document {
		return MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":` + cond + `}]}`)
	}
	tests := []struct {
		name      string
		collides  string // has a collision
		merged    string // the collision's values as one list: decides differently
		sameTests string // the same tests spelt otherwise
	}{
		{"keys", `{"StringEquals":{"k":"a","K":"b"}}`, `{"StringEquals":{"k":["a","b"]}}`, `{"StringEquals":{"K":"b","k":"a"}}`},
		{"operators", `{"StringEquals":{"k":"a"},"stringequals":{"k":"b"}}`, `{"StringEquals":{"k":["a","b"]}}`, `{"stringequals":{"k":"b"},"StringEquals":{"k":"a"}}`},
		{"canonical spelling second", `{"STRINGEQUALS":{"k":"a"},"StringEquals":{"k":"b"}}`, `{"StringEquals":{"k":["a","b"]}}`, `{"StringEquals":{"k":"b"},"STRINGEQUALS":{"k":"a"}}`},
	}
	req := Request{Caller: ownerUser, Action: "kms:Decrypt", Resource: keyARN, ResourceAccount: owner,
		Context: map[string][]string{"k": {"a"}}}
	for _, tt := range tests {
		a, m, same := doc(tt.collides), doc(tt.merged), doc(tt.sameTests)
		if Evaluate(req, a).Decision == Evaluate(req, m).Decision {
			t.Fatalf("%s: test premise: the merged form should decide differently", tt.name)
		}
		if Equivalent(a, m) || len(Diff(a, m)) == 0 {
			t.Errorf("%s: a collision is Equivalent to its values merged", tt.name)
		}
		if !Equivalent(a, same) {
			t.Errorf("%s: the same document written in another order is not Equivalent", tt.name)
		}
		first := a.Canonical().String()
		for range 50 {
			if got := a.Canonical().String(); got != first {
				t.Fatalf("%s: Canonical depends on map order:\n%s\n%s", tt.name, first, got)
			}
		}
		if c := a.Canonical(); Evaluate(req, c).Decision != Evaluate(req, a).Decision {
			t.Errorf("%s: Canonical decides differently: %s", tt.name, c)
		}
		err := a.Validate(Permission)
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "case-insensitive") {
			t.Errorf("%s: Validate = %v, want a condition-duplicate problem", tt.name, err)
		}
	}
}

// TestCanonicalListOrder: which spelling of values equal but for case is
// kept does not depend on the order they were written in.
func TestCanonicalListOrder(t *testing.T) {
	t.Parallel()
	a := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:decrypt"],"Resource":"*"}]}`)
	b := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:decrypt","kms:Decrypt"],"Resource":"*"}]}`)
	if ca, cb := a.Canonical().String(), b.Canonical().String(); ca != cb {
		t.Errorf("Canonical depends on list order:\n%s\n%s", ca, cb)
	}
}
