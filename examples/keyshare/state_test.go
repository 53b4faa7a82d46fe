package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/share"
)

const testSpec = `{"key": "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7",
 "recipients": [{"account": "2222222222222222"}]}`

// TestLockBusy: while another command holds the state's lock, a command
// waits up to -lock-wait and then exits 2, saying why, without touching
// the state; once the lock is free it runs.
func TestLockBusy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec, state := filepath.Join(dir, "spec.json"), filepath.Join(dir, "state.json")
	if err := os.WriteFile(spec, []byte(testSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	held, err := lockState(context.Background(), state, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := func(stdout, stderr *bytes.Buffer) env {
		return env{stdout: stdout, stderr: stderr, getenv: func(string) string { return "" }, now: time.Now}
	}
	var stdout, stderr bytes.Buffer
	args := []string{"apply", "-simulate", "-quiet", "-spec", spec, "-state", state, "-lock-wait", "100ms"}
	if code := run(context.Background(), args, e(&stdout, &stderr)); code != exitUsage ||
		!strings.Contains(stderr.String(), "is in use by another keyshare command") {
		t.Fatalf("apply with the lock held: exit %d\n%s", code, stderr.String())
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("apply with the lock held made the state: %v", err)
	}
	if err := held.Unlock(); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), args, e(&stdout, &stderr)); code != exitOK {
		t.Fatalf("apply after the unlock: exit %d\n%s", code, stderr.String())
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("apply did not journal: %v", err)
	}
}

// TestDoctorClock: a host clock more than 15 minutes off the server's Date
// fails doctor (exit 3) and says "your clock"; a minute or two warns.
func TestDoctorClock(t *testing.T) {
	t.Parallel()
	cloud := fakecloud.New(fakecloud.Options{Seed: 3})
	spec, err := parseSpec([]byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	pipeline, err := buildWorld(cloud, []*share.Spec{spec}, 5)
	if err != nil {
		t.Fatal(err)
	}
	// The server's clock says serverNow; the host's is off by the case's skew.
	serverNow := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	h := cloud.Handler("cn-hangzhou")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", serverNow.Format(http.TimeFormat))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specFile, []byte(testSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	creds := pipeline.Credentials()
	for _, tc := range []struct {
		skew   time.Duration
		code   int
		status string
		says   string
	}{
		{0, exitOK, checkOK, "within 1s of the server's"},
		{-3 * time.Minute, exitOK, checkWarning, "3m0s behind the server's"},
		{16 * time.Minute, exitPreflight, checkFailed, "16m0s ahead of the server's; Alibaba Cloud refuses requests more than 15m0s off (InvalidTimeStamp.Expired): fix your clock"},
	} {
		var stdout, stderr bytes.Buffer
		e := env{stdout: &stdout, stderr: &stderr, now: func() time.Time { return serverNow.Add(tc.skew) },
			getenv: func(k string) string {
				if k == "KEYSHARE_ENDPOINT" {
					return srv.URL
				}
				return ""
			},
			realConfig: func(_ func(string) string, region string) (*openapi.Config, string, error) {
				return &openapi.Config{AccessKeyId: tea.String(creds.AccessKeyID), AccessKeySecret: tea.String(creds.Secret()),
					RegionId: tea.String(region)}, "a test", nil
			},
		}
		code := run(context.Background(), []string{"doctor", "-output", "json", "-spec", specFile}, e)
		var rep struct {
			Simulated bool
			Ready     bool
			Checks    []doctorCheck
		}
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("skew %s: %v\n%s", tc.skew, err, stdout.String())
		}
		var clock doctorCheck
		for _, c := range rep.Checks {
			if c.Name == "clock" {
				clock = c
			}
		}
		if code != tc.code || rep.Simulated || clock.Status != tc.status || !strings.Contains(clock.Detail, tc.says) {
			t.Errorf("skew %s: exit %d, clock %+v; want exit %d, %s %q\n%s%s", tc.skew, code, clock, tc.code, tc.status, tc.says, stdout.String(), stderr.String())
		}
		if strings.Contains(stdout.String()+stderr.String(), creds.Secret()) {
			t.Errorf("doctor printed the secret")
		}
	}
}

// TestRenderJSON: "simulated" comes first at the top level only, durations
// become seconds, and everything else is the library's JSON unchanged.
func TestRenderJSON(t *testing.T) {
	t.Parallel()
	v := map[string]any{"a": []any{map[string]any{"elapsed": 1500 * time.Millisecond, "s": "<x>"}}, "n": nil, "b": true}
	got, err := renderJSON(v, true)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "simulated": true,
  "a": [
    {
      "elapsedSeconds": 1.5,
      "s": "\u003cx\u003e"
    }
  ],
  "b": true,
  "n": null
}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	arr, err := renderJSON([]int{1}, false)
	if err != nil || string(arr) != "[\n  1\n]\n" {
		t.Errorf("array: %q %v", arr, err)
	}
}
