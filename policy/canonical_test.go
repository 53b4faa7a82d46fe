package policy

import (
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
