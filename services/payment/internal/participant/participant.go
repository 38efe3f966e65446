// Package participant is payment's part in the order-fulfilment saga. It
// subscribes to the saga's payment requests and runs them through the
// payment application service:
//
//	fulfilment.payment_requested   → Capture (the order id is the provider's idempotency key)
//	fulfilment.refund_requested    → Cancel: the cancel barrier; money captured before or after is refunded
//	fulfilment.reconcile_requested → Reconcile: ask the provider what became of the charge
//
// and it keeps reconciling, every interval, the payments it left without a
// final answer (outcome unknown, provider unavailable, refund failed) until
// the provider gives one. It never guesses and never charges twice: a
// charge is only ever repeated under the same idempotency key.
//
// Duplicates are harmless: the Payment aggregate makes a repeated request,
// cancel or capture a no-op, so the checkpoint is saved after the effect.
// Several orders' requests are handled at once, each order's in order
// (es.Concurrent).
package participant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/services/payment"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
)

// The saga's events this participant reads: the order service's published
// contract, named here so payment does not depend on the order module.
const (
	sagaCategory       = "fulfilment"
	paymentRequested   = "fulfilment.payment_requested"
	refundRequested    = "fulfilment.refund_requested"
	reconcileRequested = "fulfilment.reconcile_requested"
	completed          = "fulfilment.completed"
)

// Requests are the saga events the participant subscribes to.
var Requests = []string{paymentRequested, refundRequested, reconcileRequested}

// Name names the participant's checkpoint.
const Name = "payment-fulfilment"

// Actor is the metadata actor of the events the participant causes.
const Actor = "payment"

// Payments are the payment use cases (*app.Service).
type Payments interface {
	Capture(ctx context.Context, orderID string, amount money.Money) (app.Result, error)
	Reconcile(ctx context.Context, orderID string) (app.Result, error)
	Cancel(ctx context.Context, orderID string) (app.Result, error)
}

// Options configure a Participant.
type Options struct {
	// Checkpoints stores the subscription's position (required).
	Checkpoints es.Checkpoints
	// ReconcileEvery is how often open payments are reconciled [5s].
	ReconcileEvery time.Duration
	Log            *slog.Logger
	// Park, when set, parks the requests the participant cannot process
	// (see park.go); without it they are logged and passed over.
	Park *park.Lot
}

// Participant runs payment's part of the saga.
type Participant struct {
	store es.Store
	svc   Payments
	opts  Options

	mu sync.Mutex
	// open are the orders whose payment has no final answer yet.
	open map[string]bool
}

// New returns the participant.
func New(store es.Store, svc Payments, opts Options) *Participant {
	if opts.ReconcileEvery <= 0 {
		opts.ReconcileEvery = 5 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Participant{store: store, svc: svc, opts: opts, open: map[string]bool{}}
}

// Run finds the payments left open before a restart, then handles requests
// from the checkpoint and reconciles open payments until ctx ends (nil) or
// the subscription fails (its error; the caller restarts Run).
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
	wg.Go(func() { p.reconcileLoop(ctx) })
	sub := es.Concurrent{Name: Name, Checkpoints: p.opts.Checkpoints, Key: orderKey}
	err := sub.Run(ctx, p.store, es.Filter{Categories: []string{sagaCategory}, Types: Requests}, tracing.Handler(Name, p.subscriber()))
	if ctx.Err() != nil {
		return nil
	}
	return err
}

type request struct {
	OrderID string      `json:"order_id"`
	Amount  money.Money `json:"amount"`
}

// handle carries out one request; subscriber (park.go) wraps it, and
// Run's es.Concurrent saves the checkpoint.
func (p *Participant) handle(ctx context.Context, e es.Event) error {
	var r request
	if err := decode(e, &r); err != nil {
		return err
	}
	ctx = es.WithMetadata(ctx, tracing.CausedBy(ctx, e, Actor)) // the payment events continue this span's trace
	var res app.Result
	var err error
	switch e.Type {
	case paymentRequested:
		// A payment the saga has called off since (this participant was
		// down or behind) is not charged at all: the barrier goes first.
		off, rerr := p.calledOff(ctx, r.OrderID)
		switch {
		case rerr != nil:
			return rerr
		case off:
			res, err = p.svc.Cancel(ctx, r.OrderID)
		default:
			res, err = p.svc.Capture(ctx, r.OrderID, r.Amount)
		}
	case refundRequested:
		res, err = p.svc.Cancel(ctx, r.OrderID)
	case reconcileRequested:
		res, err = p.svc.Reconcile(ctx, r.OrderID)
	}
	if err := p.settle(ctx, r.OrderID, res, err); err != nil {
		return fmt.Errorf("%s for order %s: %w", e.Type, r.OrderID, err)
	}
	return nil
}

// calledOff reports whether the order's saga has already asked for the
// payment to be called off.
func (p *Participant) calledOff(ctx context.Context, orderID string) (bool, error) {
	events, err := p.store.ReadStream(ctx, es.StreamID(sagaCategory, orderID), es.Backwards, es.End, 100)
	if errors.Is(err, es.ErrStreamNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read saga of %s: %w", orderID, err)
	}
	for _, e := range events {
		if e.Type == refundRequested {
			return true, nil
		}
	}
	return false, nil
}

// settle notes whether the payment still needs reconciling. A provider
// failure or refusal leaves it open (the loop asks again); a domain
// refusal is final; any other error is returned.
func (p *Participant) settle(ctx context.Context, orderID string, res app.Result, err error) error {
	var de *payment.Error
	switch {
	case errors.Is(err, app.ErrProviderUnavailable), errors.Is(err, app.ErrProviderRejected):
		p.opts.Log.WarnContext(ctx, "payment participant: provider gave no answer; will reconcile", "order_id", orderID, "err", err)
		p.setOpen(orderID, true)
		return nil
	case errors.As(err, &de):
		p.opts.Log.WarnContext(ctx, "payment participant: request refused", "order_id", orderID, "err", err)
		p.setOpen(orderID, false)
		return nil
	case err != nil:
		return err
	}
	p.setOpen(orderID, !final(res))
	return nil
}

// final reports whether the payment needs nothing more: declined,
// refunded, captured and still wanted, or called off before any charge.
func final(r app.Result) bool {
	switch r.Status {
	case payment.StatusDeclined, payment.StatusRefunded:
		return true
	case payment.StatusCaptured:
		return !r.Cancelled
	case "":
		return r.Cancelled
	}
	return false
}

func (p *Participant) setOpen(orderID string, open bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if open {
		p.open[orderID] = true
	} else {
		delete(p.open, orderID)
	}
}

// Open returns the orders whose payment is being reconciled.
func (p *Participant) Open() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.open))
	for id := range p.open {
		out = append(out, id)
	}
	return out
}

func (p *Participant) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(p.opts.ReconcileEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.ReconcileOpen(ctx)
		}
	}
}

// ReconcileOpen asks the provider about every open payment once.
func (p *Participant) ReconcileOpen(ctx context.Context) {
	for _, id := range p.Open() {
		if ctx.Err() != nil {
			return
		}
		rctx := es.WithMetadata(ctx, es.Metadata{CorrelationID: id, CausationID: "reconcile", Actor: Actor, SchemaVersion: 1})
		res, err := p.svc.Reconcile(rctx, id)
		// A pending payment that was called off and that the provider has
		// not seen was never charged: nothing more to do.
		if err == nil && res.Status == payment.StatusPending && res.Cancelled {
			p.setOpen(id, false)
			continue
		}
		if err := p.settle(rctx, id, res, err); err != nil {
			p.opts.Log.WarnContext(rctx, "payment participant: reconcile", "order_id", id, "err", err)
		}
	}
}

// rebuild reopens, after a restart, the payments of sagas that have not
// completed: reconciling a settled payment is harmless and answers at once.
// It reads the saga category's payment requests and completions from the
// start (a demo's volume).
func (p *Participant) rebuild(ctx context.Context) error {
	filter := es.Filter{Categories: []string{sagaCategory}, Types: []string{paymentRequested, completed}}
	for from := es.Start; ; {
		batch, err := p.store.ReadAll(ctx, from, filter, 500)
		if err != nil {
			return err
		}
		for _, e := range batch {
			from = e.Position
			p.setOpen(strings.TrimPrefix(e.StreamID, sagaCategory+"-"), e.Type == paymentRequested)
		}
		if len(batch) < 500 {
			return nil
		}
	}
}
