package fakecloud

import (
	"context"
	"errors"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

// TestChosenIDs: accounts and keys created with caller-chosen IDs work
// through the SDK exactly like generated ones, and bad or taken IDs are
// refused with an error.
func TestChosenIDs(t *testing.T) {
	t.Parallel()
	const owner, member = "1111111111111111", "2222222222222222"
	c := New(Options{Clock: NewManualClock(time0), Seed: 3})
	sec, err := c.NewAccountWithID(owner, "security")
	if err != nil {
		t.Fatal(err)
	}
	app, err := c.NewAccountWithID(member, "app")
	if err != nil {
		t.Fatal(err)
	}
	mgmt := c.NewAccount("management")
	rd := must(c.NewResourceDirectory(mgmt))
	for _, a := range []*Account{sec, app} {
		if err := rd.Root().AddMember(a); err != nil {
			t.Fatal(err)
		}
	}
	inst := sec.NewKMSInstance(region, InstanceOptions{Quota: 5})
	key, err := inst.NewKeyWithID("key-hzz6801a1b2c3d4e5f6g7", KeyOptions{Alias: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	if want := arn.KMSKey(region, owner, "key-hzz6801a1b2c3d4e5f6g7").String(); key.ARN != want {
		t.Errorf("key ARN %s, want %s", key.ARN, want)
	}
	if got := c.Account(owner); got == nil || got.Name != "security" {
		t.Errorf("Account(%s) = %+v", owner, got)
	}
	if got := sec.Key(key.ID); got == nil || got.Instance == nil || got.Instance.ID != inst.ID {
		t.Errorf("Key(%s) = %+v", key.ID, got)
	}

	// The chosen IDs are what the wire protocol sees.
	ctx := context.Background()
	root := newClients(t, c.Config(sec.RootCredentials(), region))
	who, err := root.sts.GetCallerIdentity()
	if err != nil || tea.StringValue(who.Body.AccountId) != owner {
		t.Fatalf("GetCallerIdentity of the chosen account: %v, %v", who, err)
	}
	for _, ref := range []string{key.ID, key.ARN, "alias/shared"} {
		out, err := root.kms.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(ref)}, rt)
		if err != nil || tea.StringValue(out.Body.KeyMetadata.KeyId) != key.ID || tea.StringValue(out.Body.KeyMetadata.Arn) != key.ARN {
			t.Errorf("DescribeKey(%s) = %v, %v", ref, out, err)
		}
	}
	// The member joined the directory with its access role; the pipeline
	// reaches it, and the member uses the key once the key policy names it.
	pipeline := must(mgmt.NewUser("pipeline", "AdministratorAccess"))
	cfg := configFor(t, c, inProc)
	sess := assumeRole(t, cfg, pipeline.Credentials(), arn.ResourceDirectoryAccessRole(member).String(), "check")
	appKMS := newClients(t, cfg(sess)).kms
	gen := func() error {
		_, err := appKMS.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{KeyId: tea.String(key.ARN)}, rt)
		return err
	}
	wantCode(t, gen(), "Forbidden.NoPermission")
	doc := `{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:*"]},"Resource":["*"]},` +
		`{"Action":["kms:GenerateDataKey"],"Effect":"Allow","Principal":{"RAM":["` + arn.ResourceDirectoryAccessRole(member).String() + `"]},"Resource":["*"]}],"Version":"1"}`
	if _, err := root.kms.SetKeyPolicyWithContext(ctx, &kms.SetKeyPolicyRequest{KeyId: tea.String(key.ID), PolicyName: tea.String("default"), Policy: tea.String(doc)}, rt); err != nil {
		t.Fatal(err)
	}
	wantCode(t, gen(), "")
	if inst.QuotaUsed() != 1 {
		t.Errorf("quota used %d, want 1", inst.QuotaUsed())
	}

	foreign := &Instance{ID: "kst-hzzmadebyhand"} // a handle that belongs to no cloud
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"taken account", func() error { _, err := c.NewAccountWithID(owner, "again"); return err }()},
		{"masked account", func() error { _, err := c.NewAccountWithID("111111111111****", "x"); return err }()},
		{"empty account", func() error { _, err := c.NewAccountWithID("", "x"); return err }()},
		{"letters in account", func() error { _, err := c.NewAccountWithID("12345678abcdefgh", "x"); return err }()},
		{"taken key", func() error { _, err := inst.NewKeyWithID(key.ID, KeyOptions{}); return err }()},
		{"empty key", func() error { _, err := inst.NewKeyWithID("", KeyOptions{}); return err }()},
		{"key with slash", func() error { _, err := inst.NewKeyWithID("key/x", KeyOptions{}); return err }()},
		{"bad key spec", func() error { _, err := inst.NewKeyWithID("key-x", KeyOptions{Spec: "NOPE"}); return err }()},
		{"foreign instance", func() error { _, err := foreign.NewKeyWithID("key-y", KeyOptions{}); return err }()},
	} {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if sec.Key("key-x") != nil {
		t.Error("a refused key was created")
	}
	if n := c.NewAccount("later"); n.ID == owner || n.ID == member {
		t.Errorf("a generated UID collides with a chosen one: %s", n.ID)
	}
}

// TestClockSleep: a manual clock's Sleep advances it at once; a scaled
// clock's Sleep waits the scaled-down real time; both honour the context.
func TestClockSleep(t *testing.T) {
	t.Parallel()
	m := NewManualClock(time0)
	if err := m.Sleep(context.Background(), 90*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := m.Now().Sub(time0); got != 90*time.Second {
		t.Errorf("manual clock moved %v, want 90s", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with a cancelled context: %v", err)
	}
	if got := m.Now().Sub(time0); got != 90*time.Second {
		t.Errorf("a cancelled Sleep moved the clock to +%v", got)
	}

	s := NewScaledClock(time0, 1e6) // an hour of emulator time is 3.6 ms of real time
	start := time.Now()
	if err := s.Sleep(context.Background(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if real := time.Since(start); real < 3600*time.Microsecond {
		t.Errorf("scaled Sleep(1h) at 1e6× returned after %v of real time", real)
	}
	if got := s.Now().Sub(time0); got < time.Hour {
		t.Errorf("after Sleep(1h) the scaled clock moved only %v", got)
	}
	if err := NewScaledClock(time0, 1).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("scaled Sleep with a cancelled context: %v", err)
	}
}
