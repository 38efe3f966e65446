package app_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/app"
)

// fakeCatalog is a fixed price list that records what it was asked.
type fakeCatalog struct {
	prices order.Prices
	asked  [][]string
	err    error
}

func (f *fakeCatalog) Prices(_ context.Context, skus []string) (order.Prices, error) {
	f.asked = append(f.asked, skus)
	out := order.Prices{}
	for _, s := range skus {
		if p, ok := f.prices[s]; ok {
			out[s] = p
		}
	}
	return out, f.err
}

func newService(t *testing.T, cat app.Catalog) (*app.Service, *postgres.Store) {
	t.Helper()
	store, err := postgres.Open(context.Background(), testenv.Database(t), postgres.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	reg := es.NewRegistry()
	order.Register(reg)
	return app.New(store, reg, cat), store
}

func TestPlace(t *testing.T) {
	cat := &fakeCatalog{prices: order.Prices{"A": money.Euros(100), "B": money.Euros(5)}}
	svc, store := newService(t, cat)
	ctx := es.WithMetadata(context.Background(), es.Metadata{Actor: "alice", CausationID: "req-9"})
	p, err := svc.Place(ctx, "alice", []order.Item{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 2}, {SKU: "A", Quantity: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.asked) != 1 || len(cat.asked[0]) != 2 {
		t.Errorf("catalog asked %v, want each SKU once", cat.asked)
	}
	events, err := store.ReadStream(context.Background(), "order-"+p.ID, es.Forwards, 0, 10)
	if err != nil || len(events) != 1 || events[0].Position != p.Position {
		t.Fatalf("stream: %+v %v", events, err)
	}
	if md := events[0].Metadata; md.CorrelationID != p.ID || md.Actor != "alice" || md.CausationID != "req-9" {
		t.Errorf("metadata %+v", md)
	}

	// Too many items is rejected without asking the catalog.
	cat.asked = nil
	many := make([]order.Item, order.MaxLines+1)
	for i := range many {
		many[i] = order.Item{SKU: "A", Quantity: 1}
	}
	if _, err := svc.Place(ctx, "alice", many); !errors.Is(err, order.ErrInvalid) || len(cat.asked) != 0 {
		t.Errorf("too many items: %v, catalog asked %v", err, cat.asked)
	}
	// A catalog failure is passed on, not turned into "unknown SKU".
	cat.err = errors.New("redis down")
	if _, err := svc.Place(ctx, "alice", []order.Item{{SKU: "A", Quantity: 1}}); !errors.Is(err, cat.err) {
		t.Errorf("catalog failure: %v", err)
	}
}

func TestCommandsOnUnknownOrders(t *testing.T) {
	svc, _ := newService(t, &fakeCatalog{})
	ctx := context.Background()
	for _, id := range []string{es.NewUUID().String(), "not-a-uuid", ""} {
		if _, err := svc.Confirm(ctx, id); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("Confirm(%q): %v", id, err)
		}
		if _, err := svc.Cancel(ctx, id, order.ReasonOutOfStock); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("Cancel(%q): %v", id, err)
		}
		if _, err := svc.RequestCancellation(ctx, "alice", id); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("RequestCancellation(%q): %v", id, err)
		}
	}
}

// The same request sent again with the same idempotency key — after a
// timeout or a crash of the order service — finds the order it placed.
func TestPlaceOnceWithAKey(t *testing.T) {
	cat := &fakeCatalog{prices: order.Prices{"A": money.Euros(100), "B": money.Euros(5)}}
	svc, store := newService(t, cat)
	ctx := context.Background()
	lines := []order.Item{{SKU: "A", Quantity: 2}}
	first, err := svc.PlaceOnce(ctx, "alice", "key-1", lines)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.PlaceOnce(ctx, "alice", "key-1", lines)
	if err != nil || again != first {
		t.Fatalf("same key again: %+v, %v; want %+v", again, err, first)
	}
	events, err := store.ReadStream(ctx, "order-"+first.ID, es.Forwards, 0, 10)
	if err != nil || len(events) != 1 {
		t.Fatalf("order stream has %d events (%v), want one order.placed", len(events), err)
	}
	if _, err := svc.PlaceOnce(ctx, "alice", "key-1", []order.Item{{SKU: "B", Quantity: 1}}); !errors.Is(err, order.ErrConflict) {
		t.Errorf("same key, other lines: %v, want a conflict", err)
	}
	bob, err := svc.PlaceOnce(ctx, "bob", "key-1", lines)
	if err != nil || bob.ID == first.ID {
		t.Errorf("bob's key-1 gave %+v, %v; keys belong to their customer", bob, err)
	}
	other, err := svc.PlaceOnce(ctx, "alice", "key-2", lines)
	if err != nil || other.ID == first.ID {
		t.Errorf("another key gave %+v, %v; want a new order", other, err)
	}
	if _, err := svc.PlaceOnce(ctx, "alice", strings.Repeat("k", app.MaxKeyLength+1), lines); !errors.Is(err, order.ErrInvalid) {
		t.Errorf("oversized key: %v, want invalid", err)
	}
}
