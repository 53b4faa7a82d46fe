package share

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// backoff is cloudapi.Exponential with the Client's jitter: never less
// than half the nominal wait.
func (c *Client) backoff(base, ceiling time.Duration) cloudapi.Backoff {
	return cloudapi.Exponential(base, ceiling, c.jitter())
}

// jitter returns a random duration in [d/2, 3d/2) from Options.Rand, so that
// writers racing on one key do not retry in lock step.
func (c *Client) jitter() cloudapi.Jitter { return cloudapi.SpreadJitter(c.opts.Rand) }

// settleRoundTrips is how many of the longest read-modify-write round trips
// seen the settle delay stretches to (Options.SettleDelay).
const settleRoundTrips = 4

// settleDelay is the wait before a confirming re-read: base, or
// settleRoundTrips times the longest round trip if that is longer, plus a
// quarter to three quarters of it again from jitter, so that the window is
// never shorter than promised and racing writers do not wake in lock step.
func settleDelay(base, longestRoundTrip time.Duration, jitter func(time.Duration) time.Duration) time.Duration {
	d := base
	if m := settleRoundTrips * longestRoundTrip; m > d {
		d = m
	}
	return d + jitter(d)/2
}

// consistencyRetry also retries "not found": RAM entities are invisible
// for a while right after they are created.
func (c *Client) consistencyRetry(ctx context.Context, st Step) cloudapi.Retry {
	return c.consistencyRetryOn(ctx, st, func(err error) bool { return errors.Is(err, cloudapi.ErrNotFound) })
}

// consistencyRetryOn retries what check accepts, within
// Options.VisibilityWait, reporting each wait as a progress event. Only
// that: each call already retries what the retry policy retries
// (throttling, 5xx), and retrying that here too would multiply the
// attempts.
func (c *Client) consistencyRetryOn(ctx context.Context, st Step, check func(error) bool) cloudapi.Retry {
	r := c.opts.Retry
	start := c.opts.Clock.Now()
	r.MaxAttempts = 1 << 20 // bounded by VisibilityWait below
	r.Backoff = c.visibilityBackoff()
	r.Check = func(err error) bool {
		return check(err) && c.opts.Clock.Now().Sub(start) < c.opts.VisibilityWait
	}
	r.Sleep = func(ctx context.Context, d time.Duration) error {
		if rest := start.Add(c.opts.VisibilityWait).Sub(c.opts.Clock.Now()); d > rest {
			d = rest
		}
		c.emit(ctx, Event{Phase: "apply", Account: st.Account, Message: fmt.Sprintf(
			"%s: RAM does not show the change of a moment ago yet (eventual consistency); waiting %s", st, d.Round(time.Millisecond))})
		return c.opts.Clock.Sleep(ctx, d)
	}
	return r
}

// visibilityBackoff is the wait between attempts on an invisible principal.
func (c *Client) visibilityBackoff() cloudapi.Backoff { return c.backoff(time.Second, 15*time.Second) }

// visibilityWaiter decides, for a write refused with InvalidParameter,
// whether to wait for the principals to become visible.
type visibilityWaiter struct {
	c          *Client
	recipients []Recipient // the principals the write names; nil: never wait
	since      time.Time   // first refusal
	attempt    int
}

// refused is called with a refusal of SetKeyPolicy. It returns nil after
// waiting (the caller writes again), or the error to fail with.
func (w *visibilityWaiter) refused(ctx context.Context, account string, err error) error {
	if len(w.recipients) == 0 || !errors.Is(err, cloudapi.ErrInvalidParameter) {
		return err
	}
	missing, cerr := w.c.missingPrincipal(ctx, w.recipients)
	switch {
	case cerr != nil:
		return err
	case missing != "":
		return fmt.Errorf("%w: %s does not exist", err, missing)
	}
	now := w.c.opts.Clock.Now()
	if w.attempt == 0 {
		w.since = now
	}
	if waited := now.Sub(w.since); waited >= w.c.opts.VisibilityWait {
		return fmt.Errorf("%w (still refused after %s): %w", ErrNotYetVisible, waited.Round(time.Second), err)
	}
	w.attempt++
	d := min(w.c.visibilityBackoff()(w.attempt), w.since.Add(w.c.opts.VisibilityWait).Sub(now))
	w.c.emit(ctx, Event{Phase: "apply", Account: account, Err: err, Message: fmt.Sprintf(
		"the key policy refused principals that exist in RAM: created moments ago, KMS does not see them yet; waiting %s (up to %s in all)",
		d.Round(time.Millisecond), w.c.opts.VisibilityWait)})
	return w.c.opts.Clock.Sleep(ctx, d)
}

// deleteConflictRolePolicy is what DeletePolicy answers while a detach from
// a role is not yet visible to it (Terraform retries it the same way).
const deleteConflictRolePolicy = "DeleteConflict.Role.Policy"

// isCode reports whether err is an API error with code.
func isCode(err error, code string) bool {
	var e *cloudapi.Error
	return errors.As(err, &e) && e.Code == code
}

// parallel runs fn(0..n-1) with at most limit at once.
func parallel(ctx context.Context, limit, n int, fn func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}(i)
	}
	wg.Wait()
}

// maxVerifyErrors is how many failed checks in a row end a recipient's
// verification.
const maxVerifyErrors = 5

// defaultVisibilityWait is Options.VisibilityWait's default.
const defaultVisibilityWait = 2 * time.Minute

// RAM is eventually consistent: a role created moments ago exists for RAM
// (GetRole finds it) but SetKeyPolicy's principal check refuses it with
// InvalidParameter and AssumeRole with EntityNotExist.Role, exactly as if
// it did not exist, until it becomes visible (corrections.md §3;
// Terraform retries EntityNotExist.Role after creates). Apply and Verify
// tell the two apart by asking RAM, and wait out the first within
// Options.VisibilityWait.
