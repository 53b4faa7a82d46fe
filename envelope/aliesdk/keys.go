package aliesdk

import (
	"context"
	"fmt"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/envelope"
)

// DataKeyGenerator is implemented by key services that can make data keys
// of other sizes than envelope.KeyService's 32 bytes: the 16-byte suites
// (AES-128, SM4) need it. NewKMS's service does it with KeySpec AES_128.
type DataKeyGenerator interface {
	GenerateDataKeySize(ctx context.Context, keyARN string, size int, encCtx map[string]string) (plaintext, ciphertext []byte, err error)
}

// ReEncrypter is implemented by key services that can move an encrypted
// data key from one master key to another without the plaintext leaving
// KMS (KMS ReEncrypt). The SDKs use it for a further master key in the
// region of the first; NewKMS's service implements it.
type ReEncrypter interface {
	ReEncrypt(ctx context.Context, srcARN string, ciphertext []byte, dstARN string, encCtx map[string]string) ([]byte, error)
}

func parseKeyARN(s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return arn.ARN{}, err
	}
	if a.Service != "kms" || a.ResourceType() != "key" || a.ResourceName() == "" {
		return arn.ARN{}, fmt.Errorf("aliesdk: %q is not a KMS key ARN (acs:kms:<region>:<account>:key/<key-id>)", s)
	}
	return a, nil
}

// checkKeys validates master keys: well-formed key ARNs, a service each, no
// ARN twice (two EDKs under one ARN would be ambiguous to every reader).
func checkKeys(keys []envelope.MasterKey, what string) error {
	if len(keys) == 0 {
		return fmt.Errorf("aliesdk: %s: no master key", what)
	}
	if len(keys) > MaxEncryptedKeys {
		return fmt.Errorf("aliesdk: %s: %d master keys, more than %d: %w", what, len(keys), MaxEncryptedKeys, ErrLimit)
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if _, err := parseKeyARN(k.ARN); err != nil {
			return fmt.Errorf("aliesdk: %s: %w", what, err)
		}
		if k.Service == nil {
			return fmt.Errorf("aliesdk: %s: %s has no key service", what, k.ARN)
		}
		if seen[k.ARN] {
			return fmt.Errorf("aliesdk: %s: %s is listed twice", what, k.ARN)
		}
		seen[k.ARN] = true
	}
	return nil
}

func region(keyARN string) string {
	a, err := parseKeyARN(keyARN)
	if err != nil {
		return ""
	}
	return a.Region
}
