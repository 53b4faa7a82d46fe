package alicloud

import (
	"context"
	"fmt"
	"time"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// STS is the STS adapter.
type STS struct {
	pool  *pool[sts.Client]
	retry cloudapi.Retry
}

// Identity is what GetCallerIdentity reports.
type Identity struct {
	AccountID    string
	ARN          string
	IdentityType string // Account, RAMUser or AssumedRoleUser
}

// GetCallerIdentity reports who the credentials belong to. The SDK has no
// context-aware variant of this call, so ctx is checked only before it.
func (s *STS) GetCallerIdentity(ctx context.Context) (Identity, error) {
	var id Identity
	err := s.pool.do(ctx, s.retry, "sts", "GetCallerIdentity", func(ctx context.Context, cl *sts.Client) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		resp, err := cl.GetCallerIdentityWithOptions(rt())
		if err != nil {
			return err
		}
		id = Identity{AccountID: tea.StringValue(resp.Body.AccountId), ARN: tea.StringValue(resp.Body.Arn),
			IdentityType: tea.StringValue(resp.Body.IdentityType)}
		return nil
	})
	return id, err
}

// AssumeRoleInput are the parameters of AssumeRole.
type AssumeRoleInput struct {
	RoleARN     string
	SessionName string
	ExternalID  string        // "" for none
	Duration    time.Duration // 0 for STS's default (3600 s)
}

// AssumedRole is the result of AssumeRole.
type AssumedRole struct {
	Credentials Credentials
	ARN         string // acs:ram::<uid>:role/<role>/<session>
}

// AssumeRole gets temporary credentials for a role.
func (s *STS) AssumeRole(ctx context.Context, in AssumeRoleInput) (AssumedRole, error) {
	var out AssumedRole
	err := s.pool.do(ctx, s.retry, "sts", "AssumeRole", func(ctx context.Context, cl *sts.Client) error {
		req := &sts.AssumeRoleRequest{RoleArn: tea.String(in.RoleARN), RoleSessionName: tea.String(in.SessionName)}
		if in.ExternalID != "" {
			req.ExternalId = tea.String(in.ExternalID)
		}
		if in.Duration > 0 {
			req.DurationSeconds = tea.Int64(int64(in.Duration / time.Second))
		}
		resp, err := cl.AssumeRoleWithContext(ctx, req, rt())
		if err != nil {
			return err
		}
		if resp.Body == nil || resp.Body.Credentials == nil {
			return fmt.Errorf("AssumeRole: empty response")
		}
		c := resp.Body.Credentials
		exp, _ := time.Parse(time.RFC3339, tea.StringValue(c.Expiration))
		out.Credentials = NewCredentials(tea.StringValue(c.AccessKeyId), tea.StringValue(c.AccessKeySecret), tea.StringValue(c.SecurityToken), exp)
		if resp.Body.AssumedRoleUser != nil {
			out.ARN = tea.StringValue(resp.Body.AssumedRoleUser.Arn)
		}
		return nil
	})
	return out, err
}
