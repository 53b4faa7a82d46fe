package envelope

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kmsshare/kmsshare/arn"
)

// KeyService is what envelope needs from KMS: make a data key under a master
// key, and encrypt or decrypt a data key. NewKMS adapts a *kms.Client (the
// shared gateway, or the dedicated gateway reached through the same API).
// Another backend plugs in by implementing these three methods.
//
// keyARN is always a key ARN, acs:kms:<region>:<account>:key/<key-id>. encCtx
// is the message's encryption context (nil when empty). The service must bind
// it to the ciphertext, as KMS does, so that Decrypt succeeds only with the
// same context. Plaintext data keys returned to envelope belong to envelope,
// which zeroes them after use.
type KeyService interface {
	// GenerateDataKey returns a new random 32-byte data key, in plaintext and
	// encrypted under keyARN.
	GenerateDataKey(ctx context.Context, keyARN string, encCtx map[string]string) (plaintext, ciphertext []byte, err error)
	// Encrypt encrypts a data key under keyARN. It is used for the second and
	// later master keys, and by Rewrap.
	Encrypt(ctx context.Context, keyARN string, plaintext []byte, encCtx map[string]string) (ciphertext []byte, err error)
	// Decrypt decrypts a data key that the message says is encrypted under
	// keyARN. It must fail, never return a key, if the ciphertext was not
	// made under keyARN. Return an error that wraps ErrKeyMismatch when that
	// is the reason.
	Decrypt(ctx context.Context, keyARN string, ciphertext []byte, encCtx map[string]string) (plaintext []byte, err error)
}

// KeyResolver is implemented by key services that can say which key an ARN
// really names. Discovery needs it: there the ARN comes from the message,
// not from the caller, and KMS's Decrypt names the key that decrypted a blob
// only by its bare key ID, which does not say whose account the key is in.
// Before a discovery filter lets a message's key ARN be used, the ARN is
// resolved; a key service that cannot resolve ARNs cannot be used for
// discovery. NewKMS's key service resolves with DescribeKey.
type KeyResolver interface {
	// ResolveKey returns the ARN of the key keyARN names, as the key service
	// knows it, or an error if there is no such key.
	ResolveKey(ctx context.Context, keyARN string) (string, error)
}

// MasterKey is a KMS key, named by its ARN, and the key service that reaches
// it: a client for the key's region, with credentials that may use the key.
// A key shared from another account is named by its ARN, which is what the
// cross-account caller must use anyway.
type MasterKey struct {
	ARN     string // acs:kms:<region>:<account>:key/<key-id>
	Service KeyService
}

// Discovery allows decryption with any key of the listed accounts in one
// region, without naming each key. It is a discovery filter, as in the AWS
// Encryption SDK. The accounts must be listed: there is no "any account"
// mode, because that would let any account's key vouch for a message.
type Discovery struct {
	Service  KeyService // a client for Region; must also be a KeyResolver
	Region   string     // e.g. "cn-hangzhou"
	Accounts []string   // account UIDs, e.g. "1192853035118460"; at least one
}

func parseKeyARN(s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return arn.ARN{}, err
	}
	if a.Service != "kms" || a.ResourceType() != "key" || a.ResourceName() == "" {
		return arn.ARN{}, fmt.Errorf("envelope: %q is not a KMS key ARN (acs:kms:<region>:<account>:key/<key-id>)", s)
	}
	return a, nil
}

func checkMasterKeys(keys []MasterKey, what string) error {
	var seen map[arn.ARN]bool
	if len(keys) > MaxEncryptedKeys {
		seen = make(map[arn.ARN]bool, len(keys))
	}
	for i, k := range keys {
		a, err := parseKeyARN(k.ARN)
		if err != nil {
			return fmt.Errorf("envelope: %s: %w", what, err)
		}
		if k.Service == nil {
			return fmt.Errorf("envelope: %s: %s has no key service", what, k.ARN)
		}
		if seen != nil {
			if seen[a] {
				return fmt.Errorf("envelope: %s: %s is listed twice", what, k.ARN)
			}
			seen[a] = true
			continue
		}
		// Short lists (the usual case) compare pairs: cheaper than a map on
		// every message.
		for _, o := range keys[:i] {
			if b, err := parseKeyARN(o.ARN); err == nil && b == a {
				return fmt.Errorf("envelope: %s: %s is listed twice", what, k.ARN)
			}
		}
	}
	return nil
}

func (d Discovery) check() error {
	if d.Service == nil {
		return errors.New("envelope: discovery filter has no key service")
	}
	if d.Region == "" {
		return errors.New("envelope: discovery filter has no region")
	}
	if len(d.Accounts) == 0 {
		return errors.New("envelope: discovery filter lists no accounts")
	}
	for _, a := range d.Accounts {
		if err := arn.ValidateAccountID(a); err != nil {
			return fmt.Errorf("envelope: discovery filter: %w", err)
		}
	}
	return nil
}

// allows reports whether the filter admits a key ARN.
func (d Discovery) allows(a arn.ARN) bool {
	return a.Region == d.Region && slices.Contains(d.Accounts, a.AccountID)
}
