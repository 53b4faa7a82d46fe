package fakecloud

import (
	"context"
	"time"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

// Sleep methods make the emulator's clocks usable as the waiting clock of
// code under test (share.Options.Clock takes Now and Sleep), so that its
// polling and backoff run on emulator time too.

// Sleep advances the clock by d at once and returns ctx.Err(): a wait on a
// manual clock takes no real time. Several goroutines sleeping at once each
// advance the clock, so emulator time runs ahead of any single waiter.
func (c *ManualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// Sleep waits until d of the clock's time has passed: d divided by Scale of
// real time, or until ctx is done.
func (c *ScaledClock) Sleep(ctx context.Context, d time.Duration) error {
	return cloudapi.Sleep(ctx, time.Duration(float64(d)/c.scale))
}
