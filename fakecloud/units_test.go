package fakecloud

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/policy"
)

func TestTimeline(t *testing.T) {
	t.Parallel()
	at := func(m int) time.Time { return time0.Add(time.Duration(m) * time.Minute) }
	tl := newTimeline("v0")
	tl.set(at(10), "v1", at(0))
	tl.set(at(20), "v2", at(5))
	tests := []struct {
		t    time.Time
		want string
	}{
		{at(-100), "v0"}, {at(9), "v0"}, {at(10), "v1"}, {at(19), "v1"}, {at(20), "v2"}, {at(99), "v2"},
	}
	for _, tc := range tests {
		if got := tl.at(tc.t); got != tc.want {
			t.Errorf("at(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
	if tl.latest() != "v2" {
		t.Errorf("latest = %s", tl.latest())
	}
	// A write with the horizon past v1 forgets v0 but keeps v1, still
	// needed for times between the horizon and v3.
	tl.set(at(30), "v3", at(15))
	if len(tl.entries) != 3 || tl.at(at(15)) != "v1" || tl.at(at(25)) != "v2" {
		t.Errorf("after pruning: %v", tl.entries)
	}
	// Time never runs backwards.
	tl.set(at(1), "v4", at(1))
	if tl.at(at(29)) != "v2" || tl.at(at(30)) != "v4" {
		t.Errorf("a write in the past was not moved to the newest time: %v", tl.entries)
	}
	tl.reset("v5")
	if tl.at(at(-1)) != "v5" || len(tl.entries) != 1 {
		t.Errorf("reset: %v", tl.entries)
	}
}

func TestClocks(t *testing.T) {
	t.Parallel()
	m := NewManualClock(time.Time{})
	if got := m.Now().Format(time.RFC3339); got != DefaultStart {
		t.Errorf("manual clock starts at %s", got)
	}
	m.Advance(time.Hour)
	m.Advance(-2 * time.Hour)
	if got := m.Now().Sub(must(time.Parse(time.RFC3339, DefaultStart))); got != time.Hour {
		t.Errorf("after +1h and -2h: moved %v, want 1h", got)
	}
	before := time.Now()
	s := NewScaledClock(time0, 1000)
	now := s.Now()
	elapsed := time.Since(before)
	if d := now.Sub(time0); d < 0 || d > elapsed*1000 {
		t.Errorf("scaled clock moved %v in %v of real time at 1000×", d, elapsed)
	}
	if (realClock{}).Now().Location() != time.UTC {
		t.Error("the real clock is not UTC")
	}
}

func TestLogLimitAndMarks(t *testing.T) {
	t.Parallel()
	l := &Log{limit: 4}
	for i := range 10 {
		l.add(Entry{Action: map[bool]string{true: "SetKeyPolicy", false: "GetKeyPolicy"}[i%2 == 0]})
	}
	all := l.Entries(Match{})
	if len(all) < 4 || len(all) > 5 || all[len(all)-1].Seq != 10 {
		t.Fatalf("kept %d entries ending at %d", len(all), all[len(all)-1].Seq)
	}
	mark := l.Mark()
	l.add(Entry{Action: "SetKeyPolicy"})
	if got := l.Since(mark, Match{Action: "SetKeyPolicy"}); len(got) != 1 || got[0].Seq != 11 {
		t.Errorf("Since(mark) = %+v", got)
	}
	l.Reset()
	if l.Count(Match{}) != 0 || l.Mark() != 11 {
		t.Errorf("after Reset: %d entries, mark %d", l.Count(Match{}), l.Mark())
	}
}

func TestCanonicalContext(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "{}"},
		{"{}", "{}"},
		{`{"b":"2","a":"1"}`, `{"a":"1","b":"2"}`},
		{`{"n":1.50}`, `{"n":1.50}`},
		{`[1]`, "error"},
		{`{"a":"1"} {}`, "error"},
		{`null`, "{}"},
	}
	for _, tc := range tests {
		got, err := canonicalContext(tc.in)
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("canonicalContext(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestMalformedRequests: requests the SDK never sends are refused with
// JSON errors, not crashes.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	c := New(Options{})
	tests := []struct {
		name, method, target string
		headers              map[string]string
		code                 string
	}{
		{"no action", "POST", "/", nil, "InvalidAction.NotFound"},
		{"wrong path", "POST", "/v1/keys", map[string]string{"x-acs-action": "DescribeKey", "x-acs-version": versionKMS}, "InvalidAction.NotFound"},
		{"wrong method", "DELETE", "/", map[string]string{"x-acs-action": "DescribeKey", "x-acs-version": versionKMS}, "InvalidAction.NotFound"},
		{"duplicate parameter", "POST", "/?KeyId=a&KeyId=b", map[string]string{"x-acs-action": "DescribeKey", "x-acs-version": versionKMS}, "InvalidParameter"},
		{"bad query", "POST", "/?KeyId=%zz", map[string]string{"x-acs-action": "DescribeKey", "x-acs-version": versionKMS}, "InvalidParameter"},
		{"unsigned", "POST", "/?KeyId=a", map[string]string{"x-acs-action": "DescribeKey", "x-acs-version": versionKMS}, "IncompleteSignature"},
		{"other algorithm", "POST", "/", map[string]string{"x-acs-action": "DescribeKey", "x-acs-version": versionKMS,
			"Authorization": "ACS3-HMAC-SM3 Credential=x,SignedHeaders=host,Signature=00"}, "IncompleteSignature"},
		{"legacy, unknown key", "POST", "/?Action=DescribeKey&Version=2016-01-20&AccessKeyId=nope&Signature=x", nil, "InvalidAccessKeyId.NotFound"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, tc.target, http.NoBody)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		c.Handler(region).ServeHTTP(rec, r)
		if got := rec.Body.String(); !strings.Contains(got, `"Code":"`+tc.code+`"`) || rec.Header().Get("Content-Type") != "application/json;charset=utf-8" {
			t.Errorf("%s: %d %s, want %s", tc.name, rec.Code, got, tc.code)
		}
	}
}

// TestForeignHandles: handles used with a cloud they do not belong to
// fail with an error instead of panicking.
func TestForeignHandles(t *testing.T) {
	t.Parallel()
	a, b := New(Options{Seed: 1}), New(Options{Seed: 2})
	stranger := &Account{ID: "1234567890123456", Name: "stranger", c: a}
	_ = b.NewAccount("b")
	if _, err := stranger.NewUser("u"); err == nil {
		t.Error("NewUser on a foreign account succeeded")
	}
	if _, err := stranger.NewRole("r", ecsTrust); err == nil {
		t.Error("NewRole on a foreign account succeeded")
	}
	if _, err := stranger.NewPolicy("p", kmsAll); err == nil {
		t.Error("NewPolicy on a foreign account succeeded")
	}
	if _, err := a.NewResourceDirectory(stranger); err == nil {
		t.Error("NewResourceDirectory on a foreign account succeeded")
	}
	if inst := stranger.NewKMSInstance(region, InstanceOptions{}); inst != nil {
		t.Error("NewKMSInstance on a foreign account succeeded")
	}
	var inst *Instance
	if _, err := inst.NewKey(KeyOptions{}); err == nil {
		t.Error("NewKey on a nil instance succeeded")
	}
	inst.SetProxyConnected(false)
	if _, err := stranger.Service("ecs.aliyuncs.com").AssumeRole("acs:ram::1234567890123456:role/x", "ss", 0); err == nil {
		t.Error("AssumeRole for a foreign account succeeded")
	}
	if stranger.RootCredentials().AccessKeyID != "" || stranger.Key("key-x") != nil {
		t.Error("lookups on a foreign account returned something")
	}
	var f *Folder
	if f.NewFolder("x") != nil || f.NewMember("x") != nil || f.AddMember(stranger) == nil {
		t.Error("a nil folder did something")
	}
	var k *Key
	if k.PolicyDocument() != "" || k.State() != "" {
		t.Error("a nil key has state")
	}
}

// TestSystemPolicies: every embedded system policy is a valid permission
// policy and is installed.
func TestSystemPolicies(t *testing.T) {
	t.Parallel()
	entries, err := systemPolicyFiles.ReadDir("systempolicies")
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{})
	for _, e := range entries {
		data := must(systemPolicyFiles.ReadFile("systempolicies/" + e.Name()))
		if _, err := parseDoc(string(data), policy.Permission); err != nil {
			t.Errorf("%s: %v", e.Name(), err)
		}
	}
	for _, name := range []string{"AdministratorAccess", "AliyunKMSFullAccess", "AliyunECSDiskEncryptRolePolicy", "AliyunSTSAssumeRoleAccess", "AliyunRAMFullAccess"} {
		if p := c.system[strings.ToLower(name)]; p == nil || p.name != name || p.effective.latest() == nil {
			t.Errorf("system policy %s is not installed", name)
		}
	}
	if len(c.system) != len(entries) {
		t.Errorf("%d system policies installed from %d files", len(c.system), len(entries))
	}
}
