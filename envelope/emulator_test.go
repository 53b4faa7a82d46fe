package envelope_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/policy"
)

// world is an emulated Alibaba Cloud for the examples and the end-to-end
// tests: the Security account owns mainKey (cn-hangzhou) and drKey
// (cn-shanghai); the recipient account owns recipientKey and lets the
// Security account's "app" user encrypt data keys to it.
type world struct {
	cloud         *fakecloud.Cloud
	clock         *fakecloud.ManualClock
	security      *fakecloud.Account
	recipient     *fakecloud.Account
	app           fakecloud.Credentials // RAM user "app" of the Security account
	recipientRoot fakecloud.Credentials
	main          *fakecloud.Key
}

func newWorld() (*world, error) {
	w := &world{clock: fakecloud.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))}
	w.cloud = fakecloud.New(fakecloud.Options{Clock: w.clock, Seed: 11})
	var err error
	if w.security, err = w.cloud.NewAccountWithID("1192853035118460", "security"); err != nil {
		return nil, err
	}
	if w.recipient, err = w.cloud.NewAccountWithID("2208745523640391", "recipient"); err != nil {
		return nil, err
	}
	inst := func(a *fakecloud.Account, region, id string) (*fakecloud.Key, error) {
		return a.NewKMSInstance(region, fakecloud.InstanceOptions{Quota: 5}).NewKeyWithID(id, fakecloud.KeyOptions{})
	}
	if w.main, err = inst(w.security, "cn-hangzhou", arn.MustParse(mainKey).ResourceName()); err != nil {
		return nil, err
	}
	if _, err = inst(w.security, "cn-shanghai", arn.MustParse(drKey).ResourceName()); err != nil {
		return nil, err
	}
	if _, err = inst(w.recipient, "cn-hangzhou", arn.MustParse(recipientKey).ResourceName()); err != nil {
		return nil, err
	}
	app, err := w.security.NewUser("app", "AliyunKMSFullAccess")
	if err != nil {
		return nil, err
	}
	w.app, w.recipientRoot = app.Credentials(), w.recipient.RootCredentials()
	// The recipient grants the Security account's app user Encrypt on its key.
	def, err := policy.DefaultKeyPolicy(w.recipient.ID)
	if err != nil {
		return nil, err
	}
	doc, err := policy.SetCrossAccountUsers(def, w.recipient.ID, []string{"kms:Encrypt"}, arn.RAMUser(w.security.ID, "app"))
	if err != nil {
		return nil, err
	}
	client, err := kms.NewClient(w.cloud.Config(w.recipientRoot, "cn-hangzhou"))
	if err != nil {
		return nil, err
	}
	_, err = client.SetKeyPolicyWithContext(context.Background(), &kms.SetKeyPolicyRequest{
		KeyId: tea.String(recipientKey), Policy: tea.String(doc.String()), PolicyName: tea.String("default")}, &dara.RuntimeOptions{})
	return w, err
}

// kms returns a key service acting with creds in region, through the real
// KMS SDK client and the emulator's in-process transport.
func (w *world) kms(creds fakecloud.Credentials, region string) *envelope.KMS {
	client, err := kms.NewClient(w.cloud.Config(creds, region))
	if err != nil {
		panic(err) // kms.NewClient fails only on a missing config
	}
	return envelope.NewKMS(client)
}

// calls counts successful requests of an action in the emulator's log.
func (w *world) calls(action string) int {
	return len(w.cloud.Log().Entries(fakecloud.Match{Action: action, Status: 200}))
}

func testWorld(t *testing.T) *world {
	t.Helper()
	w, err := newWorld()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestKMSEndToEnd: one-shot and streaming messages through the real KMS SDK
// client and the emulator, over both transports; the data key is bound to
// the encryption context on the KMS side too.
func TestKMSEndToEnd(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	srv := w.cloud.Serve()
	defer srv.Close()
	httpClient, err := kms.NewClient(srv.Config(w.app, "cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []struct {
		name string
		svc  *envelope.KMS
	}{{"in-process", w.kms(w.app, "cn-hangzhou")}, {"http", envelope.NewKMS(httpClient)}} {
		t.Run(tr.name, func(t *testing.T) {
			ctx := context.Background()
			key := envelope.MasterKey{ARN: mainKey, Service: tr.svc}
			encCtx := map[string]string{"tenant": "acme"}
			enc := &envelope.Encryptor{Keys: []envelope.MasterKey{key}, SegmentSize: 4096}
			dec := &envelope.Decryptor{Keys: []envelope.MasterKey{key}}
			data := bytes.Repeat([]byte("0123456789abcdef"), 5000)

			msg, err := enc.Encrypt(ctx, data, encCtx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := dec.Decrypt(ctx, msg, encCtx)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("one-shot: %v", err)
			}
			var buf bytes.Buffer
			wr, err := enc.NewWriter(ctx, &buf, encCtx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(wr, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if err := wr.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := dec.NewReader(ctx, &buf, encCtx)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("streaming: %v", err)
			}
			// KMS refuses to release the data key for another context: the
			// emulator checks it as KMS does, independently of the header tag.
			edk := firstEDK(t, msg)
			var api *envelope.APIError
			if _, err := tr.svc.Decrypt(ctx, mainKey, edk, map[string]string{"tenant": "other"}); !errors.As(err, &api) || api.Code != "InvalidParameter" {
				t.Errorf("KMS Decrypt with another context: %v", err)
			}
		})
	}
}

// TestKMSRoundTrips is item 10: exactly one GenerateDataKey per message
// without a cache; with a cache, one per cache entry lifetime, counted in
// the emulator's request log.
func TestKMSRoundTrips(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	ctx := context.Background()
	svc := w.kms(w.app, "cn-hangzhou")
	plain := &envelope.Encryptor{Keys: []envelope.MasterKey{{ARN: mainKey, Service: svc}}}
	before := w.calls("GenerateDataKey")
	for i := 0; i < 7; i++ {
		if _, err := plain.Encrypt(ctx, []byte(fmt.Sprint("message ", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.calls("GenerateDataKey") - before; n != 7 {
		t.Errorf("without a cache: %d GenerateDataKey calls for 7 messages, want 7", n)
	}

	now := w.clock.Now()
	cache, err := envelope.NewCache(time.Minute, func(o *envelope.CacheOptions) {
		o.MaxMessages = 4
		o.Now = func() time.Time { return now }
	})
	if err != nil {
		t.Fatal(err)
	}
	cached := &envelope.Encryptor{Keys: []envelope.MasterKey{{ARN: mainKey, Service: svc}}, Cache: cache}
	before = w.calls("GenerateDataKey")
	for i := 0; i < 10; i++ { // 10 messages, 4 per data key: 3 entries
		if _, err := cached.Encrypt(ctx, []byte(fmt.Sprint("event ", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.calls("GenerateDataKey") - before; n != 3 {
		t.Errorf("with a cache of 4 messages per key: %d GenerateDataKey calls for 10 messages, want 3", n)
	}
	now = now.Add(2 * time.Minute) // the entry has aged out
	before = w.calls("GenerateDataKey")
	if _, err := cached.Encrypt(ctx, []byte("late"), nil); err != nil {
		t.Fatal(err)
	}
	if n := w.calls("GenerateDataKey") - before; n != 1 {
		t.Errorf("after the cache entry's age: %d GenerateDataKey calls, want 1", n)
	}
	// Decrypting makes one Decrypt per message.
	msg, _ := plain.Encrypt(ctx, []byte("x"), nil)
	before = w.calls("Decrypt")
	if _, err := (&envelope.Decryptor{Keys: []envelope.MasterKey{{ARN: mainKey, Service: svc}}}).Decrypt(ctx, msg, nil); err != nil {
		t.Fatal(err)
	}
	if n := w.calls("Decrypt") - before; n != 1 {
		t.Errorf("%d Decrypt calls for one message", n)
	}
}

// TestKMSCrossAccountAndRegions: a message under the Security account's key,
// its copy in another region and a key the recipient owns; each decrypts
// with its own credentials, and the KMS refusals are typed.
func TestKMSCrossAccountAndRegions(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	ctx := context.Background()
	hz, sh := w.kms(w.app, "cn-hangzhou"), w.kms(w.app, "cn-shanghai")
	enc := &envelope.Encryptor{Keys: []envelope.MasterKey{{ARN: mainKey, Service: hz}, {ARN: drKey, Service: sh}, {ARN: recipientKey, Service: hz}}}
	msg, err := enc.Encrypt(ctx, []byte("report"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := w.calls("GenerateDataKey") + w.calls("Encrypt"); n != 3 {
		t.Errorf("%d KMS calls to encrypt under three keys, want 1 GenerateDataKey + 2 Encrypt", n)
	}
	rcpt := &envelope.Decryptor{Keys: []envelope.MasterKey{{ARN: recipientKey, Service: w.kms(w.recipientRoot, "cn-hangzhou")}}}
	if pt, err := rcpt.Decrypt(ctx, msg, nil); err != nil || string(pt) != "report" {
		t.Fatalf("recipient: %q %v", pt, err)
	}
	// The recipient may not decrypt under the Security account's key: KMS
	// refuses, and the error says which key and why.
	wrong := &envelope.Decryptor{Keys: []envelope.MasterKey{{ARN: mainKey, Service: w.kms(w.recipientRoot, "cn-hangzhou")}}}
	_, err = wrong.Decrypt(ctx, msg, nil)
	var nk *envelope.NoKeyError
	if !errors.As(err, &nk) || !errors.Is(err, envelope.ErrNoKey) || !errors.Is(err, envelope.ErrAccessDenied) {
		t.Errorf("recipient with the Security key: %v", err)
	}
	var api *envelope.APIError
	if !errors.As(err, &api) || api.Code != "Forbidden.NoPermission" || api.RequestID == "" {
		t.Errorf("API error %+v", api)
	}
	// A disabled key is a key-state error, not a failure to authenticate.
	disable(t, w, mainKey)
	dec := &envelope.Decryptor{Keys: []envelope.MasterKey{{ARN: mainKey, Service: hz}}}
	if _, err := dec.Decrypt(ctx, msg, nil); !errors.Is(err, envelope.ErrKeyState) {
		t.Errorf("disabled key: %v", err)
	}
	if _, err := enc.Encrypt(ctx, []byte("more"), nil); !errors.Is(err, envelope.ErrKeyState) {
		t.Errorf("encrypting under a disabled key: %v", err)
	}
}

// TestKMSErrorsHoldNoSecrets: a refused KMS call's error names the key and
// the code, never the data key.
func TestKMSErrorsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	ctx := context.Background()
	dataKey := bytes.Repeat([]byte{0x42}, 32)
	outsider := w.cloud.NewAccount("outsider")
	svc := w.kms(outsider.RootCredentials(), "cn-hangzhou")
	_, err := svc.Encrypt(ctx, mainKey, dataKey, nil)
	if err == nil {
		t.Fatal("an outsider encrypted under the Security key")
	}
	for _, leak := range []string{"QkJCQkJC", string(dataKey)} { // base64 and raw
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error shows the data key: %v", err)
		}
	}
}

// firstEDK returns the first encrypted data key of a message.
func firstEDK(t *testing.T, msg []byte) []byte {
	t.Helper()
	h, _, err := format.ParseBytes(msg, 16)
	if err != nil || len(h.Keys) == 0 {
		t.Fatalf("header: %v", err)
	}
	return h.Keys[0].Blob
}

func disable(t *testing.T, w *world, key string) {
	t.Helper()
	client, err := kms.NewClient(w.cloud.Config(w.security.RootCredentials(), "cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.DisableKeyWithContext(context.Background(), &kms.DisableKeyRequest{KeyId: tea.String(key)}, &dara.RuntimeOptions{}); err != nil {
		t.Fatal(err)
	}
}

// relabel encrypts under its real key while the message names another ARN.
type relabel struct {
	envelope.KeyService
	real string
}

func (r relabel) GenerateDataKey(ctx context.Context, _ string, c map[string]string) ([]byte, []byte, error) {
	return r.KeyService.GenerateDataKey(ctx, r.real, c)
}

// TestDiscoveryRefusesImpostorAccount: KMS Decrypt names the key it used
// only by its bare ID, so an attacker's key whose ID is the same as a trusted
// account's key would pass the KeyId check. An attacker who shares a key
// with the reader makes a message under it but names it as a key of the
// trusted Security account. Discovery must resolve the ARN first and refuse.
func TestDiscoveryRefusesImpostorAccount(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	ctx := context.Background()
	mallory, err := w.cloud.NewAccountWithID("3318745523640399", "mallory")
	if err != nil {
		t.Fatal(err)
	}
	kid := "key-hzzmallory0000000000"
	if _, err := mallory.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 5}).NewKeyWithID(kid, fakecloud.KeyOptions{}); err != nil {
		t.Fatal(err)
	}
	realARN := arn.KMSKey("cn-hangzhou", mallory.ID, kid).String()
	reader, err := w.recipient.NewUser("reader", "AliyunKMSFullAccess")
	if err != nil {
		t.Fatal(err)
	}
	// Mallory lets the reader use her key, as a key owner sharing it would.
	def, err := policy.DefaultKeyPolicy(mallory.ID)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policy.SetCrossAccountUsers(def, mallory.ID, policy.KeyUserActions(), arn.RAMUser(w.recipient.ID, "reader"))
	if err != nil {
		t.Fatal(err)
	}
	mc, err := kms.NewClient(w.cloud.Config(mallory.RootCredentials(), "cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.SetKeyPolicyWithContext(ctx, &kms.SetKeyPolicyRequest{
		KeyId: tea.String(realARN), Policy: tea.String(doc.String()), PolicyName: tea.String("default")}, &dara.RuntimeOptions{}); err != nil {
		t.Fatal(err)
	}
	forged := arn.KMSKey("cn-hangzhou", w.security.ID, kid).String()
	enc := &envelope.Encryptor{Keys: []envelope.MasterKey{{ARN: forged,
		Service: relabel{w.kms(mallory.RootCredentials(), "cn-hangzhou"), realARN}}}}
	msg, err := enc.Encrypt(ctx, []byte("wire the money to mallory"), nil)
	if err != nil {
		t.Fatal(err)
	}
	readerKMS := w.kms(reader.Credentials(), "cn-hangzhou")
	trusting := &envelope.Decryptor{Discovery: []envelope.Discovery{{
		Service: readerKMS, Region: "cn-hangzhou", Accounts: []string{w.security.ID}}}}
	before := w.calls("Decrypt")
	got, err := trusting.Decrypt(ctx, msg, nil)
	if err == nil {
		t.Fatalf("message under %s accepted as from the Security account: %q", realARN, got)
	}
	if !errors.Is(err, envelope.ErrNoKey) {
		t.Errorf("err = %v, want ErrNoKey", err)
	}
	if n := w.calls("Decrypt") - before; n != 0 {
		t.Errorf("%d Decrypt calls for a key that is not where the message says", n)
	}
	// The same reader trusting Mallory's account, with the honest ARN, reads
	// her messages: the check refuses the lie, not cross-account keys.
	honest := &envelope.Encryptor{Keys: []envelope.MasterKey{{ARN: realARN, Service: w.kms(mallory.RootCredentials(), "cn-hangzhou")}}}
	msg, err = honest.Encrypt(ctx, []byte("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	dec := &envelope.Decryptor{Discovery: []envelope.Discovery{{Service: readerKMS, Region: "cn-hangzhou", Accounts: []string{mallory.ID}}}}
	if got, err := dec.Decrypt(ctx, msg, nil); err != nil || string(got) != "hello" {
		t.Errorf("honest cross-account message: %q, %v", got, err)
	}
}

// TestKMSDecryptCache: messages that share a data key (made with an
// encrypting cache) cost at most one KMS Decrypt between them when the
// Decryptor has a Cache, counted in the emulator's request log through the
// real KMS SDK client; one-shot and streaming alike. Without the cache each
// message costs one.
func TestKMSDecryptCache(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	ctx := context.Background()
	svc := w.kms(w.app, "cn-hangzhou")
	key := envelope.MasterKey{ARN: mainKey, Service: svc}
	encCache, err := envelope.NewCache(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	enc := &envelope.Encryptor{Keys: []envelope.MasterKey{key}, Cache: encCache}
	encCtx := map[string]string{"tenant": "acme"}
	const n = 25
	var msgs [][]byte
	for i := range n {
		msg, err := enc.Encrypt(ctx, []byte(fmt.Sprint("event ", i)), encCtx)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, msg)
	}
	now := w.clock.Now()
	decCache, err := envelope.NewCache(time.Minute, func(o *envelope.CacheOptions) { o.Now = func() time.Time { return now } })
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		cache *envelope.Cache
		want  int
	}{{"no cache", nil, n}, {"cache", decCache, 1}} {
		dec := &envelope.Decryptor{Keys: []envelope.MasterKey{key}, Cache: tt.cache}
		before := w.calls("Decrypt")
		for i, msg := range msgs {
			var got []byte
			if i%2 == 0 {
				got, err = dec.Decrypt(ctx, msg, encCtx)
			} else {
				var r io.Reader
				if r, err = dec.NewReader(ctx, bytes.NewReader(msg), encCtx); err == nil {
					got, err = io.ReadAll(r)
				}
			}
			if err != nil || string(got) != fmt.Sprint("event ", i) {
				t.Fatalf("%s: message %d: %q, %v", tt.name, i, got, err)
			}
		}
		if got := w.calls("Decrypt") - before; got != tt.want {
			t.Errorf("%s: %d KMS Decrypt calls for %d messages sharing a data key, want %d", tt.name, got, n, tt.want)
		}
	}
	// Past the entry's age the next message asks KMS again.
	now = now.Add(2 * time.Minute)
	before := w.calls("Decrypt")
	dec := &envelope.Decryptor{Keys: []envelope.MasterKey{key}, Cache: decCache}
	if _, err := dec.Decrypt(ctx, msgs[0], encCtx); err != nil {
		t.Fatal(err)
	}
	if got := w.calls("Decrypt") - before; got != 1 {
		t.Errorf("after the entry's age: %d KMS Decrypt calls, want 1", got)
	}
}
