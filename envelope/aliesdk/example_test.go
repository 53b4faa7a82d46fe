package aliesdk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/envelope/aliesdk"
)

// Example writes a message that the Java and Python Encryption SDKs read
// (AliyunCrypto.decrypt), under a key in cn-hangzhou and its disaster
// recovery copy in cn-shanghai, and reads it back with either key. KMS is
// the emulator here, reached through the real SDK client; with real Alibaba
// Cloud, pass aliesdk.NewKMS a *kms.Client for each region.
func Example() {
	w, err := newWorld()
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	hangzhou := envelope.MasterKey{ARN: mainKey, Service: w.kms("cn-hangzhou")}
	shanghai := envelope.MasterKey{ARN: drKey, Service: w.kms("cn-shanghai")}
	encCtx := map[string]string{"tenant": "acme"}

	enc := &aliesdk.Encryptor{Keys: []envelope.MasterKey{hangzhou, shanghai}} // AES-256-GCM
	msg, err := enc.Encrypt(ctx, []byte("read me from Java"), encCtx)
	if err != nil {
		panic(err)
	}

	dec := &aliesdk.Decryptor{Keys: []envelope.MasterKey{shanghai}}
	plaintext, err := dec.Decrypt(ctx, msg, encCtx)
	fmt.Printf("%s, %v\n", plaintext, err)

	_, err = dec.Decrypt(ctx, msg, map[string]string{"tenant": "other"})
	fmt.Println(errors.Is(err, aliesdk.ErrNotAuthentic))

	// Java's stream format, and SM4-GCM.
	sm4 := &aliesdk.Encryptor{Keys: []envelope.MasterKey{hangzhou}, Suite: aliesdk.SM4GCM}
	stream, err := sm4.EncryptStream(ctx, []byte("国密"), nil)
	if err != nil {
		panic(err)
	}
	plaintext, err = (&aliesdk.Decryptor{Keys: []envelope.MasterKey{hangzhou}}).DecryptStream(ctx, bytes.NewReader(stream), nil)
	fmt.Printf("%s, %v\n", plaintext, err)

	// Output:
	// read me from Java, <nil>
	// true
	// 国密, <nil>
}

// ExampleToEnvelope moves a message from the SDKs' format to envelope's
// streaming, committing format in one call.
func ExampleToEnvelope() {
	w, err := newWorld()
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	key := envelope.MasterKey{ARN: mainKey, Service: w.kms("cn-hangzhou")}
	encCtx := map[string]string{"tenant": "acme"}
	msg, err := (&aliesdk.Encryptor{Keys: []envelope.MasterKey{key}}).Encrypt(ctx, []byte("from Java"), encCtx)
	if err != nil {
		panic(err)
	}

	var out bytes.Buffer
	from := &aliesdk.Decryptor{Keys: []envelope.MasterKey{key}}
	to := &envelope.Encryptor{Keys: []envelope.MasterKey{{ARN: mainKey, Service: envelope.NewKMS(w.kmsClient("cn-hangzhou"))}}}
	if err := aliesdk.ToEnvelope(ctx, &out, bytes.NewReader(msg), from, to, encCtx); err != nil {
		panic(err)
	}
	plaintext, err := (&envelope.Decryptor{Keys: to.Keys}).Decrypt(ctx, out.Bytes(), encCtx)
	fmt.Printf("%s, %v\n", plaintext, err)
	// Output: from Java, <nil>
}
