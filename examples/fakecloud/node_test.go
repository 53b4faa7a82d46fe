package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNodeSDKs drives the server with Alibaba Cloud's official Node.js
// SDKs (testdata/node/sdks.js): ACS3 clients and the older RPC clients,
// GET and POST. It needs node and the SDKs installed
// (npm install --prefix examples/fakecloud/testdata/node, which .ci/run
// does when npm is there) and skips without them.
func TestNodeSDKs(t *testing.T) {
	dir := filepath.Join("testdata", "node")
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@alicloud", "pop-core")); err != nil {
		t.Skip("the Node.js SDKs are not installed: npm install --prefix examples/fakecloud/testdata/node")
	}
	s := start(t)
	out := filepath.Join(t.TempDir(), "out.json")
	data, err := json.Marshal(s.out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "sdks.js", out)
	cmd.Dir = dir
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node sdks.js: %v\n%s", err, got)
	}
	for _, want := range []string{
		"ok   sts20150401 (openapi-core, ACS3) GetCallerIdentity",
		"ok   sts20150401 AssumeRole + session GetCallerIdentity",
		"ok   kms20160120 (rpc-client) GenerateDataKey + Decrypt",
		"ok   pop-core GET DescribeKey",
		"ok   pop-core POST DescribeKey",
		"ok   pop-core wrong secret refused",
		"ok   openapi-client (ACS3) POST form Encrypt",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("node output lacks %q:\n%s", want, got)
		}
	}
	t.Logf("%s", got)
}
