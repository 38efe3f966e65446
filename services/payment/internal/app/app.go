// Package app holds the payment service's use cases: capture, reconcile,
// refund and cancel a payment. Each runs the Payment aggregate's commands
// through es.Repository and talks to the payment provider in between, so the
// HTTP handlers and the saga's event handlers share one implementation.
//
// Money safety rests on three things: the order id is the provider's
// idempotency key (a repeat can never charge twice); every answer the
// provider gives is recorded before anything else happens; and an answer
// that never came is recorded as unknown and resolved by asking the
// provider (Reconcile), never by guessing.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/services/payment"
	"github.com/ordo-platform/ordo/services/payment/internal/provider"
)

// Errors about the provider; test with errors.Is.
var (
	// ErrProviderUnavailable: the provider gave no decisive answer; nothing
	// new is known and trying again later is safe.
	ErrProviderUnavailable = errors.New("payment provider unavailable")
	// ErrProviderRejected: the provider refused the request.
	ErrProviderRejected = errors.New("payment provider rejected the request")
)

// Actor is the metadata actor of events the service records on its own.
const Actor = "payment"

// Provider is the payment provider as the use cases need it
// (*provider.Client in production).
type Provider interface {
	Charge(ctx context.Context, key string, amount money.Money) (provider.Outcome, error)
	Lookup(ctx context.Context, key string) (provider.Outcome, bool, error)
	Refund(ctx context.Context, key, chargeID string) (string, error)
}

// opTimeout bounds one use case. Use cases are detached from the caller's
// cancellation: once a charge may be in flight its outcome must be recorded
// even if the HTTP client hung up.
const opTimeout = 60 * time.Second

// Service runs the payment use cases.
type Service struct {
	repo  *es.Repository[payment.Payment]
	store es.Store
	prov  Provider
	log   *slog.Logger
}

// New returns the service. registry must have the payment events registered.
func New(store es.Store, registry *es.Registry, prov Provider, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	// Concurrent duplicate calls for one order conflict on its stream; the
	// bound is generous because each retry is cheap and the domain makes
	// repeats no-ops.
	return &Service{repo: es.NewRepository(store, registry, payment.Aggregate, 20), store: store, prov: prov, log: log}
}

// Result is a payment after a use case.
type Result struct {
	OrderID string
	// Position is that of the payment stream's last event, for
	// read-your-writes (zero when the stream has none).
	Position es.Position
	// Status is "" when the payment was called off before it was requested.
	Status        payment.Status
	ProviderRef   string
	DeclineReason string
	RefundRef     string
	Cancelled     bool
}

// Capture requests amount for the order and charges it, recording the
// provider's answer. Repeating it is safe: a captured, declined or refunded
// payment is returned as it is without calling the provider, an unknown one
// is reconciled, and a cancelled one is not charged.
func (s *Service) Capture(ctx context.Context, orderID string, amount money.Money) (Result, error) {
	ctx, cancel := s.detach(ctx, orderID)
	defer cancel()
	out, err := s.repo.Execute(ctx, orderID, func(p payment.Payment) ([]any, error) { return p.Request(amount) })
	if err != nil {
		return Result{}, fmt.Errorf("request payment for %s: %w", orderID, err)
	}
	p := out.State
	switch {
	case p.Chargeable():
		p, err = s.charge(ctx, p)
	case p.Status == payment.StatusUnknown:
		p, err = s.resolve(ctx, p)
	}
	if err != nil {
		return Result{}, err
	}
	return s.finish(ctx, p)
}

// Reconcile finds out what became of a payment whose outcome is unknown (or
// still pending) by asking the provider, and settles a refund that is due.
// A charge the provider has never seen is made again under the same
// idempotency key, which is safe: if the first attempt lands late the
// provider returns that one.
func (s *Service) Reconcile(ctx context.Context, orderID string) (Result, error) {
	ctx, cancel := s.detach(ctx, orderID)
	defer cancel()
	p, err := s.load(ctx, orderID)
	if err != nil {
		return Result{}, err
	}
	if p.Status == payment.StatusPending || p.Status == payment.StatusUnknown {
		if p, err = s.resolve(ctx, p); err != nil {
			return Result{}, err
		}
	}
	return s.finish(ctx, p)
}

// Refund gives a captured payment's money back, once.
func (s *Service) Refund(ctx context.Context, orderID string) (Result, error) {
	ctx, cancel := s.detach(ctx, orderID)
	defer cancel()
	p, err := s.load(ctx, orderID)
	if err != nil {
		return Result{}, err
	}
	switch p.Status {
	case payment.StatusRefunded:
	case payment.StatusCaptured:
		if p, err = s.refund(ctx, p); err != nil {
			return Result{}, err
		}
	default:
		return Result{}, &payment.Error{Kind: payment.ErrConflict,
			Detail: fmt.Sprintf("payment for order %s is %s; only a captured payment can be refunded", orderID, p.Status)}
	}
	return s.result(ctx, p)
}

// Cancel calls the payment off (the saga's compensation). It always records
// the barrier; money already captured, or captured later, is refunded.
func (s *Service) Cancel(ctx context.Context, orderID string) (Result, error) {
	ctx, cancel := s.detach(ctx, orderID)
	defer cancel()
	out, err := s.repo.Execute(ctx, orderID, func(p payment.Payment) ([]any, error) { return p.Cancel() })
	if err != nil {
		return Result{}, fmt.Errorf("cancel payment for %s: %w", orderID, err)
	}
	return s.finish(ctx, out.State)
}

// detach gives a use case its own deadline and the event metadata defaults
// (correlation id = order id, actor = this service).
func (s *Service) detach(ctx context.Context, orderID string) (context.Context, context.CancelFunc) {
	md := es.MetadataFrom(ctx)
	if md.CorrelationID == "" {
		md.CorrelationID = orderID
	}
	if md.Actor == "" {
		md.Actor = Actor
	}
	ctx = es.WithMetadata(context.WithoutCancel(ctx), md)
	return context.WithTimeout(ctx, opTimeout)
}

// load returns a requested payment, or a not-found error.
func (s *Service) load(ctx context.Context, orderID string) (payment.Payment, error) {
	snap, err := s.repo.Load(ctx, orderID)
	if err != nil {
		return payment.Payment{}, fmt.Errorf("load payment %s: %w", orderID, err)
	}
	if !snap.State.Requested() && !snap.State.Cancelled {
		return payment.Payment{}, &payment.Error{Kind: payment.ErrNotFound, Detail: "no payment requested for order " + orderID}
	}
	return snap.State, nil
}

// finish settles a refund that is due and returns the result.
func (s *Service) finish(ctx context.Context, p payment.Payment) (Result, error) {
	if p.RefundDue() {
		var err error
		if p, err = s.refund(ctx, p); err != nil {
			return Result{}, err
		}
	}
	return s.result(ctx, p)
}

func (s *Service) result(ctx context.Context, p payment.Payment) (Result, error) {
	pos, err := s.head(ctx, p.OrderID)
	if err != nil {
		return Result{}, err
	}
	return Result{OrderID: p.OrderID, Position: pos, Status: p.Status, ProviderRef: p.ProviderRef,
		DeclineReason: p.DeclineReason, RefundRef: p.RefundRef, Cancelled: p.Cancelled}, nil
}

// head returns the position of the payment stream's last event.
func (s *Service) head(ctx context.Context, orderID string) (es.Position, error) {
	events, err := s.store.ReadStream(ctx, s.repo.StreamID(orderID), es.Backwards, es.End, 1)
	if errors.Is(err, es.ErrStreamNotFound) || (err == nil && len(events) == 0) {
		return es.Start, nil
	}
	if err != nil {
		return es.Start, fmt.Errorf("read payment %s: %w", orderID, err)
	}
	return events[0].Position, nil
}
