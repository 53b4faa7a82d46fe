package fakecloud

import (
	"fmt"
	"sync"
	"testing"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
)

// TestSetKeyPolicyLastWriterWins: concurrent writers of one key policy all
// succeed, and the policy ends as exactly one of them wrote it; the others'
// changes are lost, as with the real API, which has no revision check.
func TestSetKeyPolicyLastWriterWins(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, Options{})
			cfg := configFor(t, w.c, tr)
			// 32 writers, each granting a different user of the Security account.
			const n = 32
			docs := make([]string, n)
			for i := range docs {
				u := must(w.sec.NewUser(fmt.Sprintf("writer-%02d", i)))
				docs[i] = keyPolicy(w.sec.ID, []string{u.ARN})
			}
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					kc := newClients(t, cfg(w.secAdmin.Credentials())).kms
					errs <- setKeyPolicy(kc, w.key.ID, docs[i])
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			final := w.key.PolicyDocument()
			winners := 0
			for _, d := range docs {
				if d == final {
					winners++
				}
			}
			if winners != 1 {
				t.Errorf("final policy matches %d of the written documents, want exactly 1", winners)
			}
			if got := w.c.Log().Count(Match{Action: "SetKeyPolicy", Status: 200}); got != n {
				t.Errorf("%d successful SetKeyPolicy calls logged, want %d", got, n)
			}
		})
	}
}

// TestConcurrentClients: many real clients over both transports at once,
// reading and writing every part of the state, with faults injected. Run
// with -race; the checks are that nothing fails except by injected faults
// and that the log accounts for every call.
func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{Seed: 3})
	w.c.Faults().Add(Fault{Throttle: 0.1, Unavailable: 0.02})
	members := []*Account{w.app1, w.app2}
	const workers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	calls := 0
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := configFor(t, w.c, transports[i%2])
			m := members[i%2]
			check := func(err error) {
				mu.Lock()
				calls++
				mu.Unlock()
				if err != nil && !throttledOrUnavailable(errCode(err)) {
					t.Errorf("worker %d: %v", i, err)
				}
			}
			owner := newClients(t, cfg(w.secAdmin.Credentials()))
			home := newClients(t, cfg(m.RootCredentials()))
			for j := range 6 {
				g, err := owner.kms.GenerateDataKeyWithContext(ctxb(), &kms.GenerateDataKeyRequest{KeyId: tea.String(w.key.ID),
					EncryptionContext: map[string]interface{}{"worker": fmt.Sprint(i)}}, rt)
				check(err)
				if err == nil {
					_, err = owner.kms.DecryptWithContext(ctxb(), &kms.DecryptRequest{CiphertextBlob: g.Body.CiphertextBlob,
						EncryptionContext: map[string]interface{}{"worker": fmt.Sprint(i)}}, rt)
					check(err)
				}
				check(setKeyPolicy(owner.kms, w.key.ID, keyPolicy(w.sec.ID, []string{arn.ResourceDirectoryAccessRole(m.ID).String()})))
				name := tea.String(fmt.Sprintf("w%d-r%d", i, j))
				_, err = home.ram.CreateRoleWithContext(ctxb(), &ram.CreateRoleRequest{RoleName: name, AssumeRolePolicyDocument: tea.String(ecsTrust)}, rt)
				check(err)
				_, err = home.ram.AttachPolicyToRoleWithContext(ctxb(), &ram.AttachPolicyToRoleRequest{RoleName: name, PolicyName: tea.String("AliyunKMSFullAccess"), PolicyType: tea.String("System")}, rt)
				if errCode(err) != "EntityNotExist.Role" { // the create may have been faulted
					check(err)
				}
				_, err = home.ram.ListRolesWithContext(ctxb(), &ram.ListRolesRequest{}, rt)
				check(err)
				_, err = home.sts.GetCallerIdentity()
				check(err)
			}
		}()
	}
	wg.Wait()
	if got := w.c.Log().Count(Match{}); got < calls {
		t.Errorf("log has %d entries for at least %d calls", got, calls)
	}
	if w.c.Log().Count(Match{Code: "Throttling.User"})+w.c.Log().Count(Match{Code: "Rejected.Throttling"}) == 0 {
		t.Error("no throttling was injected")
	}
}

// throttledOrUnavailable reports whether code is an injected throttle or
// 503 of any service.
func throttledOrUnavailable(code string) bool {
	switch code {
	case "Throttling.User", "Rejected.Throttling", "ServiceUnavailable", "SerivceUnvailableTemporary":
		return true
	}
	return false
}
