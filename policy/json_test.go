package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in   string
		path       string // JSON pointer of the first problem
		line, col  int    // for syntax errors
		msgContain string
	}{
		{"not JSON", `{"Version": "1",`, "", 1, 17, "unexpected end"},
		{"syntax error position", "{\n  \"Version\": \"1\",\n  \"Statement\": [}\n}", "", 3, 17, "invalid character"},
		{"top level array", `[]`, "", 0, 0, "JSON object"},
		{"missing version", `{"Statement":[{"Effect":"Allow","Action":"a","Resource":"*"}]}`, "", 0, 0, "missing Version"},
		{"wrong version", `{"Version":"2012-10-17","Statement":[]}`, "/Version", 0, 0, `not "2012-10-17"`},
		{"numeric version", `{"Version":1,"Statement":[]}`, "/Version", 0, 0, `want the string "1"`},
		{"unknown top field", `{"Version":"1","Statement":[],"Id":"x"}`, "/Id", 0, 0, `unknown field "Id"`},
		{"statement object", `{"Version":"1","Statement":{"Effect":"Allow"}}`, "/Statement", 0, 0, "list of statements"},
		{"unknown statement field", `{"Version":"1","Statement":[{"Effect":"Allow","Actions":["a"]}]}`, "/Statement/0/Actions", 0, 0, `unknown field "Actions"`},
		{"bad effect", `{"Version":"1","Statement":[{"Effect":"allow","Action":"a","Resource":"*"}]}`, "/Statement/0/Effect", 0, 0, `not "allow"`},
		{"action number", `{"Version":"1","Statement":[{"Effect":"Allow","Action":5,"Resource":"*"}]}`, "/Statement/0/Action", 0, 0, "string or a list"},
		{"action list of numbers", `{"Version":"1","Statement":[{"Effect":"Allow","Action":[1],"Resource":"*"}]}`, "/Statement/0/Action", 0, 0, "string or a list"},
		{"principal string", `{"Version":"1","Statement":[{"Effect":"Allow","Principal":"*","Action":"a"}]}`, "/Statement/0/Principal", 0, 0, `{"RAM"`},
		{"principal unknown type", `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"AWS":"x"},"Action":"a"}]}`, "/Statement/0/Principal/AWS", 0, 0, "unknown principal type"},
		{"condition values object", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","Resource":"*","Condition":{"StringEquals":{"k":{"x":1}}}}]}`, "/Statement/0/Condition/StringEquals/k", 0, 0, "string, number or boolean"},
		{"duplicate effect", `{"Version":"1","Statement":[{"Effect":"Allow","Effect":"Deny","Action":"a","Resource":"*"}]}`, "/Statement/0/Effect", 0, 0, "duplicate field"},
		{"pointer escaping", `{"Version":"1","Statement":[{"Effect":"Allow","a/b~c":1}]}`, "/Statement/0/a~1b~0c", 0, 0, "unknown field"},
		{"null action", `{"Version":"1","Statement":[{"Effect":"Allow","Action":null,"Resource":"*"}]}`, "/Statement/0/Action", 0, 0, "null is not allowed"},
		{"null condition operator", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"a","Resource":"*","Condition":{"StringEquals":null}}]}`, "/Statement/0/Condition/StringEquals", 0, 0, "not null"},
		{"null condition value", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"a","Resource":"*","Condition":{"StringEquals":{"k":null}}}]}`, "/Statement/0/Condition/StringEquals/k", 0, 0, "string, number or boolean"},
		{"null sid", `{"Version":"1","Statement":[{"Sid":null,"Effect":"Allow","Action":"a","Resource":"*"}]}`, "/Statement/0/Sid", 0, 0, "want a string"},
		{"trailing data", `{"Version":"1","Statement":[]} {}`, "", 0, 0, "extra data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Parse([]byte(tt.in))
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse = %v, %v; want *Error", d, err)
			}
			if pe.Line != tt.line || pe.Column != tt.col {
				t.Errorf("position %d:%d, want %d:%d (%v)", pe.Line, pe.Column, tt.line, tt.col, err)
			}
			if len(pe.Problems) == 0 || pe.Problems[0].Path != tt.path {
				t.Errorf("problems %v, want first at %q", pe.Problems, tt.path)
			}
			if !strings.Contains(err.Error(), tt.msgContain) {
				t.Errorf("error %q does not mention %q", err, tt.msgContain)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(`{"Version":"2","Statement":[{"Effect":"Maybe","Action":1,"Foo":true}]}`))
	var pe *Error
	if !errors.As(err, &pe) || len(pe.Problems) != 4 {
		t.Fatalf("got %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	inputs := []string{
		// Alibaba's GetKeyPolicy output: fields alphabetical, lists.
		`{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1192853035118460:*"]},"Resource":["*"],"Sid":"kms default key policy"}],"Version":"1"}`,
		// Scalars, other field order, conditions with bare booleans and numbers.
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"*@ecs.aliyuncs.com"},"Condition":{"Bool":{"acs:SecureTransport":true},"NumericLessThan":{"n":10}}}]}`,
		// Unicode and escapes survive.
		`{"Version":"1","Statement":[{"Sid":"日本 \"q\" \\ <&>","Effect":"Deny","NotAction":["kms:Delete*"],"NotResource":"acs:kms:*:*:key/*"}]}`,
	}
	for _, in := range inputs {
		d, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("Parse(%s): %v", in, err)
		}
		out, _ := d.Marshal()
		if string(out) != in {
			t.Errorf("unchanged document not written back as read:\n got %s\nwant %s", out, in)
		}
		d2, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		out2, _ := d2.Marshal()
		if string(out2) != string(out) {
			t.Errorf("not byte-stable:\n%s\n%s", out, out2)
		}
	}
}

func TestWhitespaceIsCompacted(t *testing.T) {
	t.Parallel()
	in := "{\n \"Statement\": [ {\"Action\": [\"kms:*\"], \"Effect\": \"Allow\", \"Principal\": {\"RAM\": [\"acs:ram::1:*\"]}, \"Resource\": [\"*\"]} ],\n \"Version\": \"1\" }"
	d := MustParse(in)
	if got := d.String(); got != `{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1:*"]},"Resource":["*"]}],"Version":"1"}` {
		t.Errorf("got %s", got)
	}
}

func TestEditedStatementIsRewritten(t *testing.T) {
	t.Parallel()
	d := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*","Action":"kms:Decrypt"}]}`)
	d.Statement[0].Action = List("kms:Decrypt", "kms:Encrypt")
	if got := d.String(); got != `{"Version":"1","Statement":[{"Action":["kms:Decrypt","kms:Encrypt"],"Effect":"Allow","Resource":"*"}]}` {
		t.Errorf("got %s", got)
	}
}

func TestJSONInterfaces(t *testing.T) {
	t.Parallel()
	type wrapper struct {
		Policy *Document `json:"policy"`
	}
	var w wrapper
	if err := json.Unmarshal([]byte(`{"policy":{"Version":"1","Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"}]}}`), &w); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(w)
	if err != nil || string(b) != `{"policy":{"Version":"1","Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"}]}}` {
		t.Errorf("got %s, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"policy":{"Version":"9","Statement":[]}}`), &w); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad version through json.Unmarshal: %v", err)
	}
}
