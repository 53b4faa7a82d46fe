// Package realcloud connects the examples to real Alibaba Cloud through
// credentials-go's default chain, after checking, without any network
// access, that the chain has something to find. The chain's last resort is
// the ECS instance metadata service; probing it off an ECS instance costs
// seconds and ends in an obscure error, so Detect counts it only when the
// instance's RAM role is named in ALIBABA_CLOUD_ECS_METADATA.
package realcloud

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/internal/alicloud"
	"github.com/kmsshare/kmsshare/share"
)

// ErrNoCredentials means that none of the default chain's sources is
// configured.
var ErrNoCredentials = errors.New("no Alibaba Cloud credentials configured: set ALIBABA_CLOUD_ACCESS_KEY_ID and " +
	"ALIBABA_CLOUD_ACCESS_KEY_SECRET, write ~/.alibabacloud/credentials or ~/.aliyun/config.json (aliyun configure), " +
	"or on an ECS instance name its RAM role in ALIBABA_CLOUD_ECS_METADATA")

// Detect returns a description of the first source of credentials-go
// v1.4.14's default chain that is configured, in the chain's order:
// environment variables, OIDC, the Alibaba Cloud CLI's configuration file,
// the credentials file, an ECS instance RAM role named in
// ALIBABA_CLOUD_ECS_METADATA, a credentials URI. It reads only getenv and
// the file system; it reports false if nothing is configured.
func Detect(getenv func(string) string) (string, bool) {
	set := func(k string) bool { return getenv(k) != "" }
	disabled := func(k string) bool { return strings.EqualFold(getenv(k), "true") }
	home := getenv("HOME")
	if runtime.GOOS == "windows" {
		home = getenv("USERPROFILE")
	}
	file := func(env, rel string) string {
		p := getenv(env)
		if p == "" && home != "" {
			p = filepath.Join(home, rel)
		}
		if p == "" {
			return ""
		}
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			return ""
		}
		return p
	}
	switch {
	case set("ALIBABA_CLOUD_ACCESS_KEY_ID") && set("ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
		return "environment variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET", true
	case (set("ALIBABA_CLOUD_OIDC_TOKEN") || set("ALIBABA_CLOUD_OIDC_TOKEN_FILE")) &&
		set("ALIBABA_CLOUD_OIDC_PROVIDER_ARN") && set("ALIBABA_CLOUD_ROLE_ARN"):
		return "OIDC role " + getenv("ALIBABA_CLOUD_ROLE_ARN"), true
	}
	if !disabled("ALIBABA_CLOUD_CLI_PROFILE_DISABLED") {
		if p := file("ALIBABA_CLOUD_CONFIG_FILE", filepath.Join(".aliyun", "config.json")); p != "" {
			return "Alibaba Cloud CLI configuration " + p, true
		}
	}
	if p := file("ALIBABA_CLOUD_CREDENTIALS_FILE", filepath.Join(".alibabacloud", "credentials")); p != "" {
		return "credentials file " + p, true
	}
	if !disabled("ALIBABA_CLOUD_ECS_METADATA_DISABLED") && set("ALIBABA_CLOUD_ECS_METADATA") {
		return "RAM role " + getenv("ALIBABA_CLOUD_ECS_METADATA") + " of this ECS instance", true
	}
	if set("ALIBABA_CLOUD_CREDENTIALS_URI") {
		// Not the URI itself: it may carry a token.
		return "the credentials URI in ALIBABA_CLOUD_CREDENTIALS_URI", true
	}
	return "", false
}

// NewClient returns a share.Client for real Alibaba Cloud in region, with
// the default chain's credentials, and the source Detect found. It fails
// with ErrNoCredentials before any network access if nothing is configured.
func NewClient(getenv func(string) string, region string, optFns ...func(*share.Options)) (*share.Client, string, error) {
	cfg, source, err := Config(getenv, region)
	if err != nil {
		return nil, "", err
	}
	c, err := share.New(cfg, optFns...)
	if err != nil {
		return nil, "", err
	}
	return c, source, nil
}

// Config returns an SDK configuration for real Alibaba Cloud in region with
// the default chain's credentials, and the source Check found. Credentials
// that are missing or half configured fail before any network access
// (ErrNoCredentials, ErrIncompleteCredentials); then the chain is asked for
// them once (Load), so that unusable ones fail here too.
func Config(getenv func(string) string, region string) (*openapi.Config, string, error) {
	source, err := Check(getenv)
	if err != nil {
		return nil, "", err
	}
	cfg, err := alicloud.DefaultChainConfig(region)
	if err != nil {
		return nil, "", fmt.Errorf("realcloud: %w", err)
	}
	if _, _, err := Load(cfg); err != nil {
		return nil, "", err
	}
	return cfg, source, nil
}
