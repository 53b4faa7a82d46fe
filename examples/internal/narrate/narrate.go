// Package narrate prints the workflow examples' stories: numbered steps,
// indented blocks (plans, results) and tagged lines ("ok", "refused",
// "waiting"). It is safe for concurrent use, because share reports progress
// from its own goroutines.
package narrate

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/kmsshare/kmsshare/fakecloud"
	"github.com/kmsshare/kmsshare/internal/cloudapi"
	"github.com/kmsshare/kmsshare/share"
)

// Printer writes a story to W.
type Printer struct {
	w    io.Writer
	mu   sync.Mutex
	step int
}

// New returns a Printer writing to w.
func New(w io.Writer) *Printer { return &Printer{w: w} }

// Printf writes free text.
func (p *Printer) Printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// Step starts the next numbered step.
func (p *Printer) Step(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step++
	fmt.Fprintf(p.w, "\n%d. %s\n", p.step, fmt.Sprintf(format, args...))
}

// Block writes text indented under the current step.
func (p *Printer) Block(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(p.w, "   %s\n", line)
	}
}

// Line writes one tagged line under the current step: "   ok       ...".
func (p *Printer) Line(tag, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "   %-8s %s\n", tag, fmt.Sprintf(format, args...))
}

// Refusal describes how the cloud refused a call, by its code and HTTP
// status (never the request ID, which differs on every run): "KMS answers
// Forbidden.NoPermission (HTTP 403)". Errors of raw SDK calls are
// classified first, as everywhere in kmsshare; the emulator's Go-level
// calls (a service assuming a role) return its own *fakecloud.Error.
func Refusal(service, action string, err error) string {
	if err == nil {
		return "no refusal"
	}
	var fe *fakecloud.Error
	if errors.As(err, &fe) {
		return fmt.Sprintf("%s answers %s (HTTP %d)", strings.ToUpper(service), fe.Code, fe.Status)
	}
	var ae *share.APIError
	if !errors.As(err, &ae) {
		err = cloudapi.Classify(service, action, err)
	}
	if errors.As(err, &ae) && ae.Code != "" {
		return fmt.Sprintf("%s answers %s (HTTP %d)", strings.ToUpper(ae.Service), ae.Code, ae.HTTPStatus)
	}
	return err.Error()
}
