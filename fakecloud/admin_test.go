package fakecloud

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
)

func TestAdminHandler(t *testing.T) {
	t.Parallel()
	w := must(LoadWorld(strings.NewReader(`{"clock": {"kind": "manual"}, "accounts": [{"name": "a"}]}`), WorldOptions{}))
	srv := httptest.NewServer(w.Handler("cn-hangzhou"))
	defer srv.Close()
	do := func(method, path string, want int) map[string]any {
		t.Helper()
		req := must(http.NewRequest(method, srv.URL+path, nil))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body := must(io.ReadAll(resp.Body))
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, body, want)
		}
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, body, err)
		}
		return v
	}

	// The API still answers on "/" next to the admin endpoints.
	addr := srv.Listener.Addr().String()
	creds := must(w.Credentials("a"))
	cfg := &openapi.Config{AccessKeyId: tea.String(creds.AccessKeyID), AccessKeySecret: tea.String(creds.Secret()),
		RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String(addr), NoProxy: tea.String(addr), Protocol: tea.String("http")}
	for range 2 {
		if _, err := must(sts.NewClient(cfg)).GetCallerIdentity(); err != nil {
			t.Fatal(err)
		}
	}

	if got := do("GET", AdminPath+"time", 200)["now"]; got != DefaultStart {
		t.Errorf("time %v, want %s", got, DefaultStart)
	}
	if got := do("POST", AdminPath+"advance?by=90m", 200)["now"]; got != "2026-01-01T01:30:00Z" {
		t.Errorf("advance: now %v", got)
	}
	log := do("GET", AdminPath+"log", 200)
	if log["mark"] != 2.0 || len(log["entries"].([]any)) != 2 {
		t.Errorf("log %v", log)
	}
	if e := log["entries"].([]any)[1].(map[string]any); e["Action"] != "GetCallerIdentity" || e["Status"] != 200.0 || e["Seq"] != 2.0 {
		t.Errorf("entry %v", e)
	}
	if got := do("GET", AdminPath+"log?since=1", 200)["entries"].([]any); len(got) != 1 {
		t.Errorf("log since 1: %v", got)
	}
	if got := do("GET", AdminPath+"log?since=2", 200)["entries"].([]any); len(got) != 0 {
		t.Errorf("log since 2: %v", got)
	}
	do("GET", AdminPath+"log?since=x", 400)
	do("GET", AdminPath+"advance?by=1m", 405)
	do("POST", AdminPath+"advance?by=-1m", 409)
	do("POST", AdminPath+"time", 405)
	do("GET", AdminPath+"secrets", 404)
	if now := w.Cloud.Now(); !now.Equal(time.Date(2026, 1, 1, 1, 30, 0, 0, time.UTC)) {
		t.Errorf("now %v after the refused calls", now)
	}
}
