package share

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// DefaultVisibilityWait is Options.VisibilityWait's default.
const DefaultVisibilityWait = 2 * time.Minute

// RAM is eventually consistent: a role created moments ago exists for RAM
// (GetRole finds it) but SetKeyPolicy's principal check refuses it with
// InvalidParameter and AssumeRole with EntityNotExist.Role, exactly as if
// it did not exist, until it becomes visible (corrections.md §3;
// Terraform retries EntityNotExist.Role after creates). Apply and Verify
// tell the two apart by asking RAM, and wait out the first within
// Options.VisibilityWait.

// visibilityBackoff is the wait between attempts on an invisible principal.
func (c *Client) visibilityBackoff() cloudapi.Backoff { return c.backoff(time.Second, 15*time.Second) }

// missingPrincipal returns the first recipient principal that RAM does not
// know (""), or the error of asking.
func (c *Client) missingPrincipal(ctx context.Context, recipients []Recipient) (string, error) {
	for _, r := range recipients {
		exists, err := c.principalExists(ctx, r)
		if err != nil {
			return "", err
		}
		if !exists {
			return r.PrincipalARN().String(), nil
		}
	}
	return "", nil
}

// principalExists asks RAM, in the recipient's account, whether its role
// or user exists.
func (c *Client) principalExists(ctx context.Context, r Recipient) (bool, error) {
	acct, err := c.account(ctx, r.Account, r.AccessRole)
	if err != nil {
		return false, err
	}
	name := r.roleOrUserName()
	if r.kind() == PrincipalUser {
		_, err = acct.RAM.GetUser(ctx, name)
	} else {
		_, err = acct.RAM.GetRole(ctx, name)
	}
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// ErrNotYetVisible is matched by the error of an Apply whose key policy
// write kept being refused for a principal that exists in RAM but that KMS
// did not see within Options.VisibilityWait.
var ErrNotYetVisible = errors.New("share: a principal created moments ago is not yet visible to KMS or STS")

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
