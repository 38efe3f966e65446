// Package app holds the inventory's application services: each runs one
// domain command through es.Repository, retrying a bounded number of times
// on a concurrency conflict, and returns the global position a reader can
// wait for. HTTP handlers and the saga's event handlers call the same code.
package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ordo-platform/ordo/pkg/es"

	"github.com/ordo-platform/ordo/services/inventory"
)

// Actor is stamped on events written without a caller's identity (seeding,
// the saga's reactions).
const Actor = "inventory"

// DefaultRetries is how often a command is decided again after a conflict
// when Options.Retries is zero.
const DefaultRetries = 10

// Options tune a Service.
type Options struct {
	// Retries bounds how often a command is decided again after a
	// concurrency conflict before the conflict surfaces (default 10). In
	// one process commands on a SKU are serialized, so conflicts come only
	// from other replicas; each retry waits a short random while so that
	// one replica's stream of commands cannot starve another's.
	Retries int
}

// Service runs inventory commands against an event store.
type Service struct {
	store    es.Store
	retries  int
	products *es.Repository[inventory.Product]
	stock    *es.Repository[inventory.Stock]
	locks    keyedLock
	// known caches SKUs found in the catalog: products are never removed,
	// so a stock command checks the catalog once per SKU and process.
	known sync.Map
}

// NewRegistry returns a registry with every inventory event.
func NewRegistry() *es.Registry {
	r := es.NewRegistry()
	inventory.Register(r)
	return r
}

// New returns a Service on store.
func New(store es.Store, opts Options) *Service {
	if opts.Retries <= 0 {
		opts.Retries = DefaultRetries
	}
	reg := NewRegistry()
	return &Service{
		store:   store,
		retries: opts.Retries,
		// The repositories do not retry themselves: execute does, with a
		// pause between attempts.
		products: es.NewRepository(store, reg, inventory.ProductAggregate, 0),
		// A SKU's stock stream grows with every order: the cache keeps
		// a load at the cost of the events since the last one.
		stock: es.NewRepository(store, reg, inventory.StockAggregate, 0).WithCache(4096),
	}
}

// Result is what a write did: the position of the stream's last event,
// which readers pass as min_position to see the write. A command that
// changed nothing returns the position of the event that already holds its
// effect, so a retried request can read its own write too.
type Result struct {
	Position es.Position
}

// Reservation is the answer to Reserve: where the order's reservation of the
// SKU stands (reserved or rejected; released, expired or committed when the
// order got that far before this request), and the units still available.
type Reservation struct {
	Result
	Status    inventory.ReservationStatus
	Available int
}

// Restock adds qty units to the SKU's stock.
func (s *Service) Restock(ctx context.Context, sku string, qty int) (Result, error) {
	_, res, err := s.execStock(ctx, sku, func(st inventory.Stock) ([]any, error) { return st.Restock(qty) })
	return res, err
}

// Reserve sets qty units aside for the order, or records a rejection when
// fewer are available. Repeating it for the order changes nothing and
// reports the first answer.
func (s *Service) Reserve(ctx context.Context, orderID, sku string, qty int) (Reservation, error) {
	st, res, err := s.execStock(ctx, sku, func(st inventory.Stock) ([]any, error) { return st.Reserve(orderID, qty) })
	if err != nil {
		return Reservation{}, err
	}
	r, _ := st.Reservation(orderID)
	return Reservation{Result: res, Status: r.Status, Available: st.Available()}, nil
}

// Release gives the order's reserved units back (or leaves a barrier
// against a late reserve).
func (s *Service) Release(ctx context.Context, orderID, sku string) (Result, error) {
	_, res, err := s.execStock(ctx, sku, func(st inventory.Stock) ([]any, error) { return st.Release(orderID) })
	return res, err
}

// Secure makes the order's reservation permanent: it can no longer lapse.
func (s *Service) Secure(ctx context.Context, orderID, sku string) (Result, error) {
	_, res, err := s.execStock(ctx, sku, func(st inventory.Stock) ([]any, error) { return st.Secure(orderID) })
	return res, err
}

// Commit turns the order's reservation into a sale.
func (s *Service) Commit(ctx context.Context, orderID, sku string) (Result, error) {
	_, res, err := s.execStock(ctx, sku, func(st inventory.Stock) ([]any, error) { return st.Commit(orderID) })
	return res, err
}

// Expire gives back the order's reservation because its deadline passed.
func (s *Service) Expire(ctx context.Context, orderID, sku string) (Result, error) {
	_, res, err := s.execStock(ctx, sku, func(st inventory.Stock) ([]any, error) { return st.Expire(orderID) })
	return res, err
}

// Product returns the catalog entry of sku from the event store (not the
// read model), or a not-found domain error.
func (s *Service) Product(ctx context.Context, sku string) (inventory.Product, error) {
	if err := inventory.ValidateSKU(sku); err != nil {
		return inventory.Product{}, notFound(sku)
	}
	snap, err := s.products.Load(ctx, sku)
	if err != nil {
		return inventory.Product{}, err
	}
	if !snap.State.Exists {
		return inventory.Product{}, notFound(sku)
	}
	return snap.State, nil
}

// execStock runs decide on the SKU's stock once the SKU is known to be in
// the catalog: stock of an unknown SKU would be stock no one can buy.
func (s *Service) execStock(ctx context.Context, sku string, decide func(inventory.Stock) ([]any, error)) (inventory.Stock, Result, error) {
	if err := s.requireProduct(ctx, sku); err != nil {
		return inventory.Stock{}, Result{}, err
	}
	unlock, err := s.locks.lock(ctx, sku)
	if err != nil {
		return inventory.Stock{}, Result{}, err
	}
	defer unlock()
	out, err := execute(withActor(ctx), s.stock, s.retries, sku, decide)
	if err != nil {
		return inventory.Stock{}, Result{}, fmt.Errorf("stock %s: %w", sku, err)
	}
	pos, err := s.position(ctx, s.stock.StreamID(sku), out.Result)
	return out.State, Result{Position: pos}, err
}

func (s *Service) requireProduct(ctx context.Context, sku string) error {
	if _, ok := s.known.Load(sku); ok {
		return nil
	}
	if _, err := s.Product(ctx, sku); err != nil {
		return err
	}
	s.known.Store(sku, struct{}{})
	return nil
}

// position is where the command's effect lies: its own last event, or, when
// it appended nothing, the stream's last event (Start for no stream).
func (s *Service) position(ctx context.Context, stream string, res es.AppendResult) (es.Position, error) {
	if !res.Position.IsZero() {
		return res.Position, nil
	}
	last, err := s.store.ReadStream(ctx, stream, es.Backwards, es.End, 1)
	if errors.Is(err, es.ErrStreamNotFound) || (err == nil && len(last) == 0) {
		return es.Start, nil
	}
	if err != nil {
		return es.Start, fmt.Errorf("read last event of %s: %w", stream, err)
	}
	return last[0].Position, nil
}

func notFound(sku string) error {
	return &inventory.Error{Kind: inventory.ErrNotFound, Detail: fmt.Sprintf("product %q not found", sku)}
}

// withActor names the service as the actor when the caller named no one.
func withActor(ctx context.Context) context.Context {
	md := es.MetadataFrom(ctx)
	if md.Actor != "" {
		return ctx
	}
	md.Actor = Actor
	return es.WithMetadata(ctx, md)
}
