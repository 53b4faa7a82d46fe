package share

import (
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"
)

// NetworkPath is how a recipient's workloads reach the key.
type NetworkPath string

// The network paths.
const (
	// NetworkInternet is the shared gateway (kms.<region>.aliyuncs.com)
	// over the Internet: the instance's owner must turn on Internet access
	// for the recipient's account in the console. The default.
	NetworkInternet NetworkPath = "internet"
	// NetworkVPC is the shared gateway from a VPC
	// (kms-vpc.<region>.aliyuncs.com): nothing to set up.
	NetworkVPC NetworkPath = "vpc"
	// NetworkDedicated is the instance's dedicated gateway from a VPC of
	// the recipient, which must be bound to the instance
	// (UpdateKmsInstanceBindVpc, planned and applied by this package); it
	// costs a unit of the instance's access management quota.
	NetworkDedicated NetworkPath = "dedicated"
)

// Network is a recipient's network path to the key.
type Network struct {
	Path NetworkPath `json:"path,omitempty"` // "" means NetworkInternet
	// VPC is the recipient's VPC (vpc-…): required for NetworkDedicated,
	// optional for NetworkVPC.
	VPC string `json:"vpc,omitempty"`
	// VSwitch is a vSwitch of VPC (vsw-…), which the binding names:
	// required for NetworkDedicated. A VPC of another account than the
	// instance's can be bound only once the vSwitch is shared with the
	// instance's owner through Resource Sharing (not checked here).
	VSwitch string `json:"vswitch,omitempty"`
}

func (n *Network) path() NetworkPath {
	if n == nil || n.Path == "" {
		return NetworkInternet
	}
	return n.Path
}

// validateNetwork reports what is wrong with a recipient's network path.
func validateNetwork(n *Network) (field, value, reason string) {
	if n == nil {
		return "", "", ""
	}
	switch n.path() {
	case NetworkInternet:
		if n.VPC != "" || n.VSwitch != "" {
			return "network.vpc", n.VPC, "the internet path takes no VPC"
		}
	case NetworkVPC:
		if n.VPC != "" && !validID(n.VPC, "vpc-") {
			return "network.vpc", n.VPC, "want a VPC ID, vpc-…"
		}
		if n.VSwitch != "" {
			return "network.vswitch", n.VSwitch, "only the dedicated path binds a vSwitch"
		}
	case NetworkDedicated:
		if !validID(n.VPC, "vpc-") {
			return "network.vpc", n.VPC, "the dedicated path needs the recipient's VPC ID, vpc-…"
		}
		if !validID(n.VSwitch, "vsw-") {
			return "network.vswitch", n.VSwitch, "the dedicated path needs a vSwitch ID of the VPC, vsw-…"
		}
	default:
		return "network.path", string(n.Path), `unknown network path; want "internet", "vpc" or "dedicated"`
	}
	return "", "", ""
}

// validID checks a VPC or vSwitch ID: the prefix, then letters and digits.
func validID(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || rest == "" || len(id) > 64 {
		return false
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// NetworkTarget is where Verify's cryptographic calls as a recipient go.
type NetworkTarget struct {
	Account    string      // the recipient's account (the VPC's owner)
	Path       NetworkPath // never ""
	VPC        string      // the recipient's VPC, if any
	InstanceID string      // the key's KMS instance
	Region     string
	CA         string // the instance CA (PEM) for NetworkDedicated, if known
}

// defaultNetworkConfig points an SDK configuration at the target's gateway
// on real Alibaba Cloud: the shared gateway's VPC endpoint, or the
// instance's dedicated gateway with its CA. The process must run where the
// path starts (in the VPC) for the calls to get through.
func defaultNetworkConfig(t NetworkTarget, cfg *openapi.Config) {
	switch t.Path {
	case NetworkVPC:
		cfg.Endpoint = tea.String("kms-vpc." + t.Region + ".aliyuncs.com")
	case NetworkDedicated:
		cfg.Endpoint = tea.String(t.InstanceID + ".cryptoservice.kms.aliyuncs.com")
		if t.CA != "" {
			cfg.Ca = tea.String(t.CA)
		}
	}
}
