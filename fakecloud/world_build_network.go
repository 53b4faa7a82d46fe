package fakecloud

import (
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// The network settings of a world file's instance: the VPC it is created
// in, the bound VPCs, VPC-only access and the accounts whose Internet
// access is on (network.go).

// instanceNetwork checks an instance's quota and network fields and
// returns its options and the UIDs of the accounts whose Internet access
// is on.
//
// "vpcs" is one list, so there is no count beside it: each entry, an ID or
// an object, is one bound VPC and one unit of quota. Files written when
// the entries were only counted (InstanceOptions.VPCs, made-up IDs
// vpc-fake0001, …) load unchanged and use the same quota; the VPCs are now
// bound under the IDs the file gives.
func (b *worldBuilder) instanceNetwork(p string, wi worldInstance) (InstanceOptions, []string, error) {
	opts := InstanceOptions{Name: wi.Name, Quota: wi.Quota, KeyQuota: wi.KeyQuota, VPCOnly: wi.VPCOnly}
	if wi.VPC != "" {
		if !vpcID(wi.VPC) {
			return opts, nil, b.at(p+".vpc", "want a VPC ID such as \"vpc-bp1234567890abcdefghi\", found %q", wi.VPC)
		}
		opts.VPC = wi.VPC
	}
	vpcs := map[string]string{}
	for j, v := range wi.VPCs {
		vp := fmt.Sprintf("%s.vpcs[%d]", p, j)
		if !vpcID(v.ID) {
			return opts, nil, b.at(vp, "want a VPC ID such as \"vpc-bp1234567890abcdefghi\", found %q", v.ID)
		}
		if first, dup := vpcs[v.ID]; dup {
			return opts, nil, b.at(vp, "VPC %s is bound twice (first at %s)", v.ID, first)
		}
		if v.ID == wi.VPC {
			return opts, nil, b.at(vp, "VPC %s is the instance's own VPC; it needs no binding", v.ID)
		}
		vpcs[v.ID] = b.where(vp)
		if v.VSwitch != "" && (arn.Pasted(v.VSwitch) != nil || !strings.HasPrefix(v.VSwitch, "vsw-")) {
			return opts, nil, b.at(vp+".vSwitch", "want a vSwitch ID such as \"vsw-bp1234567890abcdefghi\", found %q", v.VSwitch)
		}
		bound := VPC{ID: v.ID, VSwitchID: v.VSwitch, Region: v.Region}
		if v.Region != "" {
			b.region(v.Region)
		}
		if v.Account != "" {
			a, err := b.account(vp+".account", v.Account)
			if err != nil {
				return opts, nil, err
			}
			bound.Owner = a.ID
		}
		opts.BindVPCs = append(opts.BindVPCs, bound)
	}
	if opts.Quota > 0 && len(opts.BindVPCs) > opts.Quota {
		return opts, nil, b.at(p+".vpcs", "%d bound VPCs exceed the access management quota %d", len(opts.BindVPCs), opts.Quota)
	}
	if len(wi.Internet) > 0 && !wi.VPCOnly {
		return opts, nil, b.at(p+".internet", "Internet access is switched per account only on a vpcOnly instance; without \"vpcOnly\": true every account has it")
	}
	var internet []string
	seen := map[string]string{}
	for j, name := range wi.Internet {
		ip := fmt.Sprintf("%s.internet[%d]", p, j)
		a, err := b.account(ip, name)
		if err != nil {
			return opts, nil, err
		}
		if first, dup := seen[name]; dup {
			return opts, nil, b.at(ip, "account %q is named twice (first at %s)", name, first)
		}
		seen[name] = b.where(ip)
		internet = append(internet, a.ID)
	}
	return opts, internet, nil
}

// vpcID reports whether s looks like a VPC ID (not a masked or pasted one).
func vpcID(s string) bool {
	return arn.Pasted(s) == nil && strings.HasPrefix(s, "vpc-") && len(s) > len("vpc-")
}
