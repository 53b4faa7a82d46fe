package arn

import (
	"strings"
	"testing"
)

var sinkARN ARN
var sinkBool bool

func BenchmarkParseKeyARN(b *testing.B) {
	s := "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a, err := Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		sinkARN = a
	}
}

func BenchmarkParseRoleARN(b *testing.B) {
	s := "acs:ram::1192853035118460:role/resourcedirectoryaccountaccessrole"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sinkARN, _ = Parse(s)
	}
}

func BenchmarkMatch(b *testing.B) {
	cases := []struct{ name, p, v string }{
		{"resource", "acs:kms:*:*:key/*", "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"},
		{"action-fold", "kms:generate*", "kms:GenerateDataKey"},
		{"pathological", strings.Repeat("a*", 16) + "b", strings.Repeat("a", 256)},
		// A long literal run that almost matches everywhere: O(p·v) for a
		// matcher that retries position by position (1000 × 100000 here).
		{"long-run-tail", "*" + strings.Repeat("a", 1000) + "b", strings.Repeat("a", 100000)},
		{"long-run-middle", "*" + strings.Repeat("a", 1000) + "b*", strings.Repeat("a", 100000)},
		// With "?" the run is matched position by position: the O(p·v) case.
		{"question-run", "*" + strings.Repeat("a", 30) + "?b", strings.Repeat("a", 3000)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sinkBool = match(c.p, c.v, c.name == "action-fold")
			}
		})
	}
}
