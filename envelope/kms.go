package envelope

import (
	"context"
	"encoding/base64"
	"errors"
	"sync"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/internal/sdkpool"
)

// Retry is the retry policy of the KMS key service: which failures are
// repeated and how long to wait between attempts.
type Retry = cloudapi.Retry

// DefaultRetry retries throttling, 5xx and transport failures up to 8 times
// in all, with full-jitter exponential backoff from 100 ms capped at 5 s.
func DefaultRetry() Retry { return cloudapi.DefaultRetry() }

// KMSOptions tune NewKMS.
type KMSOptions struct {
	// Retry repeats failed calls. Set Retry.MaxAttempts to 1 to disable it.
	Retry Retry
	// Runtime is copied for each call (timeouts and the like). nil means
	// &dara.RuntimeOptions{}.
	Runtime *dara.RuntimeOptions
}

// KMS is a KeyService over the KMS API (version 2016-01-20) through a
// *kms.Client. It is safe for concurrent use: the SDK client is not (it
// writes its own fields on every call), so a call that comes while the
// client is busy gets a client of its own, built from the given one's
// configuration and kept for reuse (the pool under share's adapters too).
// Concurrent calls never wait for each other's round trips.
type KMS struct {
	clients *sdkpool.Pool[kms.Client] // nil without a client
	retry   Retry
	runtime dara.RuntimeOptions

	resolvedMu sync.Mutex
	resolved   map[string]string // ResolveKey's answers: key ARNs do not change
}

// NewKMS returns a KeyService over client. Point the client at the shared
// gateway (kms.<region>.aliyuncs.com) or at an instance's dedicated gateway
// (with the instance CA in the config). Use one client per region: a
// MasterKey in another region needs its own.
func NewKMS(client *kms.Client, optFns ...func(*KMSOptions)) *KMS {
	o := KMSOptions{Retry: DefaultRetry()}
	for _, fn := range optFns {
		fn(&o)
	}
	k := &KMS{retry: o.Retry}
	if o.Runtime != nil {
		k.runtime = *o.Runtime
	}
	if client != nil {
		k.clients = sdkpool.KMS(client)
	}
	return k
}

// String describes the adapter without revealing the client's credentials.
func (k *KMS) String() string { return "envelope.KMS" }

// GoString is String, so %#v does not print the client's credentials either.
func (k *KMS) GoString() string { return k.String() }

// rt returns a fresh copy of the runtime options: never nil (the SDK panics
// on nil) and never shared between concurrent calls.
func (k *KMS) rt() *dara.RuntimeOptions {
	r := k.runtime
	return &r
}

var errNoClient = errors.New("envelope: NewKMS was given a nil *kms.Client")

// GenerateDataKey calls KMS GenerateDataKey for a 256-bit key.
func (k *KMS) GenerateDataKey(ctx context.Context, keyARN string, encCtx map[string]string) (plaintext, ciphertext []byte, err error) {
	if k.clients == nil {
		return nil, nil, errNoClient
	}
	req := &kms.GenerateDataKeyRequest{
		KeyId:             tea.String(keyARN),
		KeySpec:           tea.String("AES_256"),
		NumberOfBytes:     tea.Int32(32),
		EncryptionContext: sdkpool.KMSContext(encCtx),
	}
	body, err := call(ctx, k, "GenerateDataKey", (*kms.Client).GenerateDataKeyWithContext, req, (*kms.GenerateDataKeyResponse).GetBody)
	if err != nil {
		return nil, nil, err
	}
	if err := checkKeyID("GenerateDataKey", keyARN, tea.StringValue(body.KeyId), false); err != nil {
		return nil, nil, err
	}
	blob := tea.StringValue(body.CiphertextBlob)
	if blob == "" {
		return nil, nil, errors.New("kms GenerateDataKey: response has no CiphertextBlob")
	}
	// The SDK hands the plaintext over as an immutable base64 string; that
	// copy cannot be wiped. The decoded bytes are returned to the caller,
	// who wipes them.
	plaintext, err = base64.StdEncoding.DecodeString(tea.StringValue(body.Plaintext))
	if err != nil {
		return nil, nil, errors.New("kms GenerateDataKey: Plaintext is not base64")
	}
	return plaintext, []byte(blob), nil
}

// Encrypt calls KMS Encrypt (plaintext at most 6 KB; a data key is 32 bytes).
func (k *KMS) Encrypt(ctx context.Context, keyARN string, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	if k.clients == nil {
		return nil, errNoClient
	}
	req := &kms.EncryptRequest{
		KeyId:             tea.String(keyARN),
		Plaintext:         tea.String(base64.StdEncoding.EncodeToString(plaintext)),
		EncryptionContext: sdkpool.KMSContext(encCtx),
	}
	body, err := call(ctx, k, "Encrypt", (*kms.Client).EncryptWithContext, req, (*kms.EncryptResponse).GetBody)
	if err != nil {
		return nil, err
	}
	if err := checkKeyID("Encrypt", keyARN, tea.StringValue(body.KeyId), false); err != nil {
		return nil, err
	}
	blob := tea.StringValue(body.CiphertextBlob)
	if blob == "" {
		return nil, errors.New("kms Encrypt: response has no CiphertextBlob")
	}
	return []byte(blob), nil
}

// Decrypt calls KMS Decrypt. KMS takes no key ID on Decrypt: it finds the key
// in the blob and names it in the response, so the adapter checks that the
// key KMS used is keyARN.
func (k *KMS) Decrypt(ctx context.Context, keyARN string, ciphertext []byte, encCtx map[string]string) ([]byte, error) {
	if k.clients == nil {
		return nil, errNoClient
	}
	req := &kms.DecryptRequest{
		CiphertextBlob:    tea.String(string(ciphertext)),
		EncryptionContext: sdkpool.KMSContext(encCtx),
	}
	body, err := call(ctx, k, "Decrypt", (*kms.Client).DecryptWithContext, req, (*kms.DecryptResponse).GetBody)
	if err != nil {
		return nil, err
	}
	if err := checkKeyID("Decrypt", keyARN, tea.StringValue(body.KeyId), true); err != nil {
		return nil, err
	}
	plaintext, err := base64.StdEncoding.DecodeString(tea.StringValue(body.Plaintext))
	if err != nil {
		return nil, errors.New("kms Decrypt: Plaintext is not base64")
	}
	return plaintext, nil
}

// ResolveKey asks KMS DescribeKey which key keyARN names and returns its
// ARN (KeyMetadata.Arn). A key of another account can be described only by
// its ARN and only if its key policy grants kms:DescribeKey, which the key
// user actions include. Answers are cached for the life of the KMS value.
func (k *KMS) ResolveKey(ctx context.Context, keyARN string) (string, error) {
	if k.clients == nil {
		return "", errNoClient
	}
	k.resolvedMu.Lock()
	got, ok := k.resolved[keyARN]
	k.resolvedMu.Unlock()
	if ok {
		return got, nil
	}
	req := &kms.DescribeKeyRequest{KeyId: tea.String(keyARN)}
	meta, err := call(ctx, k, "DescribeKey", (*kms.Client).DescribeKeyWithContext, req, func(r *kms.DescribeKeyResponse) *kms.DescribeKeyResponseBodyKeyMetadata {
		if r.Body == nil {
			return nil
		}
		return r.Body.KeyMetadata
	})
	if err != nil {
		return "", err
	}
	got = tea.StringValue(meta.Arn)
	k.resolvedMu.Lock()
	if k.resolved == nil {
		k.resolved = map[string]string{}
	}
	k.resolved[keyARN] = got
	k.resolvedMu.Unlock()
	return got, nil
}

// call makes one KMS call under the retry policy, each attempt on a client
// of its own from the pool (sdkpool.KMSCall).
func call[Req, Resp, Body any](ctx context.Context, k *KMS, action string,
	api func(*kms.Client, context.Context, Req, *dara.RuntimeOptions) (*Resp, error), req Req, body func(*Resp) *Body) (*Body, error) {
	var out *Body
	err := k.retry.Do(ctx, func(ctx context.Context) (err error) {
		out, err = sdkpool.KMSCall(ctx, k.clients, action, api, req, k.rt(), body)
		return err
	})
	return out, err
}

// checkKeyID is sdkpool.CheckKeyID with envelope's ErrKeyMismatch.
func checkKeyID(action, keyARN, echoed string, required bool) error {
	return sdkpool.CheckKeyID(action, keyARN, echoed, required, ErrKeyMismatch)
}
