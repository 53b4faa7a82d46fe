package envelope_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kmsshare/kmsshare/envelope"
)

// The Security account's key, its copy in a second region, and a key the
// recipient account owns.
const (
	mainKey      = "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"
	drKey        = "acs:kms:cn-shanghai:1192853035118460:key/key-shz0011223344556677889"
	recipientKey = "acs:kms:cn-hangzhou:2208745523640391:key/key-hzzrecipient00000000"
)

// exampleCloud returns an emulated Alibaba Cloud (fakecloud) that the real KMS
// SDK client talks to, in process: the Security account owns mainKey and
// its disaster-recovery copy drKey, the recipient account owns recipientKey
// and lets the Security account's "app" user encrypt data keys to it. In a
// program the key service is
//
//	client, err := kms.NewClient(&openapi.Config{
//		RegionId:   tea.String("cn-hangzhou"),
//		Credential: cred, // e.g. from credentials-go
//	})
//	svc := envelope.NewKMS(client)
//
// with one client per region.
func exampleCloud() *world {
	w, err := newWorld()
	if err != nil {
		log.Fatal(err) // a mistake in the example's own set-up
	}
	return w
}

// Encrypt and decrypt a message in memory.
func ExampleEncryptor_Encrypt() {
	ctx := context.Background()
	cloud := exampleCloud()
	key := envelope.MasterKey{ARN: mainKey, Service: cloud.kms(cloud.app, "cn-hangzhou")}
	encCtx := map[string]string{"tenant": "acme", "purpose": "invoice"}

	enc := &envelope.Encryptor{Keys: []envelope.MasterKey{key}}
	msg, err := enc.Encrypt(ctx, []byte("invoice #42: 1000 CNY"), encCtx)
	if err != nil {
		log.Fatal(err)
	}

	dec := &envelope.Decryptor{Keys: []envelope.MasterKey{key}}
	plaintext, err := dec.Decrypt(ctx, msg, encCtx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(plaintext))

	// A different context is refused before KMS is even asked.
	_, err = dec.Decrypt(ctx, msg, map[string]string{"tenant": "other", "purpose": "invoice"})
	fmt.Println(errors.Is(err, envelope.ErrNotAuthentic))
	// Output:
	// invoice #42: 1000 CNY
	// true
}

// Stream a file through encryption and back, in constant memory.
func ExampleEncryptor_NewWriter() {
	ctx := context.Background()
	cloud := exampleCloud()
	key := envelope.MasterKey{ARN: mainKey, Service: cloud.kms(cloud.app, "cn-hangzhou")}
	dir, err := os.MkdirTemp("", "envelope-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "backup.kmse")

	// Encrypt: the header goes out at NewWriter, the final segment at Close.
	out, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	enc := &envelope.Encryptor{Keys: []envelope.MasterKey{key}}
	w, err := enc.NewWriter(ctx, out, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.Copy(w, strings.NewReader(strings.Repeat("a line of the backup\n", 10000))); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}

	// Decrypt: the Reader returns only segments whose tag has verified.
	in, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()
	dec := &envelope.Decryptor{Keys: []envelope.MasterKey{key}}
	r, err := dec.NewReader(ctx, in, nil)
	if err != nil {
		log.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "bytes decrypted with", r.KeyARN())
	// Output: 210000 bytes decrypted with acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7
}

// Decrypt a message stored in a file by reading it at offsets: no read
// ahead, and with Concurrency each goroutine reads and decrypts segments of
// its own.
func ExampleDecryptor_NewReaderAt() {
	ctx := context.Background()
	cloud := exampleCloud()
	key := envelope.MasterKey{ARN: mainKey, Service: cloud.kms(cloud.app, "cn-hangzhou")}
	dir, err := os.MkdirTemp("", "envelope-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "report.kmse")
	enc := &envelope.Encryptor{Keys: []envelope.MasterKey{key}}
	msg, err := enc.Encrypt(ctx, bytes.Repeat([]byte("quarterly figures\n"), 50000), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, msg, 0o600); err != nil {
		log.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	dec := &envelope.Decryptor{Keys: []envelope.MasterKey{key}, Concurrency: 2}
	r, err := dec.NewReaderAt(ctx, f, fi.Size(), nil)
	if err != nil {
		log.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "bytes decrypted")
	// Output: 900000 bytes decrypted
}

// Encrypt under the Security account's key, its copy in a second region and
// a key the recipient account owns. Any one of them decrypts.
func Example_multiKey() {
	ctx := context.Background()
	cloud := exampleCloud()
	hangzhou := cloud.kms(cloud.app, "cn-hangzhou") // one key service per region
	shanghai := cloud.kms(cloud.app, "cn-shanghai")
	enc := &envelope.Encryptor{Keys: []envelope.MasterKey{
		{ARN: mainKey, Service: hangzhou},      // GenerateDataKey
		{ARN: drKey, Service: shanghai},        // Encrypt of the same data key
		{ARN: recipientKey, Service: hangzhou}, // the recipient's key, by ARN
	}}
	msg, err := enc.Encrypt(ctx, []byte("shared report"), nil)
	if err != nil {
		log.Fatal(err)
	}

	// Hangzhou is down: decrypt with the Shanghai copy.
	dr := &envelope.Decryptor{Keys: []envelope.MasterKey{{ARN: drKey, Service: shanghai}}}
	pt, err := dr.Decrypt(ctx, msg, nil)
	fmt.Printf("%s %v\n", pt, err)

	// The recipient, with its own credentials, allows any key of its own
	// account in its region (a discovery filter); the Security account's
	// keys are not trusted.
	rcptKMS := cloud.kms(cloud.recipientRoot, "cn-hangzhou")
	rcpt := &envelope.Decryptor{Discovery: []envelope.Discovery{
		{Service: rcptKMS, Region: "cn-hangzhou", Accounts: []string{"2208745523640391"}},
	}}
	r, err := rcpt.NewReader(ctx, bytes.NewReader(msg), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.KeyARN())

	// Someone who allows none of the three keys gets ErrNoKey.
	other := &envelope.Decryptor{Discovery: []envelope.Discovery{
		{Service: hangzhou, Region: "cn-beijing", Accounts: []string{"1192853035118460"}},
	}}
	_, err = other.Decrypt(ctx, msg, nil)
	fmt.Println(errors.Is(err, envelope.ErrNoKey))
	// Output:
	// shared report <nil>
	// acs:kms:cn-hangzhou:2208745523640391:key/key-hzzrecipient00000000
	// true
}

// Share a data key between messages to save KMS round trips.
func ExampleCache() {
	ctx := context.Background()
	cloud := exampleCloud()
	svc := cloud.kms(cloud.app, "cn-hangzhou")
	cache, err := envelope.NewCache(5*time.Minute, func(o *envelope.CacheOptions) {
		o.MaxMessages = 1000   // then a new data key
		o.MaxBytes = 100 << 20 // or after 100 MiB
	})
	if err != nil {
		log.Fatal(err)
	}
	enc := &envelope.Encryptor{Keys: []envelope.MasterKey{{ARN: mainKey, Service: svc}}, Cache: cache}
	encCtx := map[string]string{"tenant": "acme"}
	before := cloud.calls("GenerateDataKey")
	for i := 0; i < 100; i++ {
		if _, err := enc.Encrypt(ctx, []byte(fmt.Sprintf("event %d", i)), encCtx); err != nil {
			log.Fatal(err)
		}
	}
	// Counted in the emulated KMS's request log.
	fmt.Println("GenerateDataKey calls:", cloud.calls("GenerateDataKey")-before)
	// Output: GenerateDataKey calls: 1
}

// Add a disaster-recovery key to an existing message without touching its
// body.
func ExampleDecryptor_AddKeys() {
	ctx := context.Background()
	cloud := exampleCloud()
	primary := envelope.MasterKey{ARN: mainKey, Service: cloud.kms(cloud.app, "cn-hangzhou")}
	enc := &envelope.Encryptor{Keys: []envelope.MasterKey{primary}}
	msg, err := enc.Encrypt(ctx, []byte("archived"), nil)
	if err != nil {
		log.Fatal(err)
	}

	var rewrapped bytes.Buffer
	dec := &envelope.Decryptor{Keys: []envelope.MasterKey{primary}}
	shanghai := cloud.kms(cloud.app, "cn-shanghai")
	if err := dec.AddKeys(ctx, &rewrapped, bytes.NewReader(msg), envelope.MasterKey{ARN: drKey, Service: shanghai}); err != nil {
		log.Fatal(err)
	}
	dr := &envelope.Decryptor{Keys: []envelope.MasterKey{{ARN: drKey, Service: shanghai}}}
	pt, err := dr.Decrypt(ctx, rewrapped.Bytes(), nil)
	fmt.Printf("%s %v\n", pt, err)
	// Output: archived <nil>
}
