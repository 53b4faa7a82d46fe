package policy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	base, _ := DefaultKeyPolicy(owner)
	withApp, _ := SetCrossAccountUsers(base, owner, []string{"kms:Decrypt", "kms:GenerateDataKey"}, arn.RAMRole(other, "App"))
	moved, _ := SetCrossAccountUsers(withApp, owner, []string{"kms:Decrypt"}, arn.RAMRole(other, "App"))

	changes := Diff(base, withApp)
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	want := []string{
		"+ Allow RAM acs:ram::" + other + ":role/app kms:Decrypt on *",
		"+ Allow RAM acs:ram::" + other + ":role/app kms:GenerateDataKey on *",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Diff(base, withApp):\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Moving to a narrower set removes exactly the dropped action.
	changes = Diff(withApp, moved)
	if len(changes) != 1 || changes[0].Op != Removed || changes[0].Grant.Action != "kms:GenerateDataKey" {
		t.Errorf("Diff(withApp, moved) = %v", changes)
	}
	// Revoking is the mirror image; nil is an empty document.
	if n := len(Diff(withApp, base)); n != 2 {
		t.Errorf("revoke diff has %d changes", n)
	}
	if n := len(Diff(nil, base)); n != 1 {
		t.Errorf("Diff(nil, default) has %d changes", n)
	}
	if len(Diff(withApp, withApp.Clone())) != 0 {
		t.Error("a document differs from its clone")
	}
	// Changes are machine-readable.
	b, err := json.Marshal(Diff(base, withApp)[0])
	if err != nil || !strings.Contains(string(b), `"op":"add"`) || !strings.Contains(string(b), `"principal":"acs:ram::`+other+`:role/app"`) {
		t.Errorf("JSON %s, %v", b, err)
	}
}

func TestGrants(t *testing.T) {
	t.Parallel()
	d := MustParse(`{"Version":"1","Statement":[
		{"Sid":"s","Effect":"Allow","Action":["kms:Decrypt","kms:decrypt"],"Resource":["acs:kms:*:*:key/a","acs:kms:*:*:key/b"]},
		{"Effect":"Deny","NotAction":"kms:Describe*","NotResource":"acs:kms:*:*:key/a","Condition":{"Bool":{"acs:SecureTransport":"false"}}}]}`)
	gs := Grants(d)
	if len(gs) != 3 {
		t.Fatalf("got %d grants: %v", len(gs), gs)
	}
	var s []string
	for _, g := range gs {
		s = append(s, g.String())
	}
	joined := strings.Join(s, "\n")
	for _, want := range []string{
		"Allow kms:Decrypt on acs:kms:*:*:key/a",
		"Allow kms:Decrypt on acs:kms:*:*:key/b",
		`Deny every action but kms:Describe* on everything but acs:kms:*:*:key/a if {"Bool":{"acs:SecureTransport":["false"]}}`,
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("grants lack %q:\n%s", want, joined)
		}
	}
}

func TestLint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kind Kind
		doc  string
		code string
		sev  Severity
		path string
	}{
		{"wildcard RAM principal", KeyPolicy, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":"*"},"Action":"kms:Decrypt","Resource":"*"},` + ownerStmt + `]}`, "wildcard-principal", SeverityError, "/Statement/0/Principal/RAM/0"},
		{"wildcard account", Trust, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":"acs:ram::*:root"},"Action":"sts:AssumeRole"}]}`, "wildcard-principal", SeverityError, "/Statement/0/Principal/RAM/0"},
		{"any-account service without condition", Trust, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":"*@ecs.aliyuncs.com"},"Action":"sts:AssumeRole"}]}`, "wildcard-principal", SeverityError, "/Statement/0/Principal/Service/0"},
		{"any-account service with an unrelated condition", Trust, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":"*@ecs.aliyuncs.com"},"Action":"sts:AssumeRole","Condition":{"Bool":{"acs:SecureTransport":"true"}}}]}`, "wildcard-principal", SeverityError, "/Statement/0/Principal/Service/0"},
		{"any service", Trust, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":"*"},"Action":"sts:AssumeRole"}]}`, "wildcard-principal", SeverityError, "/Statement/0/Principal/Service/0"},
		{"any service of an account", Trust, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":"` + other + `@*.aliyuncs.com"},"Action":"sts:AssumeRole"}]}`, "wildcard-principal", SeverityError, "/Statement/0/Principal/Service/0"},
		{"kms:* to other account", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + other + `:role/app"},"Action":"kms:*","Resource":"*"}]}`, "cross-account-admin", SeverityError, "/Statement/1/Action/0"},
		{"admin action to other account", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + other + `:role/app"},"Action":["kms:Decrypt","kms:ScheduleKeyDeletion"],"Resource":"*"}]}`, "cross-account-admin", SeverityError, "/Statement/1/Action/1"},
		{"NotAction to other account", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + other + `:role/app"},"NotAction":"kms:Delete*","Resource":"*"}]}`, "cross-account-admin", SeverityError, "/Statement/1/NotAction"},
		{"masked principal", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":"acs:ram::119285303511****:role/app"},"Action":"kms:Decrypt","Resource":"*"}]}`, "masked-id", SeverityError, "/Statement/1/Principal/RAM/0"},
		{"placeholder resource", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"acs:kms:<key-region-id>:<key-owner-uid>:key/<key-id>"}]}`, "placeholder", SeverityError, "/Statement/0/Resource/0"},
		{"half-deleted placeholder in resource", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"acs:kms:cn-hangzhou:<UID:key/k"}]}`, "placeholder", SeverityError, "/Statement/0/Resource/0"},
		{"stray bracket in resource", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"acs:kms:cn-hangzhou:` + owner + `:key/a>b"}]}`, "placeholder", SeverityError, "/Statement/0/Resource/0"},
		{"masked condition value", Trust, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":"*@ecs.aliyuncs.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ServiceOwnerRDId":"rd-54****"}}}]}`, "masked-id", SeverityError, "/Statement/0/Condition/StringEquals/sts:ServiceOwnerRDId/0"},
		{"invalid principal ARN", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":"acs:ram:cn-hangzhou:` + other + `:role/app"},"Action":"kms:Decrypt","Resource":"*"}]}`, "invalid-arn", SeverityError, "/Statement/1/Principal/RAM/0"},
		{"invalid service", Trust, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, "invalid-arn", SeverityError, "/Statement/0/Principal/Service/0"},
		{"invalid resource ARN", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:1:key/x"}]}`, "invalid-arn", SeverityError, "/Statement/0/Resource/0"},
		{"unsupported key policy action", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:role/app"},"Action":"kms:GenerateDataKeyWithoutPlaintext","Resource":"*"}]}`, "unsupported-action", SeverityWarning, "/Statement/1/Action/0"},
		{"owner lock-out", KeyPolicy, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + other + `:role/app"},"Action":"kms:Decrypt","Resource":"*"}]}`, "owner-lockout", SeverityError, "/Statement"},
		{"owner statement conditional", KeyPolicy, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:*"},"Action":"kms:*","Resource":"*","Condition":{"Bool":{"acs:MFAPresent":"true"}}}]}`, "owner-lockout", SeverityError, "/Statement"},
		{"size", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":["` + strings.Repeat("acs:ram::1:user/u,", 2000) + `"]},"Action":"kms:Decrypt","Resource":"*"}]}`, "size-limit", SeverityError, ""},
		{"resource not star", KeyPolicy, `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:*"},"Action":"kms:*","Resource":"acs:kms:*:*:key/*"}]}`, "resource-not-star", SeverityError, "/Statement/0/Resource/0"},
		{"empty action", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, "empty-action", SeverityError, "/Statement/0/Action"},
		{"empty resource", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":[]}]}`, "empty-resource", SeverityError, "/Statement/0/Resource"},
		{"empty string action", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":[""],"Resource":"*"}]}`, "empty-action", SeverityError, "/Statement/0/Action/0"},
		{"empty string resource", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":""}]}`, "empty-resource", SeverityError, "/Statement/0/Resource/0"},
		{"condition keys equal but for case", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"k":"a","K":"b"}}}]}`, "condition-duplicate", SeverityError, "/Statement/0/Condition/StringEquals/k"},
		{"duplicate sid", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Sid":"kms default key policy","Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:user/u"},"Action":"kms:Decrypt","Resource":"*"}]}`, "duplicate-sid", SeverityError, "/Statement/1/Sid"},
		{"deny shadows every allow", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"acs:kms:cn-hangzhou:1:key/a"},{"Effect":"Deny","Action":"kms:*","Resource":"*"}]}`, "deny-shadows-allow", SeverityWarning, "/Statement"},
		{"deny shadows key policy", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Deny","Principal":{"RAM":"acs:ram::` + owner + `:*"},"Action":"*","Resource":"*"}]}`, "deny-shadows-allow", SeverityWarning, "/Statement"},
		{"undocumented condition key in key policy", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:user/u"},"Action":"kms:Decrypt","Resource":"*","Condition":{"Bool":{"acs:MFAPresent":"true"}}}]}`, "condition-key", SeverityWarning, "/Statement/1/Condition/Bool/acs:MFAPresent"},
		{"VPC condition in key policy", KeyPolicy, `{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:user/u"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"acs:SourceVpc":"vpc-1"}}}]}`, "vpc-condition", SeveritySuggestion, "/Statement/1/Condition/StringEquals/acs:SourceVpc"},
		{"broad permission", Permission, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`, "broad-permission", SeveritySuggestion, "/Statement/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := Lint(MustParse(tt.doc), tt.kind, LintOptions{Owner: owner})
			for _, f := range fs {
				if f.Code == tt.code {
					if f.Severity != tt.sev || f.Path != tt.path {
						t.Errorf("finding %v; want severity %s at %q", f, tt.sev, tt.path)
					}
					return
				}
			}
			t.Errorf("no %s finding; got %v", tt.code, fs)
		})
	}
}

const ownerStmt = `{"Sid":"kms default key policy","Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:*"},"Action":"kms:*","Resource":"*"}`

// TestLintKeyPolicyConditions: Condition is a documented element of key
// policies; its documented keys pass, and a VPC key warns when callers use
// the dedicated gateway, where it is never set.
func TestLintKeyPolicyConditions(t *testing.T) {
	t.Parallel()
	doc := MustParse(`{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:user/u"},"Action":"kms:Decrypt","Resource":"*",` +
		`"Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"},"Bool":{"acs:SecureTransport":"true"},"StringEquals":{"kms:EncryptionContext:purpose":"backup"},"DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}}]}`)
	if fs := Lint(doc, KeyPolicy, LintOptions{Owner: owner, DedicatedGateway: true}); len(fs) != 0 {
		t.Errorf("documented condition keys flagged: %v", fs)
	}
	vpc := MustParse(`{"Version":"1","Statement":[` + ownerStmt + `,{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:user/u"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"acs:VpcSourceIp":"192.168.0.1"}}}]}`)
	fs := Lint(vpc, KeyPolicy, LintOptions{Owner: owner, DedicatedGateway: true})
	if len(fs) != 1 || fs[0].Code != "vpc-condition" || fs[0].Severity != SeverityWarning {
		t.Errorf("VPC condition on the dedicated gateway: %v", fs)
	}
}

func TestLintCleanAndOrdered(t *testing.T) {
	t.Parallel()
	// Shadowing needs every Allow covered: a partial Deny is fine.
	partial := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"},{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`)
	for _, f := range Lint(partial, Permission, LintOptions{}) {
		if f.Code == "deny-shadows-allow" {
			t.Errorf("partial deny flagged: %v", f)
		}
	}
	// Findings come most serious first.
	mixed := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Allow","Action":[],"Resource":"*"}]}`)
	fs := Lint(mixed, Permission, LintOptions{})
	if len(fs) < 2 || fs[0].Severity != SeverityError || fs[len(fs)-1].Severity != SeveritySuggestion {
		t.Errorf("order: %v", fs)
	}
	// Without an owner, the owner checks are skipped.
	for _, f := range Lint(MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":"acs:ram::`+other+`:role/app"},"Action":"kms:*","Resource":"*"}]}`), KeyPolicy, LintOptions{}) {
		if f.Code == "owner-lockout" || f.Code == "cross-account-admin" {
			t.Errorf("owner check without owner: %v", f)
		}
	}
}
