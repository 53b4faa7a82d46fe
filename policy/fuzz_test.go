package policy

import (
	"bytes"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1:*"]},"Resource":["*"],"Sid":"kms default key policy"}],"Version":"1"}`))
	f.Add([]byte(`{"Version":"1","Statement":[{"Effect":"Deny","NotAction":"kms:Delete*","NotResource":"*","Condition":{"Bool":{"k":true},"NumericLessThan":{"n":[1,2.5]}}}]}`))
	f.Add([]byte(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":"*@ecs.aliyuncs.com"},"Action":"sts:AssumeRole","Condition":{"StringLike":{"sts:ServiceOwnerRDPath":"rd-a/r-b/fd-c*"}}}]}`))
	f.Add([]byte(`{"Version":"1","Statement":[{"Effect":"Allow","Effect":"Deny"}]}`))
	f.Add([]byte("{\n\"Version\": \"1\",\n\"Statement\": [}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Parse(out)
		if err != nil {
			t.Fatalf("Marshal output does not parse: %v\n%s", err, out)
		}
		out2, _ := d2.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatalf("not byte-stable:\n%s\n%s", out, out2)
		}
		if !Equivalent(d, d2) {
			t.Fatalf("round trip changed the meaning:\n%s", out)
		}
		c := d.Canonical()
		if !Equivalent(c, d) || c.String() != c.Canonical().String() {
			t.Fatalf("Canonical is not stable or changes the meaning:\n%s\n%s", out, c)
		}
		for _, k := range []Kind{Permission, Trust, KeyPolicy} {
			_ = d.Validate(k)
			_ = Lint(d, k, LintOptions{Owner: "1111111111111111"})
		}
		if len(Diff(d, d2)) != 0 {
			t.Fatalf("Diff of a round trip is not empty")
		}
	})
}

func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":"acs:ram::1:*"},"Action":"kms:*","Resource":"*"}]}`),
		"1", "acs:ram::1:user/u", "", "kms:Decrypt", "acs:kms:cn-hangzhou:1:key/k", "acs:SourceIp", "10.0.0.1")
	f.Add([]byte(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":"2@ecs.aliyuncs.com"},"Action":"sts:AssumeRole","Condition":{"DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}}]}`),
		"2", "", "ecs.aliyuncs.com", "sts:AssumeRole", "acs:ram::1:role/r", "acs:CurrentTime", "2026-01-01T00:00:00Z")
	f.Add([]byte(`{"Version":"1","Statement":[{"Effect":"Deny","NotAction":"kms:List*","NotResource":"acs:kms:*:*:key","Condition":{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","::1"]}}}]}`),
		"3", "acs:ram::3:assumed-role/a/s", "", "kms:ListKeys", "acs:kms:cn-hangzhou:3:key", "acs:SourceIp", "not-an-ip")
	f.Fuzz(func(t *testing.T, doc []byte, account, callerARN, service, action, resource, ctxKey, ctxVal string) {
		d, err := Parse(doc)
		if err != nil {
			return
		}
		c := Caller{Account: account, Service: service}
		if a, err := arn.Parse(callerARN); err == nil {
			c.ARN = a
		}
		req := Request{Caller: c, Action: action, Resource: resource, ResourceAccount: "1",
			Context: map[string][]string{ctxKey: {ctxVal}}}
		r := Evaluate(req, d, nil, d)
		if (r.Decision == ImplicitDeny) != (r.Statement == -1) {
			t.Fatalf("inconsistent result %+v", r)
		}
		if r.Decision != ImplicitDeny && d.Statement[r.Statement].Effect != map[Decision]Effect{Allowed: Allow, ExplicitDeny: Deny}[r.Decision] {
			t.Fatalf("decision %v made by a statement with effect %s", r.Decision, d.Statement[r.Statement].Effect)
		}
		// Canonical, and so Equivalent, must not change a decision.
		if c := d.Canonical(); Evaluate(req, c, nil, c).Decision != r.Decision {
			t.Fatalf("Canonical decides %v, the document %v:\n%s\n%s", Evaluate(req, c, nil, c).Decision, r.Decision, d, c)
		}
		a := EvaluateAccess(req, d, d)
		if a.Allowed && (a.Resource.Decision == ExplicitDeny || a.Identity.Decision == ExplicitDeny) {
			t.Fatalf("allowed despite an explicit deny: %+v", a)
		}
	})
}
