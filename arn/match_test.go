package arn

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything at all", true},
		{"?", "", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"a*", "a", true},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"a**b", "ab", true},
		{"*?*", "x", true},
		{"*?*", "", false},
		{"acs:kms:*:*:*/*", "acs:kms:cn-hangzhou:" + uid + ":key/key-abc", true},
		{"acs:kms:*:*:*/*", "acs:kms:cn-hangzhou:" + uid + ":key", false},
		{"acs:kms:*:*:*", "acs:kms:cn-hangzhou:" + uid + ":key", true},
		{"acs:kms:cn-hangzhou:" + uid + ":key/key-??", "acs:kms:cn-hangzhou:" + uid + ":key/key-ab", true},
		{"acs:kms:cn-hangzhou:" + uid + ":key/key-??", "acs:kms:cn-hangzhou:" + uid + ":key/key-abc", false},
		{"kms:Generate*", "kms:GenerateDataKey", true},
		{"kms:generate*", "kms:GenerateDataKey", false}, // Match is case-sensitive
		{"日*", "日本語", true},
		{"?本?", "日本語", true},
		{"??", "日", false},
		{"*c", "ababababababababababababababababababababab", false},
		{"a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 200), false},
		{"*aaaaaaaaab", strings.Repeat("a", 500) + "b", true},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.value); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.value, got, tt.want)
		}
		if got := refMatch(tt.pattern, tt.value, false); got != tt.want {
			t.Errorf("reference disagrees with the table on (%q, %q)", tt.pattern, tt.value)
		}
	}
}

func TestMatchActionAndResource(t *testing.T) {
	t.Parallel()
	actions := []struct {
		pattern, action string
		want            bool
	}{
		{"kms:generatedatakey", "kms:GenerateDataKey", true},
		{"KMS:GENERATE*", "kms:GenerateDataKey", true},
		{"kms:*", "kms:Decrypt", true},
		{"kms:List*", "kms:ListKeys", true},
		{"kms:List*", "kms:DescribeKey", false},
		{"*", "sts:AssumeRole", true},
		{"sts:assumerole", "sts:AssumeRole", true},
	}
	for _, tt := range actions {
		if got := MatchAction(tt.pattern, tt.action); got != tt.want {
			t.Errorf("MatchAction(%q, %q) = %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
	resources := []struct {
		pattern, resource string
		want              bool
	}{
		{"acs:ram:*:" + uid + ":role/ResourceDirectoryAccountAccessRole", "acs:ram::" + uid + ":role/resourcedirectoryaccountaccessrole", true}, // "*" matches the empty region
		{"acs:ram:*:" + uid + ":role/ResourceDirectoryAccountAccessRole", "acs:ram:*:" + uid + ":role/resourcedirectoryaccountaccessrole", true},
		{"acs:ram::" + uid + ":role/ECSAdmin", "acs:ram::" + uid + ":role/ecsadmin", true},
		{"acs:ram::" + uid + ":user/Alice", "acs:ram::" + uid + ":user/alice", true},
		{"acs:kms:cn-hangzhou:" + uid + ":key/Key-ABC", "acs:kms:cn-hangzhou:" + uid + ":key/key-abc", false},
		{"acs:kms:*:" + uid + ":key/*", "acs:kms:cn-hangzhou:" + uid + ":key/key-abc", true},
	}
	for _, tt := range resources {
		if got := MatchResource(tt.pattern, tt.resource); got != tt.want {
			t.Errorf("MatchResource(%q, %q) = %v, want %v", tt.pattern, tt.resource, got, tt.want)
		}
	}
	if !MatchFold("Straße*", "STRAßE-1") {
		t.Error("MatchFold did not fold")
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	p, v := "acs:kms:*:*:key/*", "acs:kms:cn-hangzhou:"+uid+":key/key-hzz6801a1b2c3d4e5f6g7"
	if n := testing.AllocsPerRun(100, func() { Match(p, v); MatchAction("kms:Gen*", "kms:GenerateDataKey") }); n != 0 {
		t.Errorf("Match allocates %v times per call", n)
	}
}

// refMatch is the obviously correct dynamic-programming matcher over runes
// that the fuzz target compares Match against.
func refMatch(p, v string, fold bool) bool {
	vr := []rune(v)
	// ok[j] reports whether pr[:i] matches vr[:j], for the current i.
	ok := make([]bool, len(vr)+1)
	ok[0] = true
	for _, c := range p {
		next := make([]bool, len(vr)+1)
		for j := 0; j <= len(vr); j++ {
			switch {
			case c == '*':
				next[j] = ok[j] || (j > 0 && next[j-1])
			case j == 0:
			case c == '?':
				next[j] = ok[j-1]
			default:
				same := c == vr[j-1] || (fold && equalFoldRef(c, vr[j-1]))
				next[j] = ok[j-1] && same
			}
		}
		ok = next
	}
	return ok[len(vr)]
}

func equalFoldRef(a, b rune) bool {
	return strings.EqualFold(string(a), string(b))
}

func FuzzMatch(f *testing.F) {
	f.Add("a*b?c", "aXbYc", false)
	f.Add("kms:gen*", "kms:GenerateDataKey", true)
	f.Add("*?*?*", "日本", false)
	f.Add("acs:kms:*:*:*/*", "acs:kms:cn-hangzhou:1:key/k", false)
	f.Fuzz(func(t *testing.T, p, v string, fold bool) {
		if len(p) > 64 || len(v) > 256 {
			t.Skip()
		}
		got := match(p, v, fold)
		if want := refMatch(p, v, fold); got != want {
			t.Errorf("match(%q, %q, fold=%v) = %v, reference says %v", p, v, fold, got, want)
		}
	})
}
