package fakecloud

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// KMS data plane: data keys, Encrypt, Decrypt and ReEncrypt on the
// emulator's ciphertext blobs.

// dataKeySize reads GenerateDataKey's KeySpec and NumberOfBytes (kms.md §11.1).
func (k *call) dataKeySize() (int, *Error) {
	n := 32
	switch spec := k.param("KeySpec"); spec {
	case "", "AES_256":
	case "AES_128":
		n = 16
	default:
		return 0, k.fail("InvalidParameter", "KeySpec "+spec)
	}
	if v := k.param("NumberOfBytes"); v != "" {
		b, err := strconv.Atoi(v)
		if err != nil || b < 1 || b > 1024 {
			return 0, k.fail("InvalidParameter", "NumberOfBytes must be 1 to 1024")
		}
		n = b
	}
	return n, nil
}

func (k *call) context(name string) (string, *Error) {
	ctx, err := canonicalContext(k.param(name))
	if err != nil {
		return "", k.fail("InvalidParameter", err.Error())
	}
	return ctx, nil
}

// generateDataKey is GenerateDataKey with or without the plaintext.
func (k *call) generateDataKey(action string) (key *key, blob string, plaintext []byte, e *Error) {
	if key, e = k.keyFor(action); e != nil {
		return nil, "", nil, e
	}
	if e = k.usable(key); e != nil {
		return nil, "", nil, e
	}
	n, e := k.dataKeySize()
	if e != nil {
		return nil, "", nil, e
	}
	ctx, e := k.context("EncryptionContext")
	if e != nil {
		return nil, "", nil, e
	}
	plaintext = make([]byte, n)
	rand.Read(plaintext)
	blob, err := seal(key, plaintext, ctx)
	if err != nil {
		wipe(plaintext)
		return nil, "", nil, k.fail("InvalidParameter", "")
	}
	return key, blob, plaintext, nil
}

func (k *call) kmsGenerateDataKey() (any, *Error) {
	key, blob, pt, e := k.generateDataKey("GenerateDataKey")
	if e != nil {
		return nil, e
	}
	defer wipe(pt)
	return &kms.GenerateDataKeyResponseBody{RequestId: k.requestID(), KeyId: tea.String(key.id),
		KeyVersionId: tea.String(key.versionID), CiphertextBlob: tea.String(blob),
		Plaintext: tea.String(base64.StdEncoding.EncodeToString(pt))}, nil
}

func (k *call) kmsGenerateDataKeyWithoutPlaintext() (any, *Error) {
	key, blob, pt, e := k.generateDataKey("GenerateDataKeyWithoutPlaintext")
	if e != nil {
		return nil, e
	}
	wipe(pt)
	return &kms.GenerateDataKeyWithoutPlaintextResponseBody{RequestId: k.requestID(), KeyId: tea.String(key.id),
		KeyVersionId: tea.String(key.versionID), CiphertextBlob: tea.String(blob)}, nil
}

// maxEncryptPlaintext is Encrypt's documented limit, 6 KB (kms.md §11.3).
const maxEncryptPlaintext = 6 * 1024

func (k *call) kmsEncrypt() (any, *Error) {
	key, e := k.keyFor("Encrypt")
	if e != nil {
		return nil, e
	}
	if e = k.usable(key); e != nil {
		return nil, e
	}
	b64, e := k.required("Plaintext")
	if e != nil {
		return nil, e
	}
	pt, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, k.fail("InvalidParameter", "Plaintext must be base64")
	}
	defer wipe(pt)
	if len(pt) > maxEncryptPlaintext {
		return nil, k.fail("InvalidParameter", "Plaintext is larger than 6 KB")
	}
	ctx, e := k.context("EncryptionContext")
	if e != nil {
		return nil, e
	}
	blob, err := seal(key, pt, ctx)
	if err != nil {
		return nil, k.fail("InvalidParameter", "")
	}
	return &kms.EncryptResponseBody{RequestId: k.requestID(), KeyId: tea.String(key.id),
		KeyVersionId: tea.String(key.versionID), CiphertextBlob: tea.String(blob)}, nil
}

// openBlob finds the key of a ciphertext blob, authorizes action on it
// (the key comes from the blob, never from a parameter), checks it is
// usable and decrypts.
func (k *call) openBlob(action, blobParam, contextParam string) (*key, []byte, *Error) {
	b64, e := k.required(blobParam)
	if e != nil {
		return nil, nil, e
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, nil, k.fail("InvalidParameter", blobParam+" is not base64")
	}
	h, header, nonce, sealed, err := parseBlob(raw)
	if err != nil {
		return nil, nil, k.fail("InvalidParameter", blobParam+": "+err.Error())
	}
	key := k.c.keys[h.keyID]
	if key == nil || key.account.id != h.account || key.region != k.region || key.gone(k.now) {
		return nil, nil, k.fail("Forbidden.KeyNotFound", h.keyID)
	}
	k.target = key.account.id
	if e := k.reachable(key); e != nil {
		return nil, nil, e
	}
	if !k.allowedOnKey("kms:"+action, key) {
		return nil, nil, k.fail("Forbidden.NoPermission", "")
	}
	if e := k.usable(key); e != nil {
		return nil, nil, e
	}
	ctx, e := k.context(contextParam)
	if e != nil {
		return nil, nil, e
	}
	if h.version != key.versionID {
		return nil, nil, k.fail("InvalidParameter", "unknown key version")
	}
	pt, err := open(key, header, nonce, sealed, ctx)
	if err != nil {
		return nil, nil, k.fail("InvalidParameter", "the ciphertext or the encryption context does not match")
	}
	return key, pt, nil
}

func (k *call) kmsDecrypt() (any, *Error) {
	key, pt, e := k.openBlob("Decrypt", "CiphertextBlob", "EncryptionContext")
	if e != nil {
		return nil, e
	}
	defer wipe(pt)
	return &kms.DecryptResponseBody{RequestId: k.requestID(), KeyId: tea.String(key.id),
		KeyVersionId: tea.String(key.versionID), Plaintext: tea.String(base64.StdEncoding.EncodeToString(pt))}, nil
}

// kmsReEncrypt decrypts with the blob's key and encrypts under
// DestinationKeyId; the caller needs kms:ReEncrypt on both keys (the
// action name is assumed).
func (k *call) kmsReEncrypt() (any, *Error) {
	if alg := k.param("SourceEncryptionAlgorithm"); alg != "" || k.param("SourceKeyId") != "" {
		return nil, k.fail("UnsupportedOperation", "ReEncrypt of asymmetric ciphertext is not emulated")
	}
	_, pt, e := k.openBlob("ReEncrypt", "CiphertextBlob", "SourceEncryptionContext")
	if e != nil {
		return nil, e
	}
	defer wipe(pt)
	ref, e := k.required("DestinationKeyId")
	if e != nil {
		return nil, e
	}
	dst, e := k.resolveKey(ref)
	if e != nil {
		return nil, e
	}
	if e := k.reachable(dst); e != nil {
		return nil, e
	}
	if !k.allowedOnKey("kms:ReEncrypt", dst) {
		return nil, k.fail("Forbidden.NoPermission", "")
	}
	if e := k.usable(dst); e != nil {
		return nil, e
	}
	ctx, e := k.context("DestinationEncryptionContext")
	if e != nil {
		return nil, e
	}
	blob, err := seal(dst, pt, ctx)
	if err != nil {
		return nil, k.fail("InvalidParameter", "")
	}
	return &kms.ReEncryptResponseBody{RequestId: k.requestID(), KeyId: tea.String(dst.id),
		KeyVersionId: tea.String(dst.versionID), CiphertextBlob: tea.String(blob)}, nil
}
