package projection

import (
	"context"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
)

// ParkName is the name under which a projection's parked events are kept:
// its key prefix and name, unique per Redis and stable.
func ParkName(prefix, name string) string { return prefix + name }

// handler is what Run subscribes with: the atomic step, through
// Options.Park when it is set. An event the step cannot apply for good
// (Apply's error is permanent: see park.IsPermanent) is parked, and the
// live space's checkpoint moves past it so WaitFor does not wait for it.
//
// Replaying a parked event rebuilds the projection (Rebuild): a read model
// folds events in order, and applying one late, after the events that
// followed it, could leave a different model than applying it in its
// place. The rebuild runs the fixed Apply over every event, the parked one
// in its place, while reads go on; it fails, and the event stays parked,
// while any event still cannot be applied.
func (r *Runner) handler() es.Handler {
	if r.opts.Park == nil {
		return r.step
	}
	return r.opts.Park.Handler(park.Subscriber{
		Name:   ParkName(r.opts.Prefix, r.proj.Name),
		Handle: r.step,
		After: func(ctx context.Context, e es.Event, parked bool) error {
			if !parked {
				return nil // the step moved the checkpoint with its writes
			}
			return r.pass(ctx, e)
		},
		Replay: func(ctx context.Context, _ es.Event) error { return r.Rebuild(ctx) },
	})
}

// pass moves the live space's checkpoint past e without applying it.
func (r *Runner) pass(ctx context.Context, e es.Event) error {
	return r.onLive(ctx, e, nil)
}
