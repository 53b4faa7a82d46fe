package share

import (
	"context"
	"log/slog"
	"time"
)

// Event reports progress: a step of Plan, Apply or Revoke, or an attempt of
// Verify. Long waits for propagation show up as a series of verify events.
type Event struct {
	Time      time.Time `json:"time"`
	Phase     string    `json:"phase"`               // "plan", "apply", "verify", "inventory"
	Account   string    `json:"account,omitempty"`   // the account concerned
	Principal string    `json:"principal,omitempty"` // the recipient principal concerned
	Message   string    `json:"message"`
	Outcome   Outcome   `json:"outcome,omitempty"` // verify attempts only
	Attempt   int       `json:"attempt,omitempty"` // verify attempts only
	Err       error     `json:"-"`
}

func (c *Client) emit(ctx context.Context, ev Event) {
	if ev.Time.IsZero() {
		ev.Time = c.opts.Clock.Now()
	}
	if c.opts.Progress != nil {
		c.opts.Progress(ev)
	}
	if c.opts.Logger != nil {
		attrs := []slog.Attr{slog.String("phase", ev.Phase)}
		if ev.Account != "" {
			attrs = append(attrs, slog.String("account", ev.Account))
		}
		if ev.Principal != "" {
			attrs = append(attrs, slog.String("principal", ev.Principal))
		}
		if ev.Outcome != "" {
			attrs = append(attrs, slog.String("outcome", string(ev.Outcome)), slog.Int("attempt", ev.Attempt))
		}
		level := slog.LevelInfo
		if ev.Err != nil {
			attrs = append(attrs, slog.String("error", ev.Err.Error()))
			level = slog.LevelWarn
		}
		c.opts.Logger.LogAttrs(ctx, level, ev.Message, attrs...)
	}
}
