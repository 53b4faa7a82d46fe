package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

// TestManifestCommands runs the manifest commands against the emulator
// over HTTP standing in for Alibaba Cloud: plan, apply, verify, inventory,
// onboard, apply -prune after a member moved out, revoke; bad manifests and
// flags.
func TestManifestCommands(t *testing.T) {
	t.Parallel()
	cloud := fakecloud.New(fakecloud.Options{Seed: 9})
	mgmt := cloud.NewAccount("management")
	rd, err := cloud.NewResourceDirectory(mgmt)
	if err != nil {
		t.Fatal(err)
	}
	apps := rd.Root().NewFolder("apps")
	prod := apps.NewFolder("prod")
	other := rd.Root().NewFolder("other")
	members := []*fakecloud.Account{apps.NewMember("a1"), prod.NewMember("p1"), prod.NewMember("p2")}
	sec := rd.Root().NewMember("security")
	inst := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 10})
	var keys []string
	for i := 0; i < 2; i++ {
		k, err := inst.NewKey(fakecloud.KeyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, fmt.Sprintf("%q", k.ARN))
	}
	pipeline, err := mgmt.NewUser("pipeline", "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	srv := cloud.Serve()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	org := write("org.json", `{"version": 1, "grants": [{"keys": [`+strings.Join(keys, ",")+`], "recipients": {"folders": [{"folder": "apps", "subfolders": true}]}}]}`)
	bad := write("bad.json", `{"version": 1, "grants": [{"keys": [`+keys[0]+`], "recipients": {"folders": [{"folder": "apps/nope"}]}}]}`)
	unknown := write("unknown.json", `{"version": 1, "grants": [{"keys": [`+keys[0]+`], "recipients": {"folder": "apps"}}]}`)
	env := func(stdout, stderr *bytes.Buffer) env {
		return env{stdout: stdout, stderr: stderr, now: time.Now,
			getenv: func(k string) string {
				if k == "ALIBABA_CLOUD_ACCESS_KEY_ID" {
					return pipeline.Credentials().AccessKeyID
				}
				if k == "ALIBABA_CLOUD_ACCESS_KEY_SECRET" {
					return "held by realConfig, never read here"
				}
				return ""
			},
			realConfig: func(_ func(string) string, region string) (*openapi.Config, string, error) {
				return srv.Config(pipeline.Credentials(), region), "a test server", nil
			},
		}
	}
	newcomer := ""
	for _, tc := range []struct {
		before func()
		args   []string
		code   int
		stdout string
		writes int // SetKeyPolicy calls, -1 for any
	}{
		{nil, []string{"plan", "-manifest", org}, exitOK, "Root/apps/prod", 0},
		{nil, []string{"apply", "-manifest", org}, exitOK, "Key policies (2 key-policy write(s))", 2},
		{nil, []string{"apply", "-manifest", org, "-output", "json"}, exitOK, `"writes": 0`, 0},
		{nil, []string{"verify", "-manifest", org}, exitOK, "ok", 0},
		{nil, []string{"inventory", "-manifest", org}, exitOK, "2 key(s), 0 with drift", 0},
		{func() { newcomer = prod.NewMember("p3").ID }, []string{"onboard", "-manifest", org, "-account", "NEWCOMER"}, exitOK, "gets 2 key(s)", 2},
		{func() {
			if err := other.AddMember(members[1]); err != nil {
				t.Fatal(err)
			}
		}, []string{"plan", "-manifest", org}, exitOK, "kept (no longer selected", 0},
		{nil, []string{"apply", "-manifest", org, "-prune"}, exitOK, "2 key-policy write(s)", 2},
		{nil, []string{"revoke", "-manifest", org}, exitOK, "removed", 2},
		{nil, []string{"plan", "-manifest", bad}, exitUsage, "", 0},
		{nil, []string{"plan", "-manifest", unknown, "-output", "json"}, exitUsage, `"field": "grants[0].recipients.folder"`, 0},
		{nil, []string{"onboard", "-manifest", org}, exitUsage, "", 0},
		{nil, []string{"verify", "-manifest", org, "-prune"}, exitUsage, "", 0},
	} {
		if tc.before != nil {
			tc.before()
		}
		for i, a := range tc.args {
			if a == "NEWCOMER" {
				tc.args[i] = newcomer
			}
		}
		mark := cloud.Log().Mark()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, env(&stdout, &stderr))
		if testing.Verbose() {
			t.Logf("keyshare %s:\n%s", strings.Join(tc.args, " "), stdout.String())
		}
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) {
			t.Fatalf("keyshare %s: exit %d, want %d; stdout lacks %q?\n%s\nstderr:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.stdout, stdout.String(), stderr.String())
		}
		if n := len(cloud.Log().Since(mark, fakecloud.Match{Action: "SetKeyPolicy", Status: 200})); tc.writes >= 0 && n != tc.writes {
			t.Errorf("keyshare %s: %d key-policy writes, want %d", strings.Join(tc.args, " "), n, tc.writes)
		}
	}
}

// TestManifestExamples: the manifests people copy, testdata/org.json (which
// README.md shows) and the sketch in keyshare -h, are valid manifests that
// say what their text says.
func TestManifestExamples(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/org.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		data           string
		grants         int
		folders        []string
		directory      bool
		principalKinds []share.PrincipalKind
	}{
		{"testdata/org.json", string(data), 3, []string{"apps/prod"}, true, []share.PrincipalKind{"", share.PrincipalECSDiskRole, share.PrincipalRole}},
		{"manifestSketch", manifestSketch, 2, []string{"apps/prod"}, false, []share.PrincipalKind{"", share.PrincipalRole}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := share.ParseManifest([]byte(tc.data))
			if err != nil {
				t.Fatalf("ParseManifest: %v", err)
			}
			if len(m.Grants) != tc.grants {
				t.Fatalf("%d grants, want %d", len(m.Grants), tc.grants)
			}
			var folders []string
			directory := false
			var kinds []share.PrincipalKind
			for _, g := range m.Grants {
				for _, f := range g.Recipients.Folders {
					folders = append(folders, f.Folder)
				}
				directory = directory || g.Recipients.Directory
				kinds = append(kinds, g.Principal)
			}
			if !slices.Equal(folders, tc.folders) || directory != tc.directory || !slices.Equal(kinds, tc.principalKinds) {
				t.Errorf("folders %q, directory %v, principals %q; want %q, %v, %q", folders, directory, kinds, tc.folders, tc.directory, tc.principalKinds)
			}
			if got := manifestRegions(m); !slices.Equal(got, []string{"cn-hangzhou"}) {
				t.Errorf("regions %q", got)
			}
		})
	}
	// The sketch is what both -h texts show.
	if !strings.Contains(usage(), manifestSketch) || !strings.Contains(manifestUsage, manifestSketch) {
		t.Error("keyshare -h or the manifest commands' -h lacks manifestSketch")
	}
}
