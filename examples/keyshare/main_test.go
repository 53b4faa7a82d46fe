package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/internal/golden"
	"github.com/kmsshare/kmsshare/share"
)

// TestMain makes the test binary double as the keyshare command for the
// scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"keyshare": main})
}

// TestScripts runs testdata/script/*.txtar: every command in text and JSON,
// every exit status, bad input, and the simulation's banner and state.
// Scripts run without Alibaba Cloud credentials (HOME is /no-home), so
// keyshare simulates; the custom command "expect N cmd args..." checks an
// exact exit status.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			// Under -race every process sleeps a second at exit by
			// default; the scripts start dozens.
			e.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			return serveWorld(e)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"expect": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: expect status command [args...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("expect: bad status %q", args[0])
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				switch {
				case errors.As(err, &ee):
					got = ee.ExitCode()
				case err != nil:
					ts.Fatalf("expect: %v", err)
				}
				if got != want {
					ts.Fatalf("exit status %d, want %d", got, want)
				}
			},
		},
	})
}

// worldSpec is the world every script can reach as "real Alibaba Cloud":
// the emulator over HTTP on 127.0.0.1, built as the simulation builds its
// world, so that the same IDs resolve.
const worldSpec = `{"key": "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7",
 "recipients": [{"account": "2222222222222222"}, {"account": "3333333333333333"}]}`

// serveWorld starts the emulator for a script and sets KS_ENDPOINT, KS_ID
// and KS_SECRET: the endpoint and the pipeline user's access key, which a
// script passes as KEYSHARE_ENDPOINT and the ALIBABA_CLOUD_ACCESS_KEY_*
// variables to run keyshare without -simulate. Scripts that do not set
// them have no credentials.
func serveWorld(e *testscript.Env) error {
	spec, err := parseSpec([]byte(worldSpec))
	if err != nil {
		return err
	}
	cloud := fakecloud.New(fakecloud.Options{Seed: 7})
	pipeline, err := buildWorld(cloud, []*share.Spec{spec}, 5)
	if err != nil {
		return err
	}
	srv := cloud.Serve()
	e.Defer(srv.Close)
	e.Setenv("KS_ENDPOINT", "http://"+srv.Endpoint("cn-hangzhou"))
	e.Setenv("KS_ID", pipeline.Credentials().AccessKeyID)
	e.Setenv("KS_SECRET", pipeline.Credentials().Secret())
	return nil
}

// TestHelp keeps testdata/help.txt, which the README shows, equal to
// keyshare -h.
func TestHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, env{stdout: &stdout, stderr: &stderr}); code != 0 || stderr.Len() > 0 {
		t.Fatalf("keyshare -h: exit %d, stderr %s", code, stderr.String())
	}
	golden.Check(t, "testdata/help.txt", stdout.Bytes(), "go test ./examples/keyshare -update (then go test ./examples -update for the README)")
	// Every exit status defined in code is documented, once.
	for code := exitOK; code <= exitLint; code++ {
		if n := strings.Count(stdout.String(), fmt.Sprintf("\n  %d  ", code)); n != 1 {
			t.Errorf("exit status %d is documented %d times", code, n)
		}
	}
}

// TestExitCode: failure classes map to exit statuses with errors.Is and
// errors.As, whatever wraps them.
func TestExitCode(t *testing.T) {
	t.Parallel()
	verifyErr := func(outcomes ...share.Outcome) error {
		rep := &share.VerifyReport{}
		for _, o := range outcomes {
			rep.Results = append(rep.Results, share.VerifyResult{Outcome: o})
		}
		return fmt.Errorf("wrapped: %w", rep.Err())
	}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"other", errors.New("boom"), exitFailure},
		{"API error", &share.APIError{Class: share.ErrThrottled, Err: errors.New("x")}, exitFailure},
		{"usage", fmt.Errorf("%w: bad flag", errUsage), exitUsage},
		{"spec", &share.SpecError{Problems: []share.SpecProblem{{Field: "key", Reason: "missing"}}}, exitUsage},
		{"no credentials", fmt.Errorf("x: %w", realcloud.ErrNoCredentials), exitUsage},
		{"preflight", &share.PreflightError{Problems: []share.Problem{{Code: share.ProblemQuota}}}, exitPreflight},
		{"incomplete", &share.ApplyError{Result: &share.Result{}}, exitIncomplete},
		{"denied", verifyErr(share.OutcomeOK, share.OutcomeDeniedByKeyPolicy), exitDenied},
		{"recipient RAM", verifyErr(share.OutcomeDeniedByRecipientPolicy), exitDenied},
		{"still granted", verifyErr(share.OutcomeStillGranted), exitDenied},
		{"role missing", verifyErr(share.OutcomeRecipientRoleMissing), exitDenied},
		{"quota", verifyErr(share.OutcomeQuotaExceeded), exitDenied},
		{"disabled", verifyErr(share.OutcomeKeyDisabled), exitDenied},
		{"network path refused", verifyErr(share.OutcomeNetworkRefused), exitDenied},
		{"denied wins over waiting", verifyErr(share.OutcomeNotYetPropagated, share.OutcomeDeniedByKeyPolicy), exitDenied},
		{"not yet propagated", verifyErr(share.OutcomeOK, share.OutcomeNotYetPropagated), exitNotPropagated},
		{"verification error", verifyErr(share.OutcomeError), exitFailure},
		{"not in an instance", verifyErr(share.OutcomeKeyNotInInstance), exitDenied},
		{"error and waiting", verifyErr(share.OutcomeError, share.OutcomeNotYetPropagated), exitNotPropagated},
		{"wrapped", fmt.Errorf("verify: %w", verifyErr(share.OutcomeDeniedByKeyPolicy)), exitDenied},
		{"lint", fmt.Errorf("%w in a.json", errLint), exitLint},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestRealMode runs keyshare as it runs with credentials: real mode, with
// the SDK configuration from env.realConfig, here the emulator over HTTP on
// 127.0.0.1 standing in for Alibaba Cloud's endpoints. It is the same code
// as simulate mode; only the configuration differs, and nothing is
// journaled.
func TestRealMode(t *testing.T) {
	t.Parallel()
	lz, err := sim.NewLandingZone(sim.Options{Clock: sim.ManualClock(), Seed: 3, Members: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := lz.Cloud.Serve()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	specFile := dir + "/spec.json"
	spec := fmt.Sprintf(`{"key": %q, "recipients": [{"account": %q}]}`, lz.Key.ARN, lz.Members[0].ID)
	if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	var regions []string
	e := func(stdout, stderr *bytes.Buffer) env {
		return env{
			stdout: stdout, stderr: stderr, now: time.Now,
			getenv: func(k string) string {
				switch k {
				case "ALIBABA_CLOUD_ACCESS_KEY_ID":
					return lz.Pipeline.Credentials().AccessKeyID
				case "ALIBABA_CLOUD_ACCESS_KEY_SECRET":
					return "held by realConfig, never read here"
				}
				return ""
			},
			realConfig: func(_ func(string) string, region string) (*openapi.Config, string, error) {
				regions = append(regions, region)
				return srv.Config(lz.Pipeline.Credentials(), region), "a test server", nil
			},
		}
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		writes bool
	}{
		{[]string{"plan", "-spec", specFile}, exitOK, "+ Allow RAM " + share.Recipient{Account: lz.Members[0].ID}.PrincipalARN().String(), false},
		{[]string{"verify", "-spec", specFile, "-timeout", "1s"}, exitDenied, "denied-by-key-policy", false},
		{[]string{"apply", "-spec", specFile, "-state", dir + "/state.json"}, exitUsage, "", false},
		{[]string{"apply", "-spec", specFile, "-sim-quota", "1"}, exitUsage, "", false},
		{[]string{"apply", "-spec", specFile}, exitOK, "Key policy: done (1 write(s))", true},
		{[]string{"verify", "-spec", specFile, "-output", "json"}, exitOK, `"outcome": "ok"`, false},
		{[]string{"inventory", "-spec", specFile}, exitOK, "Drift: none", false},
		{[]string{"revoke", "-spec", specFile}, exitOK, "removed from the key policy", true},
		{[]string{"verify", "-revoked", "-spec", specFile}, exitOK, "revoked after", false},
	} {
		mark := lz.Cloud.Log().Mark()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, e(&stdout, &stderr))
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) {
			t.Errorf("keyshare %s: exit %d, want %d; stdout lacks %q?\n%s\nstderr:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.stdout, stdout.String(), stderr.String())
		}
		if tc.code == exitUsage {
			if !strings.Contains(stderr.String(), "only apply to the simulation") {
				t.Errorf("keyshare %s: stderr:\n%s", strings.Join(tc.args, " "), stderr.String())
			}
		} else if !strings.Contains(stderr.String(), "keyshare: Alibaba Cloud, region cn-hangzhou, credentials from a test server") ||
			strings.Contains(stderr.String(), "SIMULATION") {
			t.Errorf("keyshare %s: the banner does not say real Alibaba Cloud:\n%s", tc.args[0], stderr.String())
		}
		writes := len(lz.Cloud.Log().Since(mark, fakecloud.Match{Writes: true, Status: 200})) > 0
		if writes != tc.writes {
			t.Errorf("keyshare %s: wrote %v, want %v", tc.args[0], writes, tc.writes)
		}
	}
	for _, f := range []string{dir + "/state.json", ".keyshare-sim.json"} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("real mode wrote a simulation state %s: %v", f, err)
		}
	}
	if len(regions) == 0 || regions[0] != sim.Region {
		t.Errorf("real mode asked for regions %v", regions)
	}
	// The JSON report is the library's own.
	var stdout, stderr bytes.Buffer
	run(context.Background(), []string{"verify", "-revoked", "-spec", specFile, "-output", "json", "-quiet"}, e(&stdout, &stderr))
	var rep share.VerifyReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || !rep.Revoke || len(rep.Results) != 1 || rep.Results[0].Outcome != share.OutcomeRevoked {
		t.Errorf("verify -revoked -output json: %v\n%s", err, stdout.String())
	}
	if strings.Contains(stderr.String(), "keyshare: verify") {
		t.Errorf("-quiet printed progress:\n%s", stderr.String())
	}
}
