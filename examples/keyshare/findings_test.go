package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/fakecloud"
)

// TestFindingsCommand runs keyshare findings against the emulator over
// HTTP on 127.0.0.1: a security account sharing one key with a member in
// the trusted folder and one with a partner outside the directory.
func TestFindingsCommand(t *testing.T) {
	t.Parallel()
	cloud := fakecloud.New(fakecloud.Options{Clock: fakecloud.NewManualClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), Seed: 8})
	mgmt := cloud.NewAccount("management")
	rd, err := cloud.NewResourceDirectory(mgmt)
	if err != nil {
		t.Fatal(err)
	}
	prod := rd.Root().NewFolder("prod")
	sec, app, partner := prod.NewMember("security"), prod.NewMember("app"), cloud.NewAccount("partner")
	auditor, err := mgmt.NewUser("auditor", "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := partner.NewRole("reader", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+partner.ID+`:root"]}}]}`); err != nil {
		t.Fatal(err)
	}
	inst := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 10})
	keyPolicy := func(principal string) string {
		return `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + sec.ID + `:*"]},"Action":["kms:*"],"Resource":["*"]},` +
			`{"Effect":"Allow","Principal":{"RAM":["` + principal + `"]},"Action":["kms:Decrypt"],"Resource":["*"]}]}`
	}
	for _, p := range []string{"acs:ram::" + app.ID + ":role/resourcedirectoryaccountaccessrole", "acs:ram::" + partner.ID + ":role/reader"} {
		if _, err := inst.NewKey(fakecloud.KeyOptions{Policy: keyPolicy(p), DeletionProtection: true, AutomaticRotation: true}); err != nil {
			t.Fatal(err)
		}
	}
	srv := cloud.Serve()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	accept := filepath.Join(dir, "accept.json")
	if err := os.WriteFile(accept, []byte(`{"accept":[{"code":"outside-directory","reason":"partner contract 42"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e := func(stdout, stderr *bytes.Buffer) env {
		return env{stdout: stdout, stderr: stderr, now: time.Now, getenv: func(string) string { return "" },
			realConfig: func(_ func(string) string, region string) (*openapi.Config, string, error) {
				return srv.Config(auditor.Credentials(), region), "a test server", nil
			}}
	}
	base := []string{"findings", "-accounts", sec.ID, "-regions", "cn-hangzhou", "-trust-folder", prod.ID}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{base, exitFindings, "security-warning outside-directory"},
		{append(base, "-fail-on", "error"), exitOK, "1 findings (1 security-warning)"},
		{append(base, "-accept", accept), exitOK, "no findings; 1 accepted"},
		{append(base, "-output", "sarif"), exitFindings, `"version": "2.1.0"`},
		{append(base, "-output", "json", "-quiet"), exitFindings, `"code": "outside-directory"`},
		{append(base, "-output", "html"), exitFindings, "<svg id=\"graph\""},
		{append(base, "-output", "dot"), exitFindings, "digraph findings"},
		{append(base, "-output", "yaml"), exitUsage, ""},
		{append(base, "-fail-on", "fatal"), exitUsage, ""},
		{[]string{"findings", "-regions", "cn-hangzhou"}, exitUsage, ""},
		{[]string{"findings", "-accounts", "1192853035118***", "-regions", "cn-hangzhou"}, exitUsage, ""},
		{append(base, "-accept", filepath.Join(dir, "missing.json")), exitUsage, ""},
	} {
		mark := cloud.Log().Mark()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, e(&stdout, &stderr))
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) {
			t.Errorf("keyshare %s: exit %d, want %d; stdout lacks %q?\n%s\nstderr:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.stdout, stdout.String(), stderr.String())
		}
		if n := len(cloud.Log().Since(mark, fakecloud.Match{Writes: true})); n != 0 {
			t.Errorf("keyshare %s wrote %d times", strings.Join(tc.args, " "), n)
		}
		if tc.code == exitUsage && len(cloud.Log().Since(mark, fakecloud.Match{Service: "kms"})) != 0 {
			t.Errorf("keyshare %s: bad input reached KMS", strings.Join(tc.args, " "))
		}
		if slices.Contains(tc.args, "json") {
			var out struct{ Findings []struct{ Code string } }
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out.Findings) != 1 {
				t.Errorf("-output json: %v, %+v", err, out)
			}
		}
	}
	var stdout bytes.Buffer
	run(context.Background(), []string{"-h"}, env{stdout: &stdout, stderr: &bytes.Buffer{}})
	if n := strings.Count(stdout.String(), fmt.Sprintf("\n  %d  ", exitFindings)); n != 1 {
		t.Errorf("exit status %d is documented %d times", exitFindings, n)
	}
}
