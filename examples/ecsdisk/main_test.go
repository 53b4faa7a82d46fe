package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/internal/golden"
	"github.com/kmsshare/kmsshare/share"
)

// TestStory runs the example on the emulator: its output is deterministic
// (seeded IDs, a manual clock, no propagation delay), so it is compared
// byte for byte with testdata/story.txt, and checked for the story's lines.
func TestStory(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := runEmulated(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	golden.Check(t, "testdata/story.txt", out.Bytes(), "go test ./examples/ecsdisk -update")
	for _, re := range []string{
		`(?m)^   refused  SetKeyPolicy naming acs:ram::\d+:role/aliyunecsdiskencryptdefaultrole: KMS answers InvalidParameter \(HTTP 400\); nothing changed$`,
		`(?m)^     create role AliyunECSDiskEncryptDefaultRole with trust policy .*"Service":\["ecs.aliyuncs.com"\]`,
		`(?m)^     \+ Allow RAM acs:ram::\d+:role/aliyunecsdiskencryptdefaultrole kms:Decrypt, kms:DescribeKey, kms:Encrypt, kms:GenerateDataKey, kms:TagResource on \*$`,
		`(?m)^     access management quota of kst-\w+: 0 of 2 used, 1 new account\(s\)$`,
		// B's side is done before A's key policy is written.
		`(?s)done: create role AliyunECSDiskEncryptDefaultRole.*done: attach custom policy kmsshare-key-\w+-[0-9a-f]{8} to role AliyunECSDiskEncryptDefaultRole\n.*Key policy: done \(1 write\(s\)\)`,
		`(?m)^   ok       acs:ram::\d+:role/aliyunecsdiskencryptdefaultrole: verified-statically: `,
		`(?m)^   ok       ECS acting for recipient assumed AliyunECSDiskEncryptDefaultRole and generated a data key with A's key key-\w+$`,
		`(?m)^   refused  ECS acting for outsider cannot assume AliyunECSDiskEncryptDefaultRole: STS answers NoPermission \(HTTP 403\)$`,
		`(?m)^   ok       acs:ram::\d+:role/aliyunecsdiskencryptdefaultrole: revoked: `,
		`(?m)^   refused  ECS acting for recipient assumed AliyunECSDiskEncryptDefaultRole, but GenerateDataKey with A's key: KMS answers Forbidden.NoPermission \(HTTP 403\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("the story lacks %s", re)
		}
	}
}

// TestRealModePath runs the story the way -real does, without ECS's part
// and over HTTP on 127.0.0.1 instead of Alibaba Cloud's endpoints: plan
// only writes nothing, -apply creates B's role and grants it, -revoke
// removes the grant.
func TestRealModePath(t *testing.T) {
	t.Parallel()
	lz, err := sim.NewLandingZone(sim.Options{Clock: sim.ManualClock(), Seed: 5, Members: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := lz.Cloud.Serve()
	t.Cleanup(srv.Close)
	c, err := share.New(srv.Config(lz.Pipeline.Credentials(), sim.Region), func(o *share.Options) { o.Clock = lz.Clock })
	if err != nil {
		t.Fatal(err)
	}
	b := lz.Members[0]
	spec := &share.Spec{Key: lz.Key.ARN, Recipients: []share.Recipient{{Account: b.ID, Principal: share.PrincipalECSDiskRole}}}
	for _, tc := range []struct {
		name          string
		apply, revoke bool
		writes        []string // the write actions made, in order
		want          []string
	}{
		{"plan only", false, false, nil, []string{"create role AliyunECSDiskEncryptDefaultRole", "Nothing was changed"}},
		{"apply", true, false, []string{"CreateRole", "CreatePolicy", "AttachPolicyToRole", "SetKeyPolicy"},
			[]string{"verified-statically", "B can now create a disk with Encrypted=true and KMSKeyId " + lz.Key.ID}},
		{"revoke", false, true, []string{"SetKeyPolicy"}, []string{"revoked: the key policy no longer grants it", "Done."}},
	} {
		mark := lz.Cloud.Log().Mark()
		var out bytes.Buffer
		if err := run(context.Background(), narrate.New(&out), c, spec, tc.apply, tc.revoke, nil); err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out.String())
			}
		}
		var writes []string
		for _, e := range lz.Cloud.Log().Since(mark, fakecloud.Match{Writes: true, Status: 200}) {
			writes = append(writes, e.Action)
		}
		if strings.Join(writes, " ") != strings.Join(tc.writes, " ") {
			t.Errorf("%s: writes %v, want %v", tc.name, writes, tc.writes)
		}
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
		{"apply without -real", []string{"-apply"}, 2, "are for -real"},
		{"real without recipient", []string{"-real", "-key", key}, 2, "-real needs -key and -recipient"},
		{"bare key ID", []string{"-real", "-key", "key-hzz6801a1b2c3d4e5f6g7", "-recipient", "2222222222222222"}, 2, "a bare key ID"},
		{"recipient is the owner", []string{"-real", "-key", key, "-recipient", "1192853035118460"}, 2, "is the key's own account"},
		{"no credentials", []string{"-real", "-key", key, "-recipient", "2222222222222222", "-apply"}, 1, "no Alibaba Cloud credentials configured"},
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
