package projection

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrSpaceGone means the pointer to the projection's live key space
// disappeared while Run followed the store: Redis lost its data (a
// memory-only server that restarted empty) or the keys were deleted. Run
// returns it; running again builds a new space from the start of the store.
var ErrSpaceGone = errors.New("projection key space is gone")

// watchSpace returns ctx, cancelled with ErrSpaceGone once the pointer to
// the live key space is gone, and a func that stops the watch. A step
// notices a missing pointer too, but only when an event arrives: a
// projection whose events are rare (prices, the catalog) would otherwise
// serve an empty model until its next one. While Redis cannot be asked the
// watch says nothing; the steps report that.
func (r *Runner) watchSpace(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(r.opts.SpaceCheck)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if n, err := r.rdb.Exists(ctx, r.pointerKey()).Result(); err == nil && n == 0 {
				cancel(fmt.Errorf("%w: %s is missing", ErrSpaceGone, r.pointerKey()))
				return
			}
		}
	}()
	return ctx, func() {
		cancel(nil)
		<-done
	}
}
