package alicloud

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/kmsshare/kmsshare/internal/sdkpool"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// KMS is the KMS adapter.
type KMS struct {
	pool  *pool[kms.Client]
	retry cloudapi.Retry
}

func rt() *dara.RuntimeOptions { return &dara.RuntimeOptions{} }

// KeyMetadata is what DescribeKey reports about a key.
type KeyMetadata struct {
	KeyID        string
	ARN          string
	Creator      string // the owner account's UID
	InstanceID   string // DKMSInstanceId; "" for a key outside a KMS instance
	State        string // Enabled, Disabled, PendingDeletion, ...
	Usage        string // ENCRYPT/DECRYPT or SIGN/VERIFY
	Spec         string // Aliyun_AES_256, RSA_2048, ...
	Origin       string // Aliyun_KMS or EXTERNAL
	ProtectLevel string
	// DeletionProtection and AutomaticRotation are "Enabled" or "Disabled"
	// (AutomaticRotation also "Suspended").
	DeletionProtection string
	AutomaticRotation  string
}

// DescribeKey reads a key's metadata; keyID may be an ID, alias or ARN.
func (k *KMS) DescribeKey(ctx context.Context, keyID string) (KeyMetadata, error) {
	var m KeyMetadata
	err := k.pool.do(ctx, k.retry, "kms", "DescribeKey", func(ctx context.Context, cl *kms.Client) error {
		resp, err := cl.DescribeKeyWithContext(ctx, &kms.DescribeKeyRequest{KeyId: tea.String(keyID)}, rt())
		if err != nil {
			return err
		}
		if resp.Body == nil || resp.Body.KeyMetadata == nil {
			return fmt.Errorf("DescribeKey: empty response")
		}
		km := resp.Body.KeyMetadata
		m = KeyMetadata{
			KeyID: tea.StringValue(km.KeyId), ARN: tea.StringValue(km.Arn), Creator: tea.StringValue(km.Creator),
			InstanceID: tea.StringValue(km.DKMSInstanceId), State: tea.StringValue(km.KeyState),
			Usage: tea.StringValue(km.KeyUsage), Spec: tea.StringValue(km.KeySpec), Origin: tea.StringValue(km.Origin),
			ProtectLevel:       tea.StringValue(km.ProtectionLevel),
			DeletionProtection: tea.StringValue(km.DeletionProtection), AutomaticRotation: tea.StringValue(km.AutomaticRotation),
		}
		return nil
	})
	return m, err
}

// GetKeyPolicy reads the key's policy (always the one named "default").
func (k *KMS) GetKeyPolicy(ctx context.Context, keyID string) (string, error) {
	var doc string
	err := k.pool.do(ctx, k.retry, "kms", "GetKeyPolicy", func(ctx context.Context, cl *kms.Client) error {
		resp, err := cl.GetKeyPolicyWithContext(ctx, &kms.GetKeyPolicyRequest{KeyId: tea.String(keyID), PolicyName: tea.String("default")}, rt())
		if err != nil {
			return err
		}
		doc = tea.StringValue(resp.Body.Policy)
		return nil
	})
	return doc, err
}

// SetKeyPolicy replaces the key's whole policy, in a single attempt. It is
// never retried here: doc was merged into the policy as it was read, and
// resending it after a backoff would erase whatever another writer saved
// meanwhile. The caller re-reads and re-merges before trying again.
func (k *KMS) SetKeyPolicy(ctx context.Context, keyID, doc string) error {
	return k.pool.do(ctx, cloudapi.Retry{MaxAttempts: 1}, "kms", "SetKeyPolicy", func(ctx context.Context, cl *kms.Client) error {
		_, err := cl.SetKeyPolicyWithContext(ctx, &kms.SetKeyPolicyRequest{
			KeyId: tea.String(keyID), Policy: tea.String(doc), PolicyName: tea.String("default")}, rt())
		return err
	})
}

// Quota is one line of GetKmsInstanceQuotaInfos.
type Quota struct {
	Limit, Used int64
}

// AccessQuota reads the instance's access management quota: the "vpc"
// resource type of GetKmsInstanceQuotaInfos, which counts bound VPCs and
// accounts the instance's keys are shared with. That this resource type is
// the access management quota is inferred (kms.md §9.3), not documented.
func (k *KMS) AccessQuota(ctx context.Context, instanceID string) (Quota, error) {
	var q Quota
	err := k.pool.do(ctx, k.retry, "kms", "GetKmsInstanceQuotaInfos", func(ctx context.Context, cl *kms.Client) error {
		resp, err := cl.GetKmsInstanceQuotaInfosWithContext(ctx, &kms.GetKmsInstanceQuotaInfosRequest{
			KmsInstanceId: tea.String(instanceID), ResourceType: tea.String("vpc")}, rt())
		if err != nil {
			return err
		}
		for _, info := range resp.Body.KmsInstanceQuotaInfos {
			if tea.StringValue(info.ResourceType) == "vpc" {
				q = Quota{Limit: tea.Int64Value(info.ResourceQuota), Used: tea.Int64Value(info.UsedQuantity)}
				return nil
			}
		}
		return fmt.Errorf("GetKmsInstanceQuotaInfos: no vpc quota in the response")
	})
	return q, err
}

// DataKey is the result of GenerateDataKey. Plaintext must be zeroed by the
// caller when done.
type DataKey struct {
	KeyID          string
	Plaintext      []byte
	CiphertextBlob string
}

// GenerateDataKey asks for a 256-bit data key under keyID.
func (k *KMS) GenerateDataKey(ctx context.Context, keyID string, encryptionContext map[string]string) (DataKey, error) {
	var dk DataKey
	err := k.pool.do(ctx, k.retry, "kms", "GenerateDataKey", func(ctx context.Context, cl *kms.Client) error {
		resp, err := cl.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{
			KeyId: tea.String(keyID), KeySpec: tea.String("AES_256"), EncryptionContext: sdkpool.KMSContext(encryptionContext)}, rt())
		if err != nil {
			return err
		}
		pt, err := base64.StdEncoding.DecodeString(tea.StringValue(resp.Body.Plaintext))
		if err != nil {
			return fmt.Errorf("GenerateDataKey: plaintext is not base64")
		}
		dk = DataKey{KeyID: tea.StringValue(resp.Body.KeyId), Plaintext: pt, CiphertextBlob: tea.StringValue(resp.Body.CiphertextBlob)}
		return nil
	})
	return dk, err
}

// Decrypt decrypts a ciphertext blob; KMS finds the key from the blob. The
// returned plaintext must be zeroed by the caller when done.
func (k *KMS) Decrypt(ctx context.Context, blob string, encryptionContext map[string]string) (keyID string, plaintext []byte, err error) {
	err = k.pool.do(ctx, k.retry, "kms", "Decrypt", func(ctx context.Context, cl *kms.Client) error {
		resp, err := cl.DecryptWithContext(ctx, &kms.DecryptRequest{
			CiphertextBlob: tea.String(blob), EncryptionContext: sdkpool.KMSContext(encryptionContext)}, rt())
		if err != nil {
			return err
		}
		pt, err := base64.StdEncoding.DecodeString(tea.StringValue(resp.Body.Plaintext))
		if err != nil {
			return fmt.Errorf("Decrypt: plaintext is not base64")
		}
		keyID, plaintext = tea.StringValue(resp.Body.KeyId), pt
		return nil
	})
	return keyID, plaintext, err
}

// Encrypt encrypts a small plaintext (at most 6 KB) under keyID and returns
// the ciphertext blob and the key ID KMS used.
func (k *KMS) Encrypt(ctx context.Context, keyID string, plaintext []byte, encryptionContext map[string]string) (blob, usedKeyID string, err error) {
	err = k.pool.do(ctx, k.retry, "kms", "Encrypt", func(ctx context.Context, cl *kms.Client) error {
		resp, err := cl.EncryptWithContext(ctx, &kms.EncryptRequest{
			KeyId: tea.String(keyID), Plaintext: tea.String(base64.StdEncoding.EncodeToString(plaintext)),
			EncryptionContext: sdkpool.KMSContext(encryptionContext)}, rt())
		if err != nil {
			return err
		}
		if resp.Body == nil {
			return fmt.Errorf("Encrypt: empty response")
		}
		blob, usedKeyID = tea.StringValue(resp.Body.CiphertextBlob), tea.StringValue(resp.Body.KeyId)
		return nil
	})
	return blob, usedKeyID, err
}

// listKeysPageSize is ListKeys' largest page (kms.md: PageSize 1-100).
const listKeysPageSize = 100

// ListKeys returns the ARNs of every key of the caller's account in the
// client's region, reading every page.
func (k *KMS) ListKeys(ctx context.Context) ([]string, error) {
	var out []string
	for page := int32(1); ; page++ {
		var total int32
		var got []string
		err := k.pool.do(ctx, k.retry, "kms", "ListKeys", func(ctx context.Context, cl *kms.Client) error {
			resp, err := cl.ListKeysWithContext(ctx, &kms.ListKeysRequest{
				PageNumber: tea.Int32(page), PageSize: tea.Int32(listKeysPageSize)}, rt())
			if err != nil {
				return err
			}
			if resp.Body == nil {
				return fmt.Errorf("ListKeys: empty response")
			}
			got = got[:0]
			if resp.Body.Keys != nil {
				for _, key := range resp.Body.Keys.Key {
					if a := tea.StringValue(key.KeyArn); a != "" {
						got = append(got, a)
					} else {
						got = append(got, tea.StringValue(key.KeyId))
					}
				}
			}
			total = tea.Int32Value(resp.Body.TotalCount)
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if len(got) == 0 || int32(len(out)) >= total {
			return out, nil
		}
	}
}
