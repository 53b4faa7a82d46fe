package findings

import (
	"context"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/fakecloud"
)

const region = "cn-hangzhou"

// org is an emulated organisation: a Resource Directory with a prod and a
// sandbox folder, a security account holding the keys, an application
// account in prod, a sandbox account, a partner outside the directory and
// an account that left it.
type org struct {
	cloud   *fakecloud.Cloud
	auditor *fakecloud.User // in the management account
	sec     *fakecloud.Account
	prod    *fakecloud.Folder
	keys    map[string]*fakecloud.Key // by name in the test
	target  Target
}

func (o *org) config(region string) *openapi.Config {
	return o.cloud.Config(o.auditor.Credentials(), region)
}

// newOrg builds the organisation. With seeded true it holds one case of
// every finding; otherwise only clean shares.
func newOrg(t testing.TB, seeded bool) *org {
	t.Helper()
	ctx, rt := context.Background(), &dara.RuntimeOptions{}
	clock := fakecloud.NewManualClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	cloud := fakecloud.New(fakecloud.Options{Clock: clock, Seed: 14})
	mgmt := cloud.NewAccount("management")
	rd, err := cloud.NewResourceDirectory(mgmt)
	must(t, err)
	prod := rd.Root().NewFolder("prod")
	sandbox := rd.Root().NewFolder("sandbox")
	sec := prod.NewMember("security")
	app := prod.NewMember("app")
	o := &org{cloud: cloud, sec: sec, prod: prod, keys: map[string]*fakecloud.Key{}}
	o.auditor, err = mgmt.NewUser("auditor", "AdministratorAccess")
	must(t, err)
	o.target = Target{Accounts: []string{sec.ID}, Regions: []string{region}, TrustFolder: prod.ID}

	role := func(a *fakecloud.Account, name string) string {
		_, err := a.NewRole(name, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+a.ID+`:root"]}}]}`)
		must(t, err)
		return arn.RAMRole(a.ID, name).String()
	}
	keyPermission := func(a *fakecloud.Account, name, roleName string, statements ...string) {
		_, err := a.NewPolicy(name, `{"Version":"1","Statement":[`+strings.Join(statements, ",")+`]}`)
		must(t, err)
		r := fakecloud.Role{Account: a, Name: roleName}
		must(t, r.Attach(name))
	}
	allKeys := `"acs:kms:*:` + sec.ID + `:key/*"`
	owner := `{"Effect":"Allow","Principal":{"RAM":["acs:ram::` + sec.ID + `:*"]},"Action":["kms:*"],"Resource":["*"]}`
	grant := func(principal string, actions ...string) string {
		return `{"Sid":"Share","Effect":"Allow","Principal":{"RAM":["` + principal + `"]},"Action":["` + strings.Join(actions, `","`) + `"],"Resource":["*"]}`
	}
	doc := func(statements ...string) string {
		return `{"Version":"1","Statement":[` + strings.Join(statements, ",") + `]}`
	}
	inst := sec.NewKMSInstance(region, fakecloud.InstanceOptions{Name: "main", Quota: 10})
	newKey := func(name string, opts fakecloud.KeyOptions) {
		if opts.Spec == "" {
			opts.AutomaticRotation = !strings.HasPrefix(name, "norot")
		}
		opts.DeletionProtection = !strings.HasPrefix(name, "nodp")
		k, err := inst.NewKey(opts)
		must(t, err)
		o.keys[name] = k
	}

	appRole := role(app, "app")
	use := []string{"kms:Decrypt", "kms:GenerateDataKey"}
	newKey("clean", fakecloud.KeyOptions{Policy: doc(owner, grant(appRole, use...))})
	newKey("norot-private", fakecloud.KeyOptions{}) // not shared: nothing to report
	appPolicy := []string{`{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":[` + allKeys + `]}`}
	// A second instance; nearly full in the seeded organisation.
	quota := 10
	if seeded {
		quota = 2
	}
	inst2 := sec.NewKMSInstance(region, fakecloud.InstanceOptions{Name: "edge", Quota: quota, VPCs: 1})
	k, err := inst2.NewKey(fakecloud.KeyOptions{Policy: doc(owner, grant(appRole, use...)), DeletionProtection: true, AutomaticRotation: true})
	must(t, err)
	o.keys["quota"] = k

	if seeded {
		sandboxAccount := sandbox.NewMember("sandbox")
		partner := cloud.NewAccount("partner")
		left := rd.Root().NewMember("left")
		keyAdmin := role(sec, "key-admin")
		gone := role(app, "gone")
		half := role(app, "half")
		sbx := role(sandboxAccount, "sbx-app")
		newKey("outside", fakecloud.KeyOptions{Policy: doc(owner, grant(role(partner, "partner-app"), use...))})
		newKey("zone", fakecloud.KeyOptions{Policy: doc(owner, grant(sbx, use...))})
		newKey("left", fakecloud.KeyOptions{Policy: doc(owner, grant(arn.ResourceDirectoryAccessRole(left.ID).String(), use...))})
		must(t, rd.RemoveMember(left))
		newKey("gone", fakecloud.KeyOptions{Policy: doc(owner, grant(gone, use...))})
		newKey("half", fakecloud.KeyOptions{Policy: doc(owner, grant(half, use...))})
		newKey("ramonly", fakecloud.KeyOptions{Policy: doc(owner)})
		newKey("admin", fakecloud.KeyOptions{Policy: doc(owner, grant(appRole, "kms:Decrypt", "kms:SetKeyPolicy"))})
		newKey("wild", fakecloud.KeyOptions{Policy: doc(owner, grant(arn.AccountAll(app.ID).String(), use...))})
		newKey("ineffective", fakecloud.KeyOptions{Policy: doc(owner, grant(appRole, "kms:Decrypt", "kms:ReEncrypt"))})
		newKey("nodp", fakecloud.KeyOptions{Policy: doc(owner, grant(appRole, use...))})
		newKey("pending", fakecloud.KeyOptions{Policy: doc(owner, grant(appRole, use...))})
		newKey("disabled", fakecloud.KeyOptions{Policy: doc(owner, grant(appRole, use...))})
		newKey("norot", fakecloud.KeyOptions{Policy: doc(owner, grant(appRole, use...))})
		newKey("asymmetric", fakecloud.KeyOptions{Spec: "RSA_2048", Usage: "ENCRYPT/DECRYPT", Policy: doc(owner, grant(appRole, "kms:Decrypt"))})
		newKey("reshare", fakecloud.KeyOptions{Policy: doc(owner, grant(appRole, use...),
			`{"Sid":"Admin","Effect":"Allow","Principal":{"RAM":["`+keyAdmin+`"]},"Action":["kms:Describe*","kms:SetKeyPolicy"],"Resource":["*"]}`)})

		appPolicy = append(appPolicy, `{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["`+o.keys["ramonly"].ARN+`"]}`)
		keyPermission(app, "half-keys", "half", `{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":[`+allKeys+`]}`)
		keyPermission(sandboxAccount, "sbx-keys", "sbx-app", `{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":[`+allKeys+`]}`)

		// Changes made through the API, as people make them.
		appAdmin, err := app.NewUser("admin", "AdministratorAccess")
		must(t, err)
		ramClient, err := ram.NewClient(cloud.Config(appAdmin.Credentials(), region))
		must(t, err)
		_, err = ramClient.DeleteRoleWithContext(ctx, &ram.DeleteRoleRequest{RoleName: tea.String("gone")}, rt)
		must(t, err)
		secAdmin, err := sec.NewUser("admin", "AdministratorAccess")
		must(t, err)
		kmsClient, err := kms.NewClient(cloud.Config(secAdmin.Credentials(), region))
		must(t, err)
		_, err = kmsClient.ScheduleKeyDeletionWithContext(ctx, &kms.ScheduleKeyDeletionRequest{KeyId: tea.String(o.keys["pending"].ID), PendingWindowInDays: tea.Int32(7)}, rt)
		must(t, err)
		_, err = kmsClient.DisableKeyWithContext(ctx, &kms.DisableKeyRequest{KeyId: tea.String(o.keys["disabled"].ID)}, rt)
		must(t, err)
	}
	keyPermission(app, "app-keys", "app", appPolicy...)
	return o
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
