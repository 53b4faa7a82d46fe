package realcloud

import (
	"fmt"
	"slices"
	"strings"
)

// regions are the region IDs of Alibaba Cloud's public cloud and its
// finance and government clouds, from Alibaba Cloud's "Regions and zones"
// and "Region IDs" documentation (alibabacloud.com/help/doc-detail/40654.htm,
// help.aliyun.com/en/drp/support/region-ids) and the per-product endpoint
// tables, as of December 2026. Regions Alibaba lists as closed or closing
// (ap-south-1, ap-southeast-2, cn-nanjing, cn-fuzhou) stay in the list:
// keys made there still have ARNs naming them. New regions open every
// year; the -allow-unknown-region flag of the examples is for those.
var regions = []string{
	// Mainland China and Hong Kong.
	"cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu",
	"cn-hangzhou", "cn-shanghai", "cn-nanjing", "cn-fuzhou", "cn-shenzhen", "cn-heyuan",
	"cn-guangzhou", "cn-chengdu", "cn-hongkong",
	// Asia Pacific.
	"ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ap-southeast-8", "ap-south-1",
	// Europe, the Americas, the Middle East.
	"eu-central-1", "eu-west-1", "us-west-1", "us-east-1", "us-southeast-1",
	"me-east-1", "me-central-1",
	// Finance and government clouds.
	"cn-hangzhou-finance", "cn-shanghai-finance-1", "cn-shenzhen-finance-1", "cn-beijing-finance-1",
	"cn-north-2-gov-1",
}

// Regions returns the Alibaba Cloud region IDs this package knows, sorted.
func Regions() []string {
	out := slices.Clone(regions)
	slices.Sort(out)
	return out
}

// KnownRegion reports whether id is one of Regions.
func KnownRegion(id string) bool { return slices.Contains(regions, id) }

// RegionProblem says why id is not a known Alibaba Cloud region, with the
// nearest known one when it looks like a typo; "" if it is known.
func RegionProblem(id string) string {
	if KnownRegion(id) {
		return ""
	}
	if lower := strings.ToLower(id); lower != id && KnownRegion(lower) {
		return fmt.Sprintf("not an Alibaba Cloud region; region IDs are lower case: %s", lower)
	}
	best, dist := "", 3 // suggest only close matches
	for _, r := range regions {
		if d := editDistance(id, r); d < dist {
			best, dist = r, d
		}
	}
	if best != "" {
		return fmt.Sprintf("not an Alibaba Cloud region; did you mean %s?", best)
	}
	return "not an Alibaba Cloud region (known regions: " + strings.Join(Regions(), ", ") + ")"
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
