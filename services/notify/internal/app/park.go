package app

import (
	"context"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
)

// subscriber is the handler the trigger subscription runs: handle through
// Runner.Park, the checkpoint saved after each trigger handled or parked.
// Triggers need no order among themselves, and replaying one is safe: the
// notification's id is derived from the order and kind, so a trigger
// replayed after its notification was requested (or sent) requests and
// sends nothing more.
func (r *Runner) subscriber() es.Handler {
	return r.Park.Handler(park.Subscriber{
		Name:   SubscriberName,
		Handle: r.handle,
		After: func(ctx context.Context, e es.Event, _ bool) error {
			return r.checkpoints.Save(ctx, SubscriberName, e.Position)
		},
	})
}
