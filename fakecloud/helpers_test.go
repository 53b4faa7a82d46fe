package fakecloud

import (
	"context"
	"errors"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

const region = "cn-hangzhou"

var (
	time0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rt    = &dara.RuntimeOptions{} // never nil: XxxWithContext panics on a nil runtime
)

// must unwraps a set-up result. Set-up only fails on a mistake in the
// test itself, so it panics rather than threading t everywhere.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// world is the Landing Zone of workflow W1: a management account with a
// Resource Directory, application members in an "apps" folder, and a
// Security member holding a KMS instance with one key.
type world struct {
	c        *Cloud
	clock    *ManualClock
	mgmt     *Account
	rd       *ResourceDirectory
	apps     *Folder
	app1     *Account
	app2     *Account
	sec      *Account
	inst     *Instance
	key      *Key
	pipeline *User // management account, AdministratorAccess
	secAdmin *User // security account, AdministratorAccess
}

func newWorld(t testing.TB, opts Options) *world {
	t.Helper()
	w := &world{clock: NewManualClock(time0)}
	if opts.Clock == nil {
		opts.Clock = w.clock
	}
	w.c = New(opts)
	w.mgmt = w.c.NewAccount("management")
	w.rd = must(w.c.NewResourceDirectory(w.mgmt))
	w.apps = w.rd.Root().NewFolder("apps")
	w.app1 = w.apps.NewMember("app-1")
	w.app2 = w.apps.NewMember("app-2")
	w.sec = w.rd.Root().NewMember("security")
	w.inst = w.sec.NewKMSInstance(region, InstanceOptions{Quota: 10})
	w.key = must(w.inst.NewKey(KeyOptions{Description: "shared", Alias: "alias/shared"}))
	w.pipeline = must(w.mgmt.NewUser("pipeline", "AdministratorAccess"))
	w.secAdmin = must(w.sec.NewUser("admin", "AdministratorAccess"))
	return w
}

// transport names a way of reaching the emulator.
type transport string

const (
	inProc   transport = "inproc"
	overHTTP transport = "http"
)

var transports = []transport{inProc, overHTTP}

// configFor returns a config function for the transport; HTTP servers are
// closed when the test ends.
func configFor(t testing.TB, c *Cloud, tr transport) func(Credentials) *openapi.Config {
	if tr == inProc {
		return func(cr Credentials) *openapi.Config { return c.Config(cr, region) }
	}
	srv := c.Serve()
	t.Cleanup(srv.Close)
	return func(cr Credentials) *openapi.Config { return srv.Config(cr, region) }
}

type clients struct {
	kms *kms.Client
	ram *ram.Client
	sts *sts.Client
}

func newClients(t testing.TB, cfg *openapi.Config) clients {
	t.Helper()
	return clients{kms: must(kms.NewClient(cfg)), ram: must(ram.NewClient(cfg)), sts: must(sts.NewClient(cfg))}
}

// errCode returns the service error code of an SDK error, or "".
func errCode(err error) string {
	var e *tea.SDKError
	if errors.As(err, &e) {
		return tea.StringValue(e.Code)
	}
	return ""
}

func errStatus(err error) int {
	var e *tea.SDKError
	if errors.As(err, &e) {
		return tea.IntValue(e.StatusCode)
	}
	return 0
}

// wantCode fails the test unless err carries code (or is nil for "").
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code || (code == "" && err != nil) {
		t.Fatalf("got error %v, want code %q", err, code)
	}
}

// assumeRole assumes roleARN with creds through the real STS client.
func assumeRole(t testing.TB, cfg func(Credentials) *openapi.Config, creds Credentials, roleARN, session string) Credentials {
	t.Helper()
	sc := must(sts.NewClient(cfg(creds)))
	out, err := sc.AssumeRoleWithContext(context.Background(), &sts.AssumeRoleRequest{
		RoleArn: tea.String(roleARN), RoleSessionName: tea.String(session)}, rt)
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", roleARN, err)
	}
	c := out.Body.Credentials
	return NewCredentials(tea.StringValue(c.AccessKeyId), tea.StringValue(c.AccessKeySecret), tea.StringValue(c.SecurityToken))
}

func ctxb() context.Context { return context.Background() }
