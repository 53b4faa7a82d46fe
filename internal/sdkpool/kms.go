package sdkpool

import (
	"context"
	"errors"
	"fmt"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// KMSCall makes one attempt of a KMS call on a client of its own from p:
// failures are classified by cloudapi, and a response without a body (as
// body extracts it) is an error. Callers wrap it in their retry policy.
func KMSCall[Req, Resp, Body any](ctx context.Context, p *Pool[kms.Client], action string,
	api func(*kms.Client, context.Context, Req, *dara.RuntimeOptions) (*Resp, error),
	req Req, rt *dara.RuntimeOptions, body func(*Resp) *Body) (*Body, error) {
	var resp *Resp
	err := p.Use(func(cl *kms.Client) (err error) {
		resp, err = api(cl, ctx, req, rt)
		return err
	})
	if err != nil {
		return nil, cloudapi.Classify("kms", action, err)
	}
	var out *Body
	if resp != nil {
		out = body(resp)
	}
	if out == nil {
		return nil, errors.New("kms " + action + ": empty response")
	}
	return out, nil
}

// KMSContext is an encryption context as the SDK's map: nil when empty, so
// that no EncryptionContext is sent; the SDK sends it as a JSON object.
func KMSContext(m map[string]string) map[string]any {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// CheckKeyID compares the KeyId that KMS echoes (the bare key ID, per the
// API reference, or possibly the ARN) with the key ARN asked for, and
// wraps mismatch when they differ. On Decrypt it is required: that is what
// stops a blob under a foreign key from passing for a trusted ARN.
func CheckKeyID(action, keyARN, echoed string, required bool, mismatch error) error {
	if echoed == "" {
		if required {
			return fmt.Errorf("kms %s: response names no KeyId, cannot confirm the key: %w", action, mismatch)
		}
		return nil
	}
	if echoed == keyARN {
		return nil
	}
	if a, err := arn.Parse(keyARN); err == nil && a.ResourceName() == echoed {
		return nil
	}
	return fmt.Errorf("kms %s: KMS used key %q: %w", action, echoed, mismatch)
}
