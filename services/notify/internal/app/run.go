package app

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/tracing"
)

// SubscriberName names the trigger subscription's checkpoint.
const SubscriberName = "notify-triggers"

// Runner runs the trigger subscription and the delivery worker.
type Runner struct {
	svc         *Service
	checkpoints es.Checkpoints
	due         DueLister
	subscribed  atomic.Bool
	// Park, set before Run, parks the triggers that cannot become a
	// notification (see park.go); without it they are logged and passed.
	Park *park.Lot
}

// NewRunner returns a Runner that resumes the subscription from checkpoints
// and finds due notifications through due.
func NewRunner(svc *Service, checkpoints es.Checkpoints, due DueLister) *Runner {
	return &Runner{svc: svc, checkpoints: checkpoints, due: due}
}

// Subscribed reports whether the trigger subscription is running (readiness).
func (r *Runner) Subscribed() bool { return r.subscribed.Load() }

// Run subscribes and delivers until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { r.subscribe(ctx) })
	wg.Go(func() { r.deliver(ctx) })
	wg.Wait()
}

// subscribe follows the store from the checkpoint; when the subscription
// fails (store down, a handler error) it starts again from the checkpoint
// after a pause.
func (r *Runner) subscribe(ctx context.Context) {
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := r.subscribeOnce(ctx)
		r.subscribed.Store(false)
		if ctx.Err() != nil {
			return
		}
		r.svc.log.Error("trigger subscription stopped; resuming from checkpoint", "err", err, "in", pause)
		if sleep(ctx, pause) != nil {
			return
		}
		pause = min(2*pause, 5*time.Second)
	}
}

func (r *Runner) subscribeOnce(ctx context.Context) error {
	from, err := r.checkpoints.Load(ctx, SubscriberName)
	if err != nil {
		return err
	}
	r.subscribed.Store(true)
	return r.svc.store.Subscribe(ctx, from, Triggers, tracing.Handler(SubscriberName, r.subscriber()))
}

// handle requests the notification of one trigger and hands it to the
// delivery worker; subscriber (park.go) saves the checkpoint after it. A
// crash before the checkpoint replays the trigger, and the request is then
// a no-op. A trigger that cannot become a notification fails permanently.
func (r *Runner) handle(ctx context.Context, e es.Event) error {
	t, err := r.svc.TriggerOf(ctx, e)
	var id string
	if err == nil {
		id, err = r.svc.Request(ctx, e, t)
	}
	switch {
	case errors.Is(err, errSkip) || isDomainInvalid(err):
		return es.Permanent(err)
	case err != nil:
		return err
	}
	r.svc.Kick(id)
	return nil
}

// Kick asks the delivery worker to try id now. It never blocks: when the
// queue is full the retry sweep finds id anyway.
func (s *Service) Kick(id string) {
	select {
	case s.kick <- id:
	default:
	}
}

// deliver is the delivery worker: it sends kicked notifications at once and
// sweeps the due list every RetryInterval.
func (r *Runner) deliver(ctx context.Context) {
	tick := time.NewTicker(r.svc.opts.RetryInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-r.svc.kick:
			_ = r.attempt(ctx, id) // failures are logged and backed off inside
		case <-tick.C:
			r.sweep(ctx)
		}
	}
}

// sweep retries every due notification whose backoff has passed. While the
// breaker is open it stops at the first refusal: the rest would be refused
// too.
func (r *Runner) sweep(ctx context.Context) {
	ids, err := r.due.Due(ctx)
	if err != nil {
		r.svc.log.Warn("list due notifications", "err", err)
		return
	}
	now := time.Now()
	for _, id := range ids {
		if ctx.Err() != nil || !r.svc.backoff.ready(id, now) {
			continue
		}
		if err := r.attempt(ctx, id); errors.Is(err, ErrBreakerOpen) {
			return
		}
	}
}

// attempt delivers one notification and schedules its next try on failure.
func (r *Runner) attempt(ctx context.Context, id string) error {
	_, err := r.svc.Deliver(ctx, id)
	switch {
	case errors.Is(err, errBusy):
		return nil
	case err != nil:
		if ctx.Err() == nil {
			r.svc.log.Warn("notification not delivered; will retry", "notification", id, "err", err)
		}
		r.svc.backoff.failed(id, time.Now())
		return err
	}
	r.svc.backoff.done(id) // Deliver logged the outcome in its span
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
