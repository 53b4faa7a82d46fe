package narrate

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/fakecloud"
)

func TestPrinter(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := New(&b)
	p.Printf("Title\n")
	p.Step("Plan: %s", "x")
	p.Block("line 1\n  line 2\n")
	p.Line("ok", "%s worked", "it")
	p.Step("Next")
	want := "Title\n\n1. Plan: x\n   line 1\n     line 2\n   ok       it worked\n\n2. Next\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}

	// Lines written from several goroutines stay whole.
	b.Reset()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); p.Line("waiting", "goroutine %02d", i) }()
	}
	wg.Wait()
	if n := bytes.Count(b.Bytes(), []byte("\n   waiting  goroutine ")); n != 19 {
		t.Errorf("%d whole lines after the first, want 19:\n%s", n, b.String())
	}
}

func TestRefusal(t *testing.T) {
	t.Parallel()
	sdk := &tea.SDKError{Code: tea.String("Forbidden.NoPermission"), StatusCode: tea.Int(403),
		Message: tea.String("denied"), Data: tea.String(`{"RequestId":"FAKE-1"}`)}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, "no refusal"},
		{"SDK error", fmt.Errorf("wrapped: %w", sdk), "KMS answers Forbidden.NoPermission (HTTP 403)"},
		{"emulator error", &fakecloud.Error{Status: 403, Code: "NoPermission"}, "STS answers NoPermission (HTTP 403)"},
		{"other", errors.New("boom"), "kms GenerateDataKey: request failed: boom"},
	} {
		service := "kms"
		if tc.name == "emulator error" {
			service = "sts"
		}
		if got := Refusal(service, "GenerateDataKey", tc.err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
