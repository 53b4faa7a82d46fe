package findings_test

import (
	"context"
	"fmt"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/findings"
)

// A security account shares one key with a member of its directory and one
// with a partner outside it; the scan finds the second, and the pipeline
// accepts it with a reason.
func Example() {
	cloud := fakecloud.New(fakecloud.Options{Clock: fakecloud.NewManualClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), Seed: 1})
	mgmt := cloud.NewAccount("management")
	rd, _ := cloud.NewResourceDirectory(mgmt)
	sec, app, partner := rd.Root().NewMember("security"), rd.Root().NewMember("app"), cloud.NewAccount("partner")
	partner.NewRole("reader", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+partner.ID+`:root"]}}]}`)
	auditor, _ := mgmt.NewUser("auditor", "AdministratorAccess")
	inst := sec.NewKMSInstance("cn-hangzhou", fakecloud.InstanceOptions{Quota: 10})
	for _, principal := range []string{"acs:ram::" + app.ID + ":role/resourcedirectoryaccountaccessrole", "acs:ram::" + partner.ID + ":role/reader"} {
		inst.NewKey(fakecloud.KeyOptions{DeletionProtection: true, AutomaticRotation: true,
			Policy: `{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + sec.ID + `:*"]},"Action":["kms:*"],"Resource":["*"]},` +
				`{"Effect":"Allow","Principal":{"RAM":["` + principal + `"]},"Action":["kms:Decrypt"],"Resource":["*"]}]}`})
	}

	config := func(region string) *openapi.Config { return cloud.Config(auditor.Credentials(), region) }
	target := findings.Target{Accounts: []string{sec.ID}, Regions: []string{"cn-hangzhou"}}
	rep, err := findings.Scan(context.Background(), config, target, findings.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Severity, f.Code, f.Statement.Pointer, f.Principal == "acs:ram::"+partner.ID+":role/reader")
	}
	fmt.Println("fails on warnings:", rep.Fails(findings.SeverityWarning))

	accepted := []findings.Acceptance{{Code: "outside-directory", Principal: "acs:ram::" + partner.ID + ":role/reader", Reason: "partner contract 42"}}
	rep, _ = findings.Scan(context.Background(), config, target, findings.Options{Accept: accepted})
	fmt.Println("after accepting:", len(rep.Findings), "findings,", len(rep.Accepted), "accepted; fails:", rep.Fails(findings.SeverityWarning))
	// Output:
	// security-warning outside-directory /Statement/1/Principal/RAM/0 true
	// fails on warnings: true
	// after accepting: 0 findings, 1 accepted; fails: false
}
