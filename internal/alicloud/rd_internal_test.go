package alicloud

import (
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// TestDirectoryEndpoint: the Resource Directory client keeps an emulator's
// endpoint, replaces a real KMS endpoint (taken from a KMS client) by
// ResourceManager's central one, and picks its own without one.
func TestDirectoryEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ template, want string }{
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{"kms.cn-hangzhou.aliyuncs.com", rmEndpoint},
		{"kms-vpc.cn-shanghai.aliyuncs.com", rmEndpoint},
		{"", rmEndpoint},
	} {
		cfg := &openapi.Config{AccessKeyId: tea.String("id"), AccessKeySecret: tea.String("secret"), RegionId: tea.String("cn-hangzhou")}
		if tc.template != "" {
			cfg.Endpoint = tea.String(tc.template)
		}
		d, err := FactoryFromConfig(cfg, cloudapi.DefaultRetry()).Directory()
		if err != nil {
			t.Fatal(err)
		}
		cl, err := d.pool.get()
		if err != nil {
			t.Fatal(err)
		}
		if got := tea.StringValue(cl.Endpoint); got != tc.want {
			t.Errorf("template endpoint %q: resourcemanager endpoint %q, want %q", tc.template, got, tc.want)
		}
	}
}
