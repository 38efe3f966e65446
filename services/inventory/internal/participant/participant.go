// Package participant is inventory's part in the order-fulfilment saga. It
// subscribes to the saga's stock requests (fulfilment.reservation_requested,
// stock_secure_requested, release_requested, stock_commit_requested) and
// runs them per line through the inventory application service, and it
// lets reservations lapse after a TTL (stock.reservation_expired), which the
// saga treats like a release. A secured reservation no longer lapses; the
// Stock aggregate decides between a secure and an expiry, so exactly one
// of them wins, and the saga confirms an order only once every line is
// secured.
//
// Duplicates and reorderings are harmless because the Stock aggregate gives
// barrier semantics: reserving again is a no-op, a release that overtook its
// reserve leaves a barrier that makes the reserve a no-op, committing again
// is a no-op. So the checkpoint is saved after the effect: a crash in
// between replays a request, which then changes nothing. Several orders'
// requests are handled at once, each order's in order (es.Concurrent).
package participant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/inventory/internal/app"
)

// The saga's events this participant reads: the order service's published
// contract, named here so inventory does not depend on the order module.
const (
	sagaCategory         = "fulfilment"
	reservationRequested = "fulfilment.reservation_requested"
	releaseRequested     = "fulfilment.release_requested"
	secureRequested      = "fulfilment.stock_secure_requested"
	commitRequested      = "fulfilment.stock_commit_requested"
	confirmRequested     = "fulfilment.confirm_requested"
	completed            = "fulfilment.completed"
)

// Requests are the saga events the participant subscribes to.
var Requests = []string{reservationRequested, secureRequested, releaseRequested, commitRequested}

// Name names the participant's checkpoint.
const Name = "inventory-fulfilment"

// Actor is the metadata actor of the events the participant causes.
const Actor = "inventory"

// DefaultTTL is how long a reservation is held when Options.TTL is zero.
const DefaultTTL = 2 * time.Minute

// Options configure a Participant.
type Options struct {
	// Checkpoints stores the subscription's position (required).
	Checkpoints es.Checkpoints
	// TTL is how long after the saga asked for it a reservation is held
	// while the saga has neither committed nor released it.
	TTL time.Duration
	// Sweep is how often due reservations are expired (default TTL/4,
	// at most 10s).
	Sweep time.Duration
	Log   *slog.Logger
	// Park, when set, parks the requests the participant cannot process
	// (see park.go); without it they are logged and passed over.
	Park *park.Lot
	// Reject lists SKUs whose requests the participant refuses as
	// unprocessable: a fault to inject, so that tests can produce a parked
	// request and its replay after the "fix" (a restart without it).
	Reject []string
}

// Participant runs inventory's part of the saga.
type Participant struct {
	store es.Store
	svc   *app.Service
	opts  Options

	mu sync.Mutex
	// held are the orders whose reservations may lapse, with their lines
	// and the time they lapse.
	held map[string]hold
}

type hold struct {
	due  time.Time
	skus []string
}

// request is the part of a saga request the participant reads.
type request struct {
	OrderID string `json:"order_id"`
	Lines   []struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	} `json:"lines"`
}

// New returns the participant.
func New(store es.Store, svc *app.Service, opts Options) *Participant {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Sweep <= 0 {
		opts.Sweep = min(opts.TTL/4, 10*time.Second)
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Participant{store: store, svc: svc, opts: opts, held: map[string]hold{}}
}

// Run rebuilds the held reservations, then handles requests from the
// checkpoint and expires due reservations until ctx ends (nil) or the
// subscription fails (its error; the caller restarts Run).
func (p *Participant) Run(ctx context.Context) error {
	if err := p.rebuild(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// Deferred in this order so that cancel runs first: when the
	// subscription fails, Run must end the loop before it waits for it.
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { p.sweep(ctx) })
	sub := es.Concurrent{Name: Name, Checkpoints: p.opts.Checkpoints, Key: orderKey}
	err := sub.Run(ctx, p.store, es.Filter{Categories: []string{sagaCategory}, Types: Requests}, tracing.Handler(Name, p.subscriber()))
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// handle carries out one request; subscriber (park.go) wraps it, and
// Run's es.Concurrent saves the checkpoint.
func (p *Participant) handle(ctx context.Context, e es.Event) error {
	var r request
	if err := decode(e, &r); err != nil {
		return err
	}
	if err := p.refused(r); err != nil {
		return err
	}
	ctx = es.WithMetadata(ctx, tracing.CausedBy(ctx, e, Actor)) // the stock events continue this span's trace
	for _, l := range r.Lines {
		var err error
		switch e.Type {
		case reservationRequested:
			_, err = p.svc.Reserve(ctx, r.OrderID, l.SKU, l.Quantity)
		case secureRequested:
			_, err = p.svc.Secure(ctx, r.OrderID, l.SKU)
		case releaseRequested:
			_, err = p.svc.Release(ctx, r.OrderID, l.SKU)
		case commitRequested:
			_, err = p.svc.Commit(ctx, r.OrderID, l.SKU)
		}
		if err := p.judge(ctx, e, r.OrderID, l.SKU, err); err != nil {
			return err
		}
	}
	p.track(e.Type, r, e.RecordedAt)
	return nil
}

// judge lets a domain refusal pass (logged: retrying cannot change it) and
// returns any other error, which stops the subscription to be retried.
func (p *Participant) judge(ctx context.Context, e es.Event, orderID, sku string, err error) error {
	var de *inventory.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		p.opts.Log.WarnContext(ctx, "inventory participant: request refused", "type", e.Type, "order_id", orderID, "sku", sku, "err", err)
		return nil
	}
	return fmt.Errorf("%s for order %s, sku %s: %w", e.Type, orderID, sku, err)
}

// track notes a reservation that may lapse, or forgets one the saga
// committed or released.
func (p *Participant) track(typ string, r request, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch typ {
	case reservationRequested:
		skus := make([]string, len(r.Lines))
		for i, l := range r.Lines {
			skus[i] = l.SKU
		}
		p.held[r.OrderID] = hold{due: at.Add(p.opts.TTL), skus: skus}
	default:
		delete(p.held, r.OrderID)
	}
}

// Held returns how many orders hold reservations that may lapse.
func (p *Participant) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.held)
}
