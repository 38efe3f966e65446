// Package saga runs the order-fulfilment saga (its pure domain is package
// services/order/saga): it subscribes to the order, stock and payment
// events, records the saga's decisions in the stream fulfilment-<orderID>,
// confirms or cancels the order through the order application service, and
// keeps the steps' deadlines on timers that are rebuilt from the saga
// streams at start-up.
//
// Exactly-once effect without a distributed transaction: every event the
// saga records in reaction to event E gets an id derived from E's id, and
// the domain records nothing for an observation it already holds, so
// handling E again (a replay after a crash, a runner restarted from an
// older checkpoint, a second replica) appends nothing. The order commands
// are idempotent and derived from the saga's state, so they are simply
// carried out again. The checkpoint is therefore saved after the effect
// (in the event store's database through es.Checkpoints) rather than in
// the same transaction: a crash in between replays a few events harmlessly,
// and the runner works on any es.Store backend. Orders are independent, so
// the runner handles several orders' events at once (es.Concurrent), each
// order's in order, and saves the checkpoint every 100 ms at the position
// up to which every event was handled.
package saga

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/services/order"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// DefaultName names the runner's checkpoint.
const DefaultName = "order-fulfilment-saga"

// Actor is stamped on the saga's events and the order commands it runs.
const Actor = "order-saga"

// Orders are the order commands the saga runs (*app.Service).
type Orders interface {
	Confirm(ctx context.Context, id string) (es.Position, error)
	Cancel(ctx context.Context, id string, reason order.Reason) (es.Position, error)
}

// Options configure a Runner.
type Options struct {
	// Name names the checkpoint (default DefaultName).
	Name string
	// Checkpoints stores the subscription's position (required).
	Checkpoints es.Checkpoints
	// Policy holds the deadlines.
	Policy flow.Policy
	// Workers is how many orders' events are handled at once (default 16).
	Workers int
	Log     *slog.Logger
	// Park, when set, parks the events the saga cannot process (see
	// park.go); without it they are logged and passed over.
	Park *park.Lot
}

// Runner runs the saga. Its methods are safe for concurrent use.
type Runner struct {
	store  es.Store
	repo   *es.Repository[flow.State]
	orders Orders
	opts   Options
	stats  *sagaMetrics
	tally  tally // Stats

	// locks serialize the decisions on one order in this process (the
	// subscription's workers and the deadline timers); replicas are kept
	// apart by optimistic concurrency.
	locks  [64]sync.Mutex
	states *states
	tmu    sync.Mutex
	timers map[string]*time.Timer
	runCtx context.Context
}

// NewRegistry returns a registry with the saga's events.
func NewRegistry() *es.Registry {
	r := es.NewRegistry()
	flow.Register(r)
	return r
}

// New returns a runner on store.
func New(store es.Store, orders Orders, opts Options) *Runner {
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Runner{store: store, repo: es.NewRepository(store, NewRegistry(), flow.Aggregate, 10), orders: orders, opts: opts,
		stats: processMetrics(), states: newStates(), timers: map[string]*time.Timer{}}
}

// Run arms the pending deadlines, then handles events from the stored
// checkpoint until ctx ends (nil) or a handler fails (its error: the
// caller restarts Run, which resumes from the checkpoint).
func (r *Runner) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer r.stopTimers()
	r.tmu.Lock()
	r.runCtx = ctx
	r.tmu.Unlock()
	if err := r.rearm(ctx); err != nil {
		return err
	}
	r.states.clear()
	sub := es.Concurrent{Name: r.opts.Name, Checkpoints: r.opts.Checkpoints, Key: orderKey, Workers: r.opts.Workers}
	err := sub.Run(ctx, r.store, es.Filter{Types: Observed}, tracing.Handler(r.opts.Name, r.subscriber()))
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// handle is the subscription's effect (subscriber, in park.go, wraps it;
// Run's es.Concurrent saves the checkpoint). ctx carries its span (see Run):
// what it appends and the order commands it runs carry that span's
// traceparent, so the order's trace goes on through the participants.
func (r *Runner) handle(ctx context.Context, e es.Event) error {
	orderID, obs, ok := translate(e.Type, e.Data)
	if !ok {
		return poison(e)
	}
	md := tracing.CausedBy(ctx, e, Actor)
	if md.CorrelationID == "" {
		md.CorrelationID = orderID
	}
	return r.process(ctx, orderID, e.ID, e.RecordedAt, obs, md)
}

// process decides on obs for the order, appends the decision with ids
// derived from trigger, carries out the order command the state calls for
// and arms its deadlines.
func (r *Runner) process(ctx context.Context, orderID string, trigger es.UUID, at time.Time, obs flow.Observation, md es.Metadata) error {
	if _, err := es.ParseUUID(orderID); err != nil {
		return nil // not an order id the order service makes: not ours
	}
	unlock := r.lock(orderID)
	defer unlock()
	ctx = es.WithMetadata(ctx, md)
	out, err := r.execute(ctx, orderID, func(s flow.State) []any {
		events := s.Decide(obs, at, r.opts.Policy)
		for i, ev := range events {
			events[i] = es.Identified{ID: es.DerivedUUID(trigger, fmt.Sprintf("fulfilment/%d", i)), Event: ev}
		}
		return events
	})
	if err != nil {
		return fmt.Errorf("saga %s: %w", orderID, err)
	}
	r.stats.observe(out.Events)
	if err := r.effect(ctx, orderID, out.State.Effect()); err != nil {
		return err
	}
	for step, due := range out.State.PendingDeadlines() {
		r.arm(orderID, step, due)
	}
	return nil
}

// effect runs the order command the state calls for. A conflict is an
// answer, not a failure: confirming an order whose customer asked to
// cancel is refused, and the saga learns of the request from the order's
// own event.
func (r *Runner) effect(ctx context.Context, orderID string, eff flow.Effect) error {
	var err error
	switch {
	case eff.Confirm:
		_, err = r.orders.Confirm(ctx, orderID)
	case eff.Cancel != "":
		_, err = r.orders.Cancel(ctx, orderID, order.Reason(eff.Cancel))
	default:
		return nil
	}
	var de *order.Error
	if errors.As(err, &de) && (de.Kind == order.ErrConflict || de.Kind == order.ErrNotFound) {
		r.opts.Log.InfoContext(ctx, "saga: order command refused", "order_id", orderID, "effect", eff, "err", err)
		return nil
	}
	return err
}

// deadlineNamespace derives the ids of deadline firings: one per order and
// step, so a deadline that fires twice (two replicas, a restart) appends
// once.
var deadlineNamespace = es.DerivedUUID(es.UUID{}, "ordo/order/fulfilment/deadline")

// arm sets a timer for the order's step unless one is set.
func (r *Runner) arm(orderID string, step flow.Step, due time.Time) {
	key := orderID + "/" + string(step)
	r.tmu.Lock()
	defer r.tmu.Unlock()
	if _, set := r.timers[key]; set || r.runCtx == nil {
		return
	}
	ctx := r.runCtx
	r.timers[key] = time.AfterFunc(time.Until(due), func() {
		md := es.Metadata{CorrelationID: orderID, CausationID: "deadline:" + string(step), Actor: Actor, SchemaVersion: 1}
		trigger := es.DerivedUUID(deadlineNamespace, key)
		if err := r.process(ctx, orderID, trigger, due, flow.Deadline{Step: step, At: due}, md); err != nil && ctx.Err() == nil {
			// The timer stays in the map until Run restarts, which re-arms it
			// from the stream: the deadline is not lost.
			r.opts.Log.Error("saga: deadline", "order_id", orderID, "step", step, "err", err)
			return
		}
		r.tmu.Lock()
		delete(r.timers, key)
		r.tmu.Unlock()
	})
}

func (r *Runner) stopTimers() {
	r.tmu.Lock()
	defer r.tmu.Unlock()
	for k, t := range r.timers {
		t.Stop()
		delete(r.timers, k)
	}
	r.runCtx = nil
}

// rearm reads every deadline of every saga and arms those still pending:
// the deadlines survive a restart because they are events.
func (r *Runner) rearm(ctx context.Context) error {
	filter := es.Filter{Categories: []string{flow.Category},
		Types: []string{flow.TypeDeadlineSet, flow.TypeDeadlinePassed, flow.TypeCompleted}}
	pending := map[string]map[flow.Step]time.Time{}
	reg := NewRegistry()
	for from := es.Start; ; {
		batch, err := r.store.ReadAll(ctx, from, filter, 500)
		if err != nil {
			return fmt.Errorf("saga: read deadlines: %w", err)
		}
		for _, e := range batch {
			from = e.Position
			orderID := strings.TrimPrefix(e.StreamID, flow.Category+"-")
			v, err := reg.Decode(e.Type, e.Data)
			if err != nil {
				return err
			}
			switch ev := v.(type) {
			case flow.DeadlineSet:
				if pending[orderID] == nil {
					pending[orderID] = map[flow.Step]time.Time{}
				}
				pending[orderID][ev.Step] = ev.At
			case flow.DeadlinePassed:
				delete(pending[orderID], ev.Step)
			case flow.Completed:
				delete(pending, orderID)
			}
		}
		if len(batch) < 500 {
			break
		}
	}
	for orderID, steps := range pending {
		for step, due := range steps {
			r.arm(orderID, step, due)
		}
	}
	return nil
}

// Armed returns how many deadline timers are set (for tests and metrics).
func (r *Runner) Armed() int {
	r.tmu.Lock()
	defer r.tmu.Unlock()
	return len(r.timers)
}
