package main

import (
	"cmp"
	"io"
	"strings"
	"sync"

	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/share"
)

// story prints the workflow as it happens.
type story struct {
	*narrate.Printer
	name func(uid string) string
	key  string // the shared key's ID, set by run

	mu       sync.Mutex
	revoking bool
	refusals map[string]string // principal → the cloud's refusal, as seen by VerifyRevoked
}

func newStory(w io.Writer, name func(string) string) *story {
	return &story{Printer: narrate.New(w), name: name, refusals: map[string]string{}}
}

func (s *story) names(spec *share.Spec) string {
	var out []string
	for _, r := range spec.Recipients {
		out = append(out, s.name(r.Account))
	}
	return strings.Join(out, " and ")
}

// verified prints a line per recipient that verified (or, after a revoke,
// was refused), and the whole report if any did not.
func (s *story) verified(rep *share.VerifyReport, err error) error {
	if err != nil {
		return err
	}
	for _, r := range rep.Results {
		switch r.Outcome {
		case share.OutcomeOK:
			s.Line("ok", "%s encrypted and decrypted a data key with key %s", s.name(r.Account), s.key)
		case share.OutcomeRevoked:
			s.mu.Lock()
			why := cmp.Or(s.refusals[r.Principal], "the key policy no longer grants it")
			s.mu.Unlock()
			s.Line("refused", "%s is now refused: %s", s.name(r.Account), why)
		}
	}
	if err := rep.Err(); err != nil {
		s.Block(rep.String())
		return err
	}
	return nil
}

// progress prints a line per verification attempt that has to wait for
// propagation, and remembers how the cloud refused revoked members.
func (s *story) progress(ev share.Event) {
	if ev.Phase != "verify" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	who := s.name(ev.Account)
	switch {
	case ev.Outcome == share.OutcomeNotYetPropagated && s.revoking:
		s.Line("waiting", "%s, attempt %d: can still use the key; the revoke has not reached it yet", who, ev.Attempt)
	case ev.Outcome == share.OutcomeNotYetPropagated:
		s.Line("waiting", "%s, attempt %d: refused although both policies allow it; the change has not reached it yet", who, ev.Attempt)
	case ev.Outcome == share.OutcomeRevoked && ev.Err != nil:
		// The code, not the operation: which call of the attempt met the
		// revoke first depends on timing.
		s.refusals[ev.Principal] = narrate.Refusal("kms", "", ev.Err)
	}
}
