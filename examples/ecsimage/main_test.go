package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/ecsroles"
	"github.com/kmsshare/kmsshare/examples/internal/lesson"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/internal/golden"
)

// TestStory runs the example on the emulator for images and for snapshots.
// The output is deterministic, so it is compared byte for byte with
// testdata, and checked for what each trust scope admits and refuses.
func TestStory(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		snapshot bool
		golden   string
		role     string
	}{
		{false, "testdata/images.txt", ecsroles.ShareImageRoleName},
		{true, "testdata/snapshots.txt", ecsroles.ShareSnapshotRoleName},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			if err := runEmulated(context.Background(), &out, tc.snapshot); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			got := out.String()
			golden.Check(t, tc.golden, out.Bytes(), "go test ./examples/ecsimage -update")
			// Per scenario: what is admitted and what is refused.
			sections := strings.Split(got, "\n\n")
			if len(sections) != 7 {
				t.Fatalf("%d sections, want title, accounts, three scenarios, deletion, done:\n%s", len(sections), got)
			}
			for i, want := range []struct {
				trust, ok, refused string
			}{
				{`"Principal":\{"Service":\["\d+@ecs.aliyuncs.com","\d+@ecs.aliyuncs.com"\]\}`, "app-1 app-2", "sandbox-1"},
				{`"StringEquals":\{"sts:ServiceOwnerRDId":"rd-\w+"\}`, "app-2 sandbox-1", "stranger"},
				{`"StringLike":\{"sts:ServiceOwnerRDPath":"rd-\w+/r-\w+/fd-\w+\*"\}`, "app-1 app-3", "sandbox-1 stranger"},
			} {
				sec := sections[2+i]
				if !regexp.MustCompile(want.trust).MatchString(sec) {
					t.Errorf("scenario %d lacks the trust %s:\n%s", i+1, want.trust, sec)
				}
				if got := actors(sec, "ok       ECS acting for "); got != want.ok {
					t.Errorf("scenario %d admits %q, want %q", i+1, got, want.ok)
				}
				if got := actors(sec, "refused  ECS acting for "); got != want.refused {
					t.Errorf("scenario %d refuses %q, want %q", i+1, got, want.refused)
				}
			}
			for _, re := range []string{
				`(?m)^   done     create role ` + tc.role + ` with trust policy `,
				`(?m)^   done     attach custom policy ECSShareEncrypt\w+DefaultRolePolicy-cn-hangzhou-key-\w+ to role ` + tc.role + `$`,
				`(?m)^   done     delete role ` + tc.role + `$`,
				`(?m)^   refused  ECS acting for app-1 finds no ` + tc.role + `: STS answers EntityNotExist.Role \(HTTP 404\) \(ECS refuses to share with AssumeRoleError\)$`,
			} {
				if !regexp.MustCompile(re).MatchString(got) {
					t.Errorf("the story lacks %s", re)
				}
			}
		})
	}
}

// actors lists the accounts named after prefix in a section.
func actors(section, prefix string) string {
	var out []string
	for _, line := range strings.Split(section, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), strings.TrimSpace(prefix)); ok {
			out = append(out, strings.Fields(rest)[0])
		}
	}
	return strings.Join(out, " ")
}

// TestRealModePath runs what -real does once it has an SDK configuration
// (here the emulator over HTTP on 127.0.0.1): read-only by default,
// -apply creates the role, applying again changes nothing, -revoke deletes
// it, and credentials of another account than the key's are refused.
func TestRealModePath(t *testing.T) {
	t.Parallel()
	lz, err := sim.NewLandingZone(sim.Options{Clock: sim.ManualClock(), Seed: 9, Members: []string{"r"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := lz.Cloud.Serve()
	t.Cleanup(srv.Close)
	admin, err := lz.Security.NewUser("admin", "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	key := arn.MustParse(lz.Key.ARN)
	trust := ecsroles.Accounts(lz.Members[0].ID)
	spec, err := roleSpec(false, key.AccountID, trust, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		apply, revoke bool
		writes        string
		want          string
	}{
		{"plan only", false, false, "", "plan     create role AliyunECSShareEncryptImageDefaultRole"},
		{"apply", true, false, "CreateRole CreatePolicy AttachPolicyToRole", "done     attach custom policy"},
		{"apply again", true, false, "", "nothing to do: the role in account " + key.AccountID + " is already as it should be"},
		{"revoke", false, true, "DetachPolicyFromRole DeleteRole DeletePolicy", "done     delete policy"},
		{"revoke again", false, true, "", "nothing to do"},
	} {
		mark := lz.Cloud.Log().Mark()
		var out bytes.Buffer
		cfg := config{Flags: &lesson.Flags{Real: true, Key: lz.Key.ARN, Apply: tc.apply, Revoke: tc.revoke}, accounts: []string{lz.Members[0].ID}}
		if err := realWith(context.Background(), &out, cfg, srv.Config(admin.Credentials(), sim.Region), "a test server", spec, trust, key); err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out.String())
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%s: output lacks %q:\n%s", tc.name, tc.want, out.String())
		}
		var writes []string
		for _, e := range lz.Cloud.Log().Since(mark, fakecloud.Match{Writes: true, Status: 200}) {
			writes = append(writes, e.Action)
		}
		if strings.Join(writes, " ") != tc.writes {
			t.Errorf("%s: writes %v, want %q", tc.name, writes, tc.writes)
		}
	}
	var out bytes.Buffer
	err = realWith(context.Background(), &out, config{Flags: &lesson.Flags{Real: true, Apply: true}}, srv.Config(lz.Pipeline.Credentials(), sim.Region), "a test server", spec, trust, key)
	if err == nil || !strings.Contains(err.Error(), "must live in "+key.AccountID) {
		t.Errorf("credentials of the management account: %v", err)
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	noCreds := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	key := "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"-h"}, 0, "Real Alibaba Cloud (-real)"},
		{"unknown flag", []string{"-x"}, 2, "flag provided but not defined"},
		{"arguments", []string{"x"}, 2, "unexpected arguments"},
		{"scope without -real", []string{"-rd", "rd-abc123"}, 2, "are for -real"},
		{"no scope", []string{"-real", "-key", key}, 2, "exactly one of -accounts, -rd and -folder"},
		{"two scopes", []string{"-real", "-key", key, "-rd", "rd-abc123", "-accounts", "2222222222222222"}, 2, "exactly one of"},
		{"apply and revoke", []string{"-real", "-key", key, "-rd", "rd-abc123", "-apply", "-revoke"}, 2, "would create the role and delete it again"},
		{"not a key", []string{"-real", "-key", "acs:ram::1192853035118460:role/x", "-rd", "rd-abc123"}, 2, "not a KMS key ARN"},
		{"masked account", []string{"-real", "-key", key, "-accounts", "222222222222****"}, 2, "masked"},
		{"own account", []string{"-real", "-key", key, "-accounts", "1192853035118460"}, 2, "is the sharer's own account"},
		{"bad folder", []string{"-real", "-key", key, "-folder", "fd-x"}, 2, "folder path"},
		{"no credentials", []string{"-real", "-key", key, "-rd", "rd-abc123"}, 1, "no Alibaba Cloud credentials configured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := cli(context.Background(), tc.args, &stdout, &stderr, noCreds); code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}
