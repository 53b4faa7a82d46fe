package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/internal/golden"
	"github.com/kmsshare/kmsshare/share"
)

// tourFile is the example's output with its deterministic settings (seed 1,
// a manual clock). The README's 30-second tour is a copy of it, kept in
// sync by examples/readme_test.go.
const tourFile = "testdata/tour.txt"

// waitingRun matches a run of "waiting" lines.
var waitingRun = regexp.MustCompile(`(?m)(^   waiting  [^\n]*\n)+`)

// withoutWaiting drops the waiting lines altogether: on a fast scaled clock
// the calls themselves can take longer than the propagation delay.
func withoutWaiting(s string) string { return waitingRun.ReplaceAllString(s, "") }

// TestTour runs the story on the emulator with a manual clock and checks it
// against the golden tour, and that the story's key lines are there.
func TestTour(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := runEmulated(context.Background(), &out, defaults(t), sim.ManualClock()); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	const accept = "go test ./examples/landingzone -update (then go test ./examples -update for the README)"
	want := golden.Read(t, tourFile, out.Bytes(), accept)
	golden.Equal(t, tourFile, string(want), got, accept) // byte for byte: seeded jitter, manual clock
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^  security    \d{16}  owns KMS instance kst-\w+ and key key-\w+$`),
		regexp.MustCompile(`(?m)^1\. Plan: .*\n   Share key acs:kms:cn-hangzhou:\d{16}:key/key-\w+$`),
		regexp.MustCompile(`(?m)^     \+ Allow RAM acs:ram::\d{16}:role/resourcedirectoryaccountaccessrole kms:Decrypt, kms:DescribeKey, kms:Encrypt, kms:GenerateDataKey on \*$`),
		regexp.MustCompile(`(?m)^   Key policy: done \(1 write\(s\)\)$`),
		regexp.MustCompile(`(?m)^   waiting  app-1, attempt 1: refused although both policies allow it`),
		regexp.MustCompile(`(?m)^   ok       app-1 encrypted and decrypted a data key with key key-\w+\n   ok       app-2 encrypted`),
		regexp.MustCompile(`(?m)^     - Allow RAM acs:ram::\d{16}:role/resourcedirectoryaccountaccessrole`),
		regexp.MustCompile(`(?m)^   waiting  app-1, attempt 1: can still use the key`),
		regexp.MustCompile(`(?m)^   refused  app-2 is now refused: KMS answers Forbidden.NoPermission \(HTTP 403\)$`),
		regexp.MustCompile(`\nDone\.\n$`),
	} {
		if !want.MatchString(got) {
			t.Errorf("the story lacks %s", want)
		}
	}
}

// TestScaledClock runs the story as `go run` does, on a scaled clock (here
// 3000 times faster than real time, so it takes tens of milliseconds), and
// checks it tells the same story as the golden tour, but for how many
// attempts had to wait (TestTour checks those).
func TestScaledClock(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := runEmulated(context.Background(), &out, defaults(t), sim.ScaledClock(3000)); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want, err := os.ReadFile(tourFile)
	if err != nil {
		t.Fatal(err)
	}
	if withoutWaiting(out.String()) != withoutWaiting(string(want)) {
		t.Errorf("on a scaled clock the story differs:\n%s", out.String())
	}
}

func defaults(t *testing.T) config {
	t.Helper()
	cfg, err := parse(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRealModePath runs the story the way -real does, with a client whose
// configuration points elsewhere (here at the emulator over HTTP on
// 127.0.0.1, as an *openapi.Config for real Alibaba Cloud would point at its
// endpoints): without -apply and -revoke it writes nothing; with -apply it
// shares and verifies; with -revoke it revokes.
func TestRealModePath(t *testing.T) {
	t.Parallel()
	clock := sim.ManualClock()
	lz, err := sim.NewLandingZone(sim.Options{Clock: clock, Seed: 2, Propagation: time.Minute, Members: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := lz.Cloud.Serve()
	t.Cleanup(srv.Close)
	spec := &share.Spec{Key: lz.Key.ARN}
	for _, m := range lz.Members {
		spec.Recipients = append(spec.Recipients, share.Recipient{Account: m.ID})
	}
	for _, tc := range []struct {
		name          string
		apply, revoke bool
		writes        bool
		want          []string
	}{
		{"plan only", false, false, false, []string{"1. Plan: ", "Nothing was changed. Run again with -apply"}},
		{"apply", true, false, true, []string{"2. Apply: ", "3. Verify as each member", "ok       account " + lz.Members[1].ID + " encrypted and decrypted", "Done."}},
		{"apply again", true, false, false, []string{"Key policy: already-done (0 write(s))", "ok       account " + lz.Members[0].ID}},
		{"revoke", false, true, true, []string{"2. Revoke: ", "3. Verify as each member that the key is refused", "refused  account " + lz.Members[0].ID + " is now refused: KMS answers Forbidden.NoPermission"}},
	} {
		// Sequential: each case starts from the state the previous one left.
		mark := lz.Cloud.Log().Mark()
		var out bytes.Buffer
		s := newStory(&out, func(uid string) string { return "account " + uid })
		c, err := share.New(srv.Config(lz.Pipeline.Credentials(), sim.Region), s.options(defaults(t)), func(o *share.Options) { o.Clock = clock })
		if err != nil {
			t.Fatal(err)
		}
		if err := s.run(context.Background(), c, spec, tc.apply, tc.revoke); err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out.String())
			}
		}
		writes := len(lz.Cloud.Log().Since(mark, fakecloud.Match{Writes: true}))
		if (writes > 0) != tc.writes {
			t.Errorf("%s: %d write calls, want writes: %v", tc.name, writes, tc.writes)
		}
	}
}

// TestFlags covers -h, the flag checks and real mode without credentials.
func TestFlags(t *testing.T) {
	t.Parallel()
	emptyHome := t.TempDir()
	noCreds := func(k string) string {
		if k == "HOME" {
			return emptyHome
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
		{"help lists -apply", []string{"-help"}, 0, "-apply"},
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined"},
		{"arguments", []string{"extra"}, 2, "unexpected arguments"},
		{"key without -real", []string{"-key", key}, 2, "are for -real"},
		{"apply without -real", []string{"-apply"}, 2, "are for -real"},
		{"real without members", []string{"-real", "-key", key}, 2, "-real needs -key and -members"},
		{"bad speed", []string{"-speed", "0"}, 2, "-speed must be positive"},
		{"masked key", []string{"-real", "-key", "acs:kms:cn-hangzhou:119285303511****:key/key-x", "-members", "2222222222222222"}, 2, "invalid spec"},
		{"member is the owner", []string{"-real", "-key", key, "-members", "1192853035118460"}, 2, "is the key's own account"},
		{"region mismatch", []string{"-real", "-key", key, "-members", "2222222222222222", "-region", "cn-shanghai"}, 2, "client is configured for cn-shanghai"},
		{"no credentials", []string{"-real", "-key", key, "-members", "2222222222222222"}, 1, "no Alibaba Cloud credentials configured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := cli(context.Background(), tc.args, &stdout, &stderr, noCreds)
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}
