// Package app holds the order service's use cases. Each runs one Order
// command through es.Repository, so the HTTP handlers and the saga's event
// handlers share the same code and rules. Every use case returns the global
// position a reader can wait for to see its effect.
package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/services/order"
)

// ServiceName is the actor stamped on events when the context names none.
const ServiceName = "order"

// retries bounds how often a command is retried after a concurrency
// conflict before it surfaces as 409.
const retries = 3

// Catalog gives the current unit price of SKUs; unknown SKUs are absent
// from the answer.
type Catalog interface {
	Prices(ctx context.Context, skus []string) (order.Prices, error)
}

// Service runs order commands.
type Service struct {
	store   es.Store
	repo    *es.Repository[order.Order]
	catalog Catalog
}

// New returns the order use cases on store. reg must know the order events.
func New(store es.Store, reg *es.Registry, catalog Catalog) *Service {
	return &Service{store: store, repo: es.NewRepository(store, reg, order.Aggregate, retries), catalog: catalog}
}

// Placement is what placing an order returns.
type Placement struct {
	ID       string
	Position es.Position
}

// Place places a new order for customer, priced from the catalog. The order
// gets a fresh random id, which is also the correlation id of every event
// the order causes.
func (s *Service) Place(ctx context.Context, customer string, items []order.Item) (Placement, error) {
	return s.PlaceOnce(ctx, customer, "", items)
}

// placements is the namespace of order ids derived from a client's
// idempotency key.
var placements = es.UUID{0x6f, 0x72, 0x64, 0x6f, 0x2d, 0x70, 0x6c, 0x61, 0x63, 0x65, 0x2d, 0x6f, 0x72, 0x64, 0x65, 0x72}

// MaxKeyLength bounds an idempotency key.
const MaxKeyLength = 200

// PlaceOnce places an order whose id is derived from the customer and the
// client's idempotency key, so the same request sent again (a retry after a
// timeout or a crash) finds the order it already placed instead of placing
// a second one; the same key with other lines is a conflict. An empty key
// places a new order with a random id, as Place does.
func (s *Service) PlaceOnce(ctx context.Context, customer, key string, items []order.Item) (Placement, error) {
	if len(key) > MaxKeyLength {
		return Placement{}, &order.Error{Kind: order.ErrInvalid, Detail: fmt.Sprintf("idempotency key is %d bytes; the limit is %d", len(key), MaxKeyLength)}
	}
	prices, err := s.prices(ctx, items)
	if err != nil {
		return Placement{}, err
	}
	id := es.NewUUID().String()
	if key != "" {
		id = es.DerivedUUID(placements, customer+"\x00"+key).String()
	}
	out, err := s.repo.Execute(withOrder(ctx, id, true), id, func(o order.Order) ([]any, error) {
		return o.Place(customer, items, prices)
	})
	if err != nil {
		return Placement{}, fmt.Errorf("place order %s: %w", id, err)
	}
	if len(out.Events) == 0 { // placed before, by the same request
		pos, err := s.latest(ctx, id)
		return Placement{ID: id, Position: pos}, err
	}
	return Placement{ID: id, Position: out.Result.Position}, nil
}

// prices looks up the items' SKUs. A request the domain rejects by its
// item count alone is not looked up, so an oversized list costs nothing.
func (s *Service) prices(ctx context.Context, items []order.Item) (order.Prices, error) {
	if len(items) == 0 || len(items) > order.MaxLines {
		return order.Prices{}, nil
	}
	skus := make([]string, 0, len(items))
	for _, it := range items {
		if !slices.Contains(skus, it.SKU) {
			skus = append(skus, it.SKU)
		}
	}
	prices, err := s.catalog.Prices(ctx, skus)
	if err != nil {
		return nil, fmt.Errorf("price order: %w", err)
	}
	return prices, nil
}

// AnyCustomer, as RequestCancellation's customer, skips the ownership
// check (an admin acting on any order).
const AnyCustomer = ""

// RequestCancellation records customer's wish to cancel order id. An order
// of another customer is reported as not found, so ids cannot be probed.
// Asking again, or once cancelled, records nothing and returns the order's
// latest position.
func (s *Service) RequestCancellation(ctx context.Context, customer, id string) (es.Position, error) {
	return s.run(ctx, id, func(o order.Order) ([]any, error) {
		if customer != AnyCustomer && o.Exists() && o.CustomerID != customer {
			return nil, notFound(id)
		}
		return o.RequestCancellation()
	})
}

// Confirm confirms order id (the saga's last step).
func (s *Service) Confirm(ctx context.Context, id string) (es.Position, error) {
	return s.run(ctx, id, order.Order.Confirm)
}

// Cancel cancels order id for reason (the saga's compensation).
func (s *Service) Cancel(ctx context.Context, id string, reason order.Reason) (es.Position, error) {
	return s.run(ctx, id, func(o order.Order) ([]any, error) { return o.Cancel(reason) })
}

// run executes decide on an existing order and returns the position of its
// last event: the new one, or for a no-op the stream's latest.
func (s *Service) run(ctx context.Context, id string, decide func(order.Order) ([]any, error)) (es.Position, error) {
	if _, err := es.ParseUUID(id); err != nil {
		return es.Start, notFound(id) // Place only ever makes UUID ids
	}
	out, err := s.repo.Execute(withOrder(ctx, id, false), id, decide)
	if err != nil {
		return es.Start, fmt.Errorf("order %s: %w", id, err)
	}
	if len(out.Events) > 0 {
		return out.Result.Position, nil
	}
	return s.latest(ctx, id)
}

func (s *Service) latest(ctx context.Context, id string) (es.Position, error) {
	events, err := s.store.ReadStream(ctx, s.repo.StreamID(id), es.Backwards, es.End, 1)
	if errors.Is(err, es.ErrStreamNotFound) || (err == nil && len(events) == 0) {
		return es.Start, notFound(id)
	}
	if err != nil {
		return es.Start, fmt.Errorf("order %s: %w", id, err)
	}
	return events[0].Position, nil
}

// withOrder stamps the metadata every order event carries: the order id as
// correlation id (always for a new order; for later commands only when the
// caller, e.g. the saga with es.CausedBy, has not set one) and an actor.
func withOrder(ctx context.Context, id string, isNew bool) context.Context {
	md := es.MetadataFrom(ctx)
	if isNew || md.CorrelationID == "" {
		md.CorrelationID = id
	}
	if md.Actor == "" {
		md.Actor = ServiceName
	}
	return es.WithMetadata(ctx, md)
}

func notFound(id string) error {
	return &order.Error{Kind: order.ErrNotFound, Detail: fmt.Sprintf("order %s not found", id)}
}
