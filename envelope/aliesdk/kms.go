package aliesdk

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/kmsshare/kmsshare/internal/sdkpool"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/envelope"
)

// KMSOptions tune NewKMS.
type KMSOptions struct {
	// Retry repeats failed calls; envelope.DefaultRetry by default.
	Retry envelope.Retry
	// Runtime is copied for each call. nil means &dara.RuntimeOptions{}.
	Runtime *dara.RuntimeOptions
	// KeyID turns a master key's ARN into the KeyId of GenerateDataKey,
	// Encrypt and ReEncrypt. nil sends the raw key ID (after "key/"), as the
	// SDKs do; KMS resolves a raw ID in the caller's own account only, so
	// for a key shared from another account send the ARN:
	// func(arn string) string { return arn }.
	KeyID func(keyARN string) string
}

// KMS is the key service of the SDKs' KMS use over a *kms.Client, for keys
// in the client's region: GenerateDataKey with KeySpec AES_256 or AES_128,
// Encrypt, ReEncrypt and Decrypt, the context sent as a JSON object. It is
// an envelope.KeyService, a DataKeyGenerator and a ReEncrypter. The SDK
// client is not safe for concurrent use, so overlapping calls get clients
// of their own from the pool envelope.KMS uses too (internal/sdkpool).
type KMS struct {
	clients *sdkpool.Pool[kms.Client] // nil without a client
	region  string
	o       KMSOptions
}

// NewKMS returns a key service over client, for the keys of the client's
// region. Use one per region, as the SDKs do (they pick the region from
// each key's ARN).
func NewKMS(client *kms.Client, optFns ...func(*KMSOptions)) *KMS {
	o := KMSOptions{Retry: envelope.DefaultRetry()}
	for _, fn := range optFns {
		fn(&o)
	}
	k := &KMS{o: o}
	if client != nil {
		k.clients, k.region = sdkpool.KMS(client), tea.StringValue(client.RegionId)
	}
	return k
}

// String describes the adapter without the client's credentials.
func (k *KMS) String() string { return "aliesdk.KMS(" + k.region + ")" }

// GoString is String, so %#v does not print credentials either.
func (k *KMS) GoString() string { return k.String() }

// keyID checks that keyARN is a key of the client's region and returns
// the KeyId to send.
func (k *KMS) keyID(keyARN string) (string, error) {
	if k.clients == nil {
		return "", errors.New("aliesdk: NewKMS was given a nil *kms.Client")
	}
	a, err := parseKeyARN(keyARN)
	if err != nil {
		return "", err
	}
	if k.region != "" && a.Region != k.region {
		return "", fmt.Errorf("aliesdk: key %s is in %s, the KMS client in %s", keyARN, a.Region, k.region)
	}
	if k.o.KeyID != nil {
		return k.o.KeyID(keyARN), nil
	}
	return a.ResourceName(), nil
}

// GenerateDataKey makes a 32-byte data key (envelope.KeyService).
func (k *KMS) GenerateDataKey(ctx context.Context, keyARN string, encCtx map[string]string) ([]byte, []byte, error) {
	return k.GenerateDataKeySize(ctx, keyARN, 32, encCtx)
}

// GenerateDataKeySize calls GenerateDataKey with KeySpec AES_256 (size 32)
// or AES_128 (size 16).
func (k *KMS) GenerateDataKeySize(ctx context.Context, keyARN string, size int, encCtx map[string]string) ([]byte, []byte, error) {
	id, err := k.keyID(keyARN)
	if err != nil {
		return nil, nil, err
	}
	spec := map[int]string{16: "AES_128", 32: "AES_256"}[size]
	if spec == "" {
		return nil, nil, fmt.Errorf("aliesdk: no KMS key spec for %d-byte data keys", size)
	}
	req := &kms.GenerateDataKeyRequest{KeyId: tea.String(id), KeySpec: tea.String(spec), EncryptionContext: sdkpool.KMSContext(encCtx)}
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
	// The SDK hands the plaintext over as an immutable base64 string that
	// cannot be wiped; the decoded bytes are the caller's to wipe.
	pt, err := base64.StdEncoding.DecodeString(tea.StringValue(body.Plaintext))
	if err != nil || len(pt) != size {
		clear(pt)
		return nil, nil, fmt.Errorf("kms GenerateDataKey: Plaintext is not a %d-byte base64 key", size)
	}
	return pt, []byte(blob), nil
}

// Encrypt calls KMS Encrypt: a further master key in another region.
func (k *KMS) Encrypt(ctx context.Context, keyARN string, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	id, err := k.keyID(keyARN)
	if err != nil {
		return nil, err
	}
	req := &kms.EncryptRequest{KeyId: tea.String(id), Plaintext: tea.String(base64.StdEncoding.EncodeToString(plaintext)),
		EncryptionContext: sdkpool.KMSContext(encCtx)}
	body, err := call(ctx, k, "Encrypt", (*kms.Client).EncryptWithContext, req, (*kms.EncryptResponse).GetBody)
	if err != nil {
		return nil, err
	}
	if err := checkKeyID("Encrypt", keyARN, tea.StringValue(body.KeyId), false); err != nil {
		return nil, err
	}
	if tea.StringValue(body.CiphertextBlob) == "" {
		return nil, errors.New("kms Encrypt: response has no CiphertextBlob")
	}
	return []byte(tea.StringValue(body.CiphertextBlob)), nil
}

// ReEncrypt calls KMS ReEncrypt: a further master key in the region of the
// first, without the data key leaving KMS. The caller needs kms:ReEncrypt
// (assumed name, as in the emulator) on both keys.
func (k *KMS) ReEncrypt(ctx context.Context, srcARN string, ciphertext []byte, dstARN string, encCtx map[string]string) ([]byte, error) {
	if _, err := k.keyID(srcARN); err != nil {
		return nil, err
	}
	id, err := k.keyID(dstARN)
	if err != nil {
		return nil, err
	}
	req := &kms.ReEncryptRequest{CiphertextBlob: tea.String(string(ciphertext)), DestinationKeyId: tea.String(id),
		SourceEncryptionContext: sdkpool.KMSContext(encCtx), DestinationEncryptionContext: sdkpool.KMSContext(encCtx)}
	body, err := call(ctx, k, "ReEncrypt", (*kms.Client).ReEncryptWithContext, req, (*kms.ReEncryptResponse).GetBody)
	if err != nil {
		return nil, err
	}
	if err := checkKeyID("ReEncrypt", dstARN, tea.StringValue(body.KeyId), false); err != nil {
		return nil, err
	}
	if tea.StringValue(body.CiphertextBlob) == "" {
		return nil, errors.New("kms ReEncrypt: response has no CiphertextBlob")
	}
	return []byte(tea.StringValue(body.CiphertextBlob)), nil
}

// Decrypt calls KMS Decrypt in the client's region. KMS takes no key ID:
// it finds the key in the blob and names it in the response, which must be
// keyARN's (envelope.ErrKeyMismatch otherwise).
func (k *KMS) Decrypt(ctx context.Context, keyARN string, ciphertext []byte, encCtx map[string]string) ([]byte, error) {
	if _, err := k.keyID(keyARN); err != nil {
		return nil, err
	}
	req := &kms.DecryptRequest{CiphertextBlob: tea.String(string(ciphertext)), EncryptionContext: sdkpool.KMSContext(encCtx)}
	body, err := call(ctx, k, "Decrypt", (*kms.Client).DecryptWithContext, req, (*kms.DecryptResponse).GetBody)
	if err != nil {
		return nil, err
	}
	if err := checkKeyID("Decrypt", keyARN, tea.StringValue(body.KeyId), true); err != nil {
		return nil, err
	}
	pt, err := base64.StdEncoding.DecodeString(tea.StringValue(body.Plaintext))
	if err != nil {
		return nil, errors.New("kms Decrypt: Plaintext is not base64")
	}
	return pt, nil
}

// call makes one KMS call under the retry policy, each attempt on a client
// of its own from the pool (sdkpool.KMSCall, as envelope's KMS adapter).
func call[Req, Resp, Body any](ctx context.Context, k *KMS, action string,
	api func(*kms.Client, context.Context, Req, *dara.RuntimeOptions) (*Resp, error), req Req, body func(*Resp) *Body) (*Body, error) {
	var out *Body
	err := k.o.Retry.Do(ctx, func(ctx context.Context) (err error) {
		rt := &dara.RuntimeOptions{}
		if k.o.Runtime != nil {
			r := *k.o.Runtime
			rt = &r
		}
		out, err = sdkpool.KMSCall(ctx, k.clients, action, api, req, rt, body)
		return err
	})
	return out, err
}

// checkKeyID is sdkpool.CheckKeyID with envelope's ErrKeyMismatch.
func checkKeyID(action, keyARN, echoed string, required bool) error {
	return sdkpool.CheckKeyID(action, keyARN, echoed, required, envelope.ErrKeyMismatch)
}
