package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/examples/internal/lesson"
	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
)

// TestStory runs the emulated W5 story and checks that it tells it.
func TestStory(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := cli(context.Background(), []string{"-size", "300000", "-segment", "4096"}, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
	}
	got := out.String()
	for _, want := range []string{
		"W5: an application account encrypts a file",
		"1. The Security account shares both keys with app-1 (kmsshare: plan and apply)",
		"backup.tar.kmse: 300000 bytes of plaintext",
		"in segments of 4096 bytes, encryption context purpose=backup",
		"KMS calls: 1 GenerateDataKey",
		"1 Encrypt (the same data key under",
		"3. app-1 decrypts it, streaming",
		"300000 bytes back, identical to the original",
		"4. cn-hangzhou is unavailable: app-1 decrypts with the copy in cn-shanghai alone",
		"refused  envelope: message authentication failed",
		"refused  KMS refuses to decrypt the data key for app-2: KMS answers Forbidden.NoPermission",
		"Done.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// The DR step really used the copy: its key ID is the cn-shanghai one.
	if !strings.Contains(got, "identical to the original, with key key-szz") {
		t.Errorf("the disaster-recovery decryption did not use the copy:\n%s", got)
	}
}

// TestRealModeOnEmulator runs the -real code path, pointed at the emulator
// over HTTP on 127.0.0.1: encrypt a file under two keys, then decrypt it.
func TestRealModeOnEmulator(t *testing.T) {
	t.Parallel()
	lz, err := sim.NewLandingZone(sim.Options{Clock: sim.ManualClock(), Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	dr, err := lz.Security.NewKMSInstance("cn-shanghai", fakecloud.InstanceOptions{Quota: 2}).NewKey(fakecloud.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := lz.Security.NewUser("admin", "AliyunKMSFullAccess")
	if err != nil {
		t.Fatal(err)
	}
	srv := lz.Cloud.Serve()
	defer srv.Close()
	sdk := func(region string) (*openapi.Config, error) { return srv.Config(admin.Credentials(), region), nil }
	source := "a test server"

	dir := t.TempDir()
	in := filepath.Join(dir, "data.bin")
	data := bytes.Repeat([]byte("kmsshare "), 20000)
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	keys := []arn.ARN{arn.MustParse(lz.Key.ARN), arn.MustParse(dr.ARN)}
	enc := config{Flags: &lesson.Flags{Real: true, Key: lz.Key.ARN}, in: in, out: filepath.Join(dir, "data.kmse"), segment: 64 << 10, context: map[string]string{"purpose": "test"}}
	var out bytes.Buffer
	if err := realWith(context.Background(), &out, enc, keys, sdk, source); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "encrypted "+in+" to "+enc.out) || !strings.Contains(out.String(), "under 2 master key(s)") {
		t.Errorf("encrypt output:\n%s", out.String())
	}
	// Decrypt with the copy only.
	decCfg := enc
	decCfg.decrypt, decCfg.in, decCfg.out = true, enc.out, filepath.Join(dir, "back.bin")
	out.Reset()
	if err := realWith(context.Background(), &out, decCfg, keys[1:], sdk, source); err != nil {
		t.Fatal(err)
	}
	back, err := os.ReadFile(decCfg.out)
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("decrypted file differs: %v", err)
	}
	// A wrong context is refused and leaves no output.
	bad := decCfg
	bad.context, bad.out = map[string]string{"purpose": "other"}, filepath.Join(dir, "bad.bin")
	if err := realWith(context.Background(), &out, bad, keys, sdk, source); err == nil {
		t.Fatal("decrypted with the wrong encryption context")
	}
	if _, err := os.Stat(bad.out); !os.IsNotExist(err) {
		t.Error("a failed decryption left an output file")
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists")
	if err := os.WriteFile(exists, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"-h"}, 0, "Workflow W5"},
		{[]string{"-key", key}, 2, "are for -real"},
		{[]string{"-real", "-key", key}, 2, "-real needs -key, -in and -out"},
		{[]string{"-real", "-key", "acs:kms:cn-hangzhou:119285303511****:key/k", "-in", exists, "-out", filepath.Join(dir, "o")}, 2, "masks IDs"},
		{[]string{"-real", "-key", "acs:ram::1192853035118460:role/x", "-in", exists, "-out", filepath.Join(dir, "o")}, 2, "not a KMS key ARN"},
		{[]string{"-real", "-key", key, "-in", exists, "-out", exists}, 2, "exists"},
		{[]string{"-real", "-key", key, "-in", exists, "-out", filepath.Join(dir, "o")}, 2, "no Alibaba Cloud credentials"},
		{[]string{"-context", "novalue"}, 2, "want key=value"},
		{[]string{"extra"}, 2, "unexpected arguments"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := cli(context.Background(), tt.args, &out, &errOut, noEnv)
		if code != tt.code || !strings.Contains(errOut.String(), tt.err) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errOut.String(), tt.code, tt.err)
		}
	}
}

// noEnv is an environment without credentials.
func noEnv(string) string { return "" }

// TestReportOnePrefix: an error of the envelope package is printed with one
// "envelope:" prefix, not two.
func TestReportOnePrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
		code int
	}{
		{fmt.Errorf("decrypt x: %w", envelope.ErrNotAuthentic), "envelope: decrypt x: " + envelope.ErrNotAuthentic.Error() + "\n", 1},
		{envelope.ErrNotAuthentic, envelope.ErrNotAuthentic.Error() + "\n", 1},
		{fmt.Errorf("%w: -key: bad", lesson.ErrUsage), "envelope: usage: -key: bad\n", 2},
		{&realcloud.CredentialsError{Problems: []string{"X is set but Y is not"}}, "envelope: incomplete Alibaba Cloud credentials: X is set but Y is not\n", 2},
	} {
		var b bytes.Buffer
		if code := report(&b, tc.err); code != tc.code || b.String() != tc.want || strings.Contains(b.String(), "envelope: envelope:") {
			t.Errorf("report(%v) = %d %q, want %d %q", tc.err, code, b.String(), tc.code, tc.want)
		}
	}
}
