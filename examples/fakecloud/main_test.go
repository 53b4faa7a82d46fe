package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// The test binary doubles as the command: with FAKECLOUD_TEST_MAIN=1 it
// runs main, so TestCommand can start it as a separate process and stop it
// with a signal, as a user's test harness in another language would.
func TestMain(m *testing.M) {
	if os.Getenv("FAKECLOUD_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const region = "cn-hangzhou"

var rt = &dara.RuntimeOptions{}

// server is a running run() and what it printed.
type server struct {
	out    output
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the command in process and reads its JSON output.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, args, pw, s.stderr)
		pw.CloseWithError(fmt.Errorf("run returned %v", err))
		s.done <- err
	}()
	if err := json.NewDecoder(pr).Decode(&s.out); err != nil {
		cancel()
		t.Fatalf("reading the output: %v\n%s", err, s.stderr)
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil {
		t.Errorf("run: %v", err)
	}
	if !strings.Contains(s.stderr.String(), "fakecloud: stopped") {
		t.Errorf("no clean stop:\n%s", s.stderr)
	}
}

func (s *server) principal(t *testing.T, name string) principal {
	t.Helper()
	for _, p := range s.out.Principals {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no principal %q in %+v", name, s.out.Principals)
	return principal{}
}

// config is what a user of the Go SDK writes to reach the server.
func (s *server) config(p principal) *openapi.Config {
	return &openapi.Config{
		AccessKeyId:     tea.String(p.AccessKeyID),
		AccessKeySecret: tea.String(p.AccessKeySecret),
		RegionId:        tea.String(region),
		Endpoint:        tea.String(s.out.Endpoint),
		NoProxy:         tea.String(s.out.Endpoint),
		Protocol:        tea.String("http"),
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func sdkCode(err error) string {
	var e *tea.SDKError
	if errors.As(err, &e) {
		return tea.StringValue(e.Code)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestServer drives the server over HTTP with the Go SDK clients, with raw
// requests signed both ways (ACS3-HMAC-SHA256 and HMAC-SHA1), GET and
// POST, parameters in the query or a form body, and through the admin API.
func TestServer(t *testing.T) {
	ctx := context.Background()
	s := start(t, "-log", "-regions", "cn-shanghai")
	if s.out.Endpoints[region] != s.out.Endpoint || s.out.Endpoints["cn-shanghai"] == "" || s.out.Endpoint == s.out.Endpoints["cn-shanghai"] {
		t.Fatalf("endpoints %+v", s.out)
	}
	keyARN := "acs:kms:cn-hangzhou:1234567890123456:key/key-hzz0000000000000000000001"
	if len(s.out.Keys) != 2 || s.out.Keys[0] != (key{Name: "security/app-data", ID: "key-hzz0000000000000000000001", ARN: keyARN, Region: region}) ||
		s.out.Keys[1].Name != "security/unshared" || !strings.HasPrefix(s.out.Keys[1].ARN, "acs:kms:cn-hangzhou:1234567890123456:key/key-hzz") {
		t.Errorf("keys %+v", s.out.Keys)
	}
	service := s.principal(t, "app-1/service")
	if service.ARN != "acs:ram::"+service.AccountID+":user/service" || service.AccessKeySecret == "" {
		t.Errorf("principal %+v", service)
	}

	t.Run("Go SDK", func(t *testing.T) {
		appKMS := must(kms.NewClient(s.config(service)))
		gen, err := appKMS.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{KeyId: tea.String(keyARN)}, rt)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := appKMS.DecryptWithContext(ctx, &kms.DecryptRequest{CiphertextBlob: gen.Body.CiphertextBlob}, rt)
		if err != nil || *dec.Body.Plaintext != *gen.Body.Plaintext {
			t.Errorf("Decrypt: %v", err)
		}
		// Not shared: the default key policy keeps app-1 out.
		unshared := must(kms.NewClient(s.config(s.principal(t, "security/admin"))))
		keys, err := unshared.ListKeysWithContext(ctx, &kms.ListKeysRequest{}, rt)
		if err != nil || len(keys.Body.Keys.Key) != 2 {
			t.Fatalf("ListKeys as security/admin: %v", err)
		}
		who, err := must(sts.NewClient(s.config(service))).GetCallerIdentity()
		if err != nil || *who.Body.Arn != service.ARN {
			t.Errorf("GetCallerIdentity: %v %v", who, err)
		}
		role, err := must(ram.NewClient(s.config(s.principal(t, "app-1")))).GetRoleWithContext(ctx,
			&ram.GetRoleRequest{RoleName: tea.String("ResourceDirectoryAccountAccessRole")}, rt)
		if err != nil || *role.Body.Role.RoleName != "ResourceDirectoryAccountAccessRole" {
			t.Errorf("GetRole: %v", err)
		}
		// Each region has its own port: the security account's keys are
		// all in cn-hangzhou.
		other := s.config(s.principal(t, "security/admin"))
		other.Endpoint, other.NoProxy, other.RegionId = tea.String(s.out.Endpoints["cn-shanghai"]), tea.String(s.out.Endpoints["cn-shanghai"]), tea.String("cn-shanghai")
		keys, err = must(kms.NewClient(other)).ListKeysWithContext(ctx, &kms.ListKeysRequest{}, rt)
		if err != nil || len(keys.Body.Keys.Key) != 0 {
			t.Errorf("ListKeys in cn-shanghai: %v %v", keys, err)
		}
	})

	// Raw requests, as Alibaba's SDKs for other languages send them.
	type rawCase struct {
		sig, method, place string
	}
	var cases []rawCase
	for _, sig := range []string{"ACS3-HMAC-SHA256", "HMAC-SHA1"} {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			cases = append(cases, rawCase{sig, m, "query"})
		}
		cases = append(cases, rawCase{sig, http.MethodPost, "form"})
	}
	// Older RPC clients may send everything, the signature too, as a form.
	cases = append(cases, rawCase{"HMAC-SHA1", http.MethodPost, "form-all"})
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %s %s", tc.sig, tc.method, tc.place), func(t *testing.T) {
			status, body := rawCall(t, tc.sig, tc.method, tc.place, s.out.Endpoint, service, service.AccessKeySecret, "",
				"GenerateDataKey", "2016-01-20", map[string]string{"KeyId": keyARN, "NumberOfBytes": "32", "EncryptionContext": `{"purpose":"raw test * ~"}`})
			if status != 200 || body["KeyId"] != "key-hzz0000000000000000000001" || body["CiphertextBlob"] == nil {
				t.Fatalf("GenerateDataKey: %d %v", status, body)
			}
			status, body = rawCall(t, tc.sig, tc.method, tc.place, s.out.Endpoint, service, service.AccessKeySecret, "",
				"Decrypt", "2016-01-20", map[string]string{"CiphertextBlob": body["CiphertextBlob"].(string), "EncryptionContext": `{"purpose":"raw test * ~"}`})
			if status != 200 || body["Plaintext"] == nil {
				t.Errorf("Decrypt: %d %v", status, body)
			}
			status, body = rawCall(t, tc.sig, tc.method, tc.place, s.out.Endpoint, service, service.AccessKeySecret, "",
				"GetCallerIdentity", "2015-04-01", nil)
			if status != 200 || body["Arn"] != service.ARN {
				t.Errorf("GetCallerIdentity: %d %v", status, body)
			}
			status, body = rawCall(t, tc.sig, tc.method, tc.place, s.out.Endpoint, s.principal(t, "app-1"), s.principal(t, "app-1").AccessKeySecret, "",
				"ListRoles", "2015-05-01", map[string]string{"MaxItems": "10"})
			if status != 200 || body["Roles"] == nil {
				t.Errorf("ListRoles: %d %v", status, body)
			}
			// STS: the pipeline enters app-1; the session's token travels
			// as x-acs-security-token or SecurityToken.
			pipeline := s.principal(t, "management/pipeline")
			status, body = rawCall(t, tc.sig, tc.method, tc.place, s.out.Endpoint, pipeline, pipeline.AccessKeySecret, "",
				"AssumeRole", "2015-04-01", map[string]string{"RoleArn": "acs:ram::" + s.principal(t, "app-1").AccountID + ":role/resourcedirectoryaccountaccessrole", "RoleSessionName": "raw-test"})
			creds, _ := body["Credentials"].(map[string]any)
			if status != 200 || creds == nil {
				t.Fatalf("AssumeRole: %d %v", status, body)
			}
			session := principal{AccessKeyID: creds["AccessKeyId"].(string), AccessKeySecret: creds["AccessKeySecret"].(string)}
			status, body = rawCall(t, tc.sig, tc.method, tc.place, s.out.Endpoint, session, session.AccessKeySecret, creds["SecurityToken"].(string),
				"GetCallerIdentity", "2015-04-01", nil)
			if status != 200 || !strings.Contains(fmt.Sprint(body["Arn"]), ":assumed-role/resourcedirectoryaccountaccessrole/raw-test") {
				t.Errorf("GetCallerIdentity with the session: %d %v", status, body)
			}
			// A wrong secret is refused: the signature is really checked.
			status, body = rawCall(t, tc.sig, tc.method, tc.place, s.out.Endpoint, service, service.AccessKeySecret+"x", "",
				"GetCallerIdentity", "2015-04-01", nil)
			if status != 400 || body["Code"] != "SignatureDoesNotMatch" {
				t.Errorf("wrong secret: %d %v", status, body)
			}
		})
	}

	t.Run("admin", func(t *testing.T) {
		// A role session of an hour, then two hours later.
		pipeline := s.principal(t, "management/pipeline")
		out, err := must(sts.NewClient(s.config(pipeline))).AssumeRoleWithContext(ctx, &sts.AssumeRoleRequest{
			RoleArn:         tea.String("acs:ram::" + s.principal(t, "app-1").AccountID + ":role/resourcedirectoryaccountaccessrole"),
			RoleSessionName: tea.String("admin-test"), DurationSeconds: tea.Int64(3600)}, rt)
		if err != nil {
			t.Fatal(err)
		}
		c := out.Body.Credentials
		cfg := s.config(principal{AccessKeyID: *c.AccessKeyId, AccessKeySecret: *c.AccessKeySecret})
		cfg.SecurityToken = c.SecurityToken
		session := must(kms.NewClient(cfg))
		if _, err := session.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(keyARN)}, rt); err != nil {
			t.Fatalf("DescribeKey with the session: %v", err)
		}
		var before, after adminAnswer
		admin(t, http.MethodGet, s.out.Admin+"time", http.StatusOK, &before)
		admin(t, http.MethodPost, s.out.Admin+"advance?by=2h", http.StatusOK, &after)
		if d := after.Now.Sub(before.Now); d < 2*time.Hour || d > 2*time.Hour+time.Minute {
			t.Errorf("advance moved time by %v", d)
		}
		_, err = session.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(keyARN)}, rt)
		if code := sdkCode(err); code != "InvalidSecurityToken.Expired" {
			t.Errorf("the session after two hours: %v", err)
		}

		var log adminAnswer
		admin(t, http.MethodGet, s.out.Admin+"log", http.StatusOK, &log)
		if log.Mark == 0 || len(log.Entries) != log.Mark {
			t.Fatalf("log: mark %d, %d entries", log.Mark, len(log.Entries))
		}
		last := log.Entries[len(log.Entries)-1]
		if last.Action != "DescribeKey" || last.Code != "InvalidSecurityToken.Expired" {
			t.Errorf("last entry %+v", last)
		}
		var none adminAnswer
		admin(t, http.MethodGet, fmt.Sprintf("%slog?since=%d", s.out.Admin, log.Mark), http.StatusOK, &none)
		if len(none.Entries) != 0 || none.Mark != log.Mark {
			t.Errorf("log since the mark: %+v", none)
		}
		admin(t, http.MethodGet, s.out.Admin+"advance?by=1h", http.StatusMethodNotAllowed, nil)
		admin(t, http.MethodPost, s.out.Admin+"advance?by=soon", http.StatusBadRequest, nil)
		admin(t, http.MethodGet, s.out.Admin+"nothing", http.StatusNotFound, nil)
	})

	s.stop(t)
	logged := s.stderr.String()
	for _, want := range []string{"kms:GenerateDataKey 200 - caller=" + service.ARN, "sts:GetCallerIdentity 400 SignatureDoesNotMatch caller=(unauthenticated)"} {
		if !strings.Contains(logged, want) {
			t.Errorf("-log output lacks %q:\n%s", want, logged)
		}
	}
	for _, p := range s.out.Principals {
		if strings.Contains(logged, p.AccessKeySecret) {
			t.Errorf("-log output holds %s's secret", p.Name)
		}
	}
}

type adminAnswer struct {
	Now     time.Time `json:"now"`
	Mark    int       `json:"mark"`
	Entries []struct {
		Seq    int
		Action string
		Code   string
	} `json:"entries"`
}

func admin(t *testing.T, method, u string, want int, into any) {
	t.Helper()
	req := must(http.NewRequest(method, u, nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, u, resp.StatusCode, body, want)
	}
	if into != nil {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatal(err)
		}
	}
}

// rawCall sends one signed request and decodes the JSON answer.
func rawCall(t *testing.T, sig, method, place, endpoint string, p principal, secret, token, action, version string, params map[string]string) (int, map[string]any) {
	t.Helper()
	req := signed(t, sig, method, place, endpoint, p.AccessKeyID, secret, token, action, version, params)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return resp.StatusCode, body
}

// percent is RFC 3986 encoding, as Alibaba's signature documentation
// specifies it.
func percent(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// canonical is "k=v&…" sorted by key, both percent-encoded.
func canonical(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = percent(k) + "=" + percent(params[k])
	}
	return strings.Join(parts, "&")
}

func nonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// signed builds a request signed as Alibaba documents it, written from the
// documentation rather than from the emulator's code:
//
//   - ACS3-HMAC-SHA256 (the V3 signature): action and version in x-acs-*
//     headers; the parameters in the query ("query") or in a form body
//     ("form"), the body covered by x-acs-content-sha256;
//   - HMAC-SHA1 (the RPC V2 signature): Action, Version and the signature
//     parameters in the query; the operation's parameters there too
//     ("query") or in a form body ("form"), signed together; or every
//     parameter, Signature included, in the form body ("form-all").
func signed(t *testing.T, sig, method, place, endpoint, keyID, secret, token, action, version string, params map[string]string) *http.Request {
	t.Helper()
	query, form := map[string]string{}, map[string]string{}
	target := query
	if place == "form" || place == "form-all" {
		target = form
	}
	for k, v := range params {
		target[k] = v
	}
	var body string
	if len(form) > 0 {
		body = canonical(form)
	}
	now := time.Now().UTC()
	headers := map[string]string{}
	switch sig {
	case "ACS3-HMAC-SHA256":
		sum := sha256.Sum256([]byte(body))
		headers["host"] = endpoint
		headers["x-acs-action"] = action
		headers["x-acs-version"] = version
		headers["x-acs-date"] = now.Format("2006-01-02T15:04:05Z")
		headers["x-acs-signature-nonce"] = nonce()
		headers["x-acs-content-sha256"] = hex.EncodeToString(sum[:])
		if token != "" {
			headers["x-acs-security-token"] = token
		}
		if body != "" {
			headers["content-type"] = "application/x-www-form-urlencoded"
		}
		names := make([]string, 0, len(headers))
		for k := range headers {
			names = append(names, k)
		}
		sort.Strings(names)
		var canon strings.Builder
		canon.WriteString(method + "\n/\n" + canonical(query) + "\n")
		for _, k := range names {
			canon.WriteString(k + ":" + strings.TrimSpace(headers[k]) + "\n")
		}
		canon.WriteString("\n" + strings.Join(names, ";") + "\n" + headers["x-acs-content-sha256"])
		h := sha256.Sum256([]byte(canon.String()))
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte("ACS3-HMAC-SHA256\n" + hex.EncodeToString(h[:])))
		headers["authorization"] = fmt.Sprintf("ACS3-HMAC-SHA256 Credential=%s,SignedHeaders=%s,Signature=%s",
			keyID, strings.Join(names, ";"), hex.EncodeToString(mac.Sum(nil)))
	case "HMAC-SHA1":
		for k, v := range map[string]string{"Action": action, "Version": version, "Format": "JSON", "AccessKeyId": keyID,
			"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": nonce(),
			"Timestamp": now.Format("2006-01-02T15:04:05Z"), "RegionId": region} {
			query[k] = v
		}
		if token != "" {
			query["SecurityToken"] = token
		}
		all := map[string]string{}
		for _, m := range []map[string]string{query, form} {
			for k, v := range m {
				all[k] = v
			}
		}
		mac := hmac.New(sha1.New, []byte(secret+"&"))
		mac.Write([]byte(method + "&" + percent("/") + "&" + percent(canonical(all))))
		query["Signature"] = base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if place == "form-all" {
			for k, v := range query {
				form[k] = v
			}
			query = map[string]string{}
			body = canonical(form)
		}
		if body != "" {
			headers["content-type"] = "application/x-www-form-urlencoded"
		}
	default:
		t.Fatalf("signature %q", sig)
	}
	req := must(http.NewRequest(method, "http://"+endpoint+"/?"+canonical(query), strings.NewReader(body)))
	if body == "" {
		req.Body = http.NoBody
	}
	for k, v := range headers {
		if k != "host" {
			req.Header.Set(k, v)
		}
	}
	return req
}

// TestCommand starts the command as its own process with a world file,
// uses it, and stops it with SIGTERM.
func TestCommand(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-world", "world.json")
	cmd.Env = append(os.Environ(), "FAKECLOUD_TEST_MAIN=1")
	stdout := must(cmd.StdoutPipe())
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out output
	if err := json.NewDecoder(stdout).Decode(&out); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("output: %v\n%s", err, stderr.String())
	}
	s := &server{out: out}
	who, err := must(sts.NewClient(s.config(s.principal(t, "security/admin")))).GetCallerIdentity()
	if err != nil || *who.Body.AccountId != "1234567890123456" {
		t.Errorf("GetCallerIdentity: %v %v", who, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "fakecloud: stopped") {
		t.Errorf("no clean stop:\n%s", stderr.String())
	}
}

// TestEnv prints export lines whose credentials work.
func TestEnv(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-env"}, pw, io.Discard)
		pw.Close()
		done <- err
	}()
	vars := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if !ok || !strings.HasPrefix(sc.Text(), "export ") {
			t.Fatalf("line %q", sc.Text())
		}
		vars[k] = v
		if k == "FAKECLOUD_APP_2_ACCESS_KEY_SECRET" { // the last root; users follow
			break
		}
	}
	go io.Copy(io.Discard, pr)
	for _, k := range []string{"FAKECLOUD_ENDPOINT", "FAKECLOUD_ENDPOINT_CN_HANGZHOU", "FAKECLOUD_KEY_SECURITY_APP_DATA", "FAKECLOUD_ADMIN", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_REGION_ID"} {
		if vars[k] == "" {
			t.Errorf("%s not exported: %v", k, vars)
		}
	}
	s := &server{out: output{Endpoint: vars["FAKECLOUD_ENDPOINT"]}}
	who, err := must(sts.NewClient(s.config(principal{AccessKeyID: vars["ALIBABA_CLOUD_ACCESS_KEY_ID"], AccessKeySecret: vars["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]}))).GetCallerIdentity()
	if err != nil || *who.Body.Arn != "acs:ram::"+*who.Body.AccountId+":root" || vars["FAKECLOUD_MANAGEMENT_ACCESS_KEY_ID"] != vars["ALIBABA_CLOUD_ACCESS_KEY_ID"] {
		t.Errorf("GetCallerIdentity with the exported key: %v %v", who, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// TestBadWorld: a world file with a mistake stops the command before it
// listens, with a message naming the place.
func TestBadWorld(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, want string
	}{
		{"unknown field", "{\"accounts\": [\n  {\"name\": \"a\", \"user\": []}\n]}\n", ":2:17: accounts[0].user: unknown field"},
		{"duplicate name", "{\"accounts\": [{\"name\": \"a\"},\n  {\"name\": \"a\"}\n]}\n", ":2:12: accounts[1].name: duplicate account name"},
		{"masked ID", "{\"accounts\": [\n  {\"name\": \"a\", \"id\": \"119285303511****\"}\n]}\n", ":2:23: accounts[0].id: arn: invalid account"},
		{"policy that does not parse", "{\"accounts\": [{\"name\": \"a\", \"policies\": [\n  {\"name\": \"p\", \"document\": {\"Version\": \"1\"}}\n]}]}\n",
			":2:29: accounts[0].policies[0].document: permission policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			// Port 1 cannot be listened on: getting past the world file
			// would fail differently.
			err := run(context.Background(), []string{"-world", path, "-port", "1"}, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), path+tc.want) {
				t.Errorf("run: %v, want %q", err, path+tc.want)
			}
			if stdout.Len() != 0 || stderr.Len() != 0 {
				t.Errorf("printed %q and %q", stdout.String(), stderr.String())
			}
		})
	}
}
