package findings

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/fakecloud"
)

// BenchmarkScan: 200 keys in 2 instances with 300 grants to 100 distinct
// roles of 20 member accounts, every call delayed by 20 ms of real time.
// The target is a full scan in 15 s or less; calls/op must stay
// O(keys + distinct principals): about 2 per key plus 2 per principal.
//
//	go test ./findings -run '^$' -bench Scan -benchtime 1x
func BenchmarkScan(b *testing.B) {
	clock := fakecloud.NewManualClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	cloud := fakecloud.New(fakecloud.Options{Clock: clock, Seed: 200})
	mgmt := cloud.NewAccount("management")
	rd, err := cloud.NewResourceDirectory(mgmt)
	must(b, err)
	auditor, err := mgmt.NewUser("auditor", "AdministratorAccess")
	must(b, err)
	apps := rd.Root().NewFolder("apps")
	sec := rd.Root().NewMember("security")
	var roles []string
	for a := range 20 {
		acct := apps.NewMember(fmt.Sprintf("app-%02d", a))
		_, err := acct.NewPolicy("use-keys", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":["acs:kms:*:`+sec.ID+`:key/*"]}]}`)
		must(b, err)
		for r := range 5 {
			name := fmt.Sprintf("role-%d", r)
			_, err := acct.NewRole(name, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+acct.ID+`:root"]}}]}`, "use-keys")
			must(b, err)
			roles = append(roles, "acs:ram::"+acct.ID+":role/"+name)
		}
	}
	owner := `{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + sec.ID + `:*"]},"Action":["kms:*"],"Resource":["*"]}`
	grants := 0
	for i := range 2 {
		inst := sec.NewKMSInstance(region, fakecloud.InstanceOptions{Quota: 50})
		for k := range 100 {
			n := i*100 + k
			statements := []string{owner}
			if n < 150 { // 150 keys with 2 grants each: 300 grants
				p := []string{roles[n%len(roles)], roles[(n+37)%len(roles)]}
				grants += len(p)
				statements = append(statements, `{"Effect":"Allow","Principal":{"RAM":["`+strings.Join(p, `","`)+`"]},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":["*"]}`)
			}
			_, err := inst.NewKey(fakecloud.KeyOptions{Policy: `{"Version":"1","Statement":[` + strings.Join(statements, ",") + `]}`,
				DeletionProtection: true, AutomaticRotation: true})
			must(b, err)
		}
	}
	if grants != 300 {
		b.Fatalf("%d grants", grants)
	}
	cloud.Faults().Add(fakecloud.Fault{Latency: 20 * time.Millisecond})
	config := func(region string) *openapi.Config { return cloud.Config(auditor.Credentials(), region) }
	target := Target{Accounts: []string{sec.ID}, Regions: []string{region}}
	b.ResetTimer()
	var calls int
	for range b.N {
		mark := cloud.Log().Mark()
		start := time.Now()
		rep, err := Scan(context.Background(), config, target, Options{})
		if err != nil {
			b.Fatal(err)
		}
		wall := time.Since(start)
		calls = len(cloud.Log().Since(mark, fakecloud.Match{}))
		if len(rep.Keys) != 200 || len(rep.Principals) != 100 || len(rep.Findings) != 0 {
			b.Fatalf("%d keys, %d principals, %d findings", len(rep.Keys), len(rep.Principals), len(rep.Findings))
		}
		b.ReportMetric(wall.Seconds(), "wall-s/op")
		if b.N == 1 {
			perAction := map[string]int{}
			for _, e := range cloud.Log().Since(mark, fakecloud.Match{}) {
				perAction[e.Action]++
			}
			b.Logf("calls by action: %v", perAction)
		}
	}
	b.ReportMetric(float64(calls), "calls/op")
}
