package sim

import (
	"context"
	"fmt"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
)

// ECSOutcome is how far ECS acting for an account got with a key (ECSUse).
type ECSOutcome int

const (
	// ECSFailed: something other than a refusal went wrong.
	ECSFailed ECSOutcome = iota
	// ECSRoleRefused: STS refused to let ECS assume the role.
	ECSRoleRefused
	// ECSKeyRefused: ECS assumed the role, but KMS refused the key.
	ECSKeyRefused
	// ECSKeyUsed: ECS assumed the role and used the key.
	ECSKeyUsed
)

func (o ECSOutcome) String() string {
	switch o {
	case ECSRoleRefused:
		return "refused by STS (AssumeRole)"
	case ECSKeyRefused:
		return "refused by KMS"
	case ECSKeyUsed:
		return "used the key"
	}
	return "failed"
}

// ECSCall is what ECS does with the key.
type ECSCall struct {
	Session string // the role session name
	Purpose string // the encryption context is {"purpose": Purpose}
	Decrypt bool   // decrypt the generated data key too
}

// ECSUse plays ECS acting for acct: it assumes role (an ARN) as the
// service ecs.aliyuncs.com of acct, then generates a data key with key,
// named by ARN, as ECS does for a new encrypted disk or a copied encrypted
// image, and with call.Decrypt decrypts it again. It returns how far ECS
// got and, unless it used the key, the error that stopped it: the cloud's
// refusal as returned (for narrate.Refusal and errors.As), or for
// ECSFailed another failure.
func ECSUse(ctx context.Context, cloud *fakecloud.Cloud, acct *fakecloud.Account, role string, key arn.ARN, call ECSCall) (ECSOutcome, error) {
	creds, err := acct.Service("ecs.aliyuncs.com").AssumeRole(role, call.Session, 0)
	if err != nil {
		return ECSRoleRefused, err
	}
	client, err := kms.NewClient(cloud.Config(creds, key.Region))
	if err != nil {
		return ECSFailed, err
	}
	rt := &dara.RuntimeOptions{}
	ec := map[string]any{"purpose": call.Purpose}
	dk, err := client.GenerateDataKeyWithContext(ctx, &kms.GenerateDataKeyRequest{KeyId: tea.String(key.String()), EncryptionContext: ec}, rt)
	if err == nil && call.Decrypt {
		_, err = client.DecryptWithContext(ctx, &kms.DecryptRequest{CiphertextBlob: dk.Body.CiphertextBlob, EncryptionContext: ec}, rt)
	}
	if err != nil {
		return ECSKeyRefused, err
	}
	return ECSKeyUsed, nil
}

// Check returns an error unless o is what ECS should get: the key used if
// admitted, a refusal (by STS or by KMS) if not.
func (o ECSOutcome) Check(admitted bool) error {
	if o != ECSFailed && (o == ECSKeyUsed) == admitted {
		return nil
	}
	want := "refused"
	if admitted {
		want = "admitted"
	}
	return fmt.Errorf("%s, but should have been %s", o, want)
}
