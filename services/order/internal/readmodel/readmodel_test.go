package readmodel

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
)

type fixture struct {
	t      *testing.T
	store  *postgres.Store
	rdb    *redis.Client
	prefix string
	reg    *es.Registry
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	store, err := postgres.Open(context.Background(), testenv.Database(t), postgres.Options{PollInterval: 20 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	rdb, prefix := testenv.Redis(t)
	reg := es.NewRegistry()
	order.Register(reg)
	inventory.Register(reg)
	return &fixture{t: t, store: store, rdb: rdb, prefix: prefix, reg: reg}
}

func (f *fixture) runner(p projection.Projection) *projection.Runner {
	f.t.Helper()
	r, err := projection.New(f.store, f.rdb, p, projection.Options{Prefix: f.prefix, Log: slog.New(slog.DiscardHandler), RetireAfter: time.Millisecond})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) start(r *projection.Runner) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.Run(ctx) })
	f.t.Cleanup(func() { cancel(); wg.Wait(); r.Close() })
}

func (f *fixture) append(category, id string, events ...any) es.Position {
	f.t.Helper()
	data := make([]es.EventData, len(events))
	for i, ev := range events {
		d, err := f.reg.Encode(es.NewUUID(), ev, es.Metadata{SchemaVersion: 1})
		if err != nil {
			f.t.Fatal(err)
		}
		data[i] = d
	}
	res, err := f.store.Append(context.Background(), es.StreamID(category, id), es.Any, data...)
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Position
}

// visible waits until readers of the store can see p: an event becomes
// readable only once every older transaction in the cluster has ended.
func (f *fixture) visible(p es.Position) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		head, err := f.store.Head(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		if !head.Less(p) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("position %s not visible after 10s (head %s)", p, head)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) waitFor(r *projection.Runner, p es.Position) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, p); err != nil {
		f.t.Fatal(err)
	}
}

func TestCatalog(t *testing.T) {
	f := newFixture(t)
	prices := f.runner(Prices(f.reg))
	cat := NewCatalog(f.rdb, f.prefix, f.store, prices, 2*time.Second)
	ctx := context.Background()
	f.append(inventory.ProductCategory, "A", inventory.ProductAdded{SKU: "A", Name: "a", Price: money.Euros(100)},
		inventory.ProductPriceChanged{SKU: "A", Price: money.Euros(80), PreviousPrice: money.Euros(100)})
	f.append(inventory.ProductCategory, "B", inventory.ProductAdded{SKU: "B", Name: "b", Price: money.Euros(250)})
	last := f.append(inventory.StockCategory, "A", inventory.StockRestocked{SKU: "A", Quantity: 5, OnHand: 5, Available: 5})
	f.visible(last)

	// The projection is not running yet: a lookup that misses must not
	// call the SKU unknown but say the catalog is behind.
	if _, err := cat.Prices(ctx, []string{"A"}); !errors.Is(err, projection.ErrNotCaughtUp) {
		t.Fatalf("lookup with the projection stopped: %v, want ErrNotCaughtUp", err)
	}
	// Just started, the projection has not applied anything yet: the lookup
	// waits for it to catch up rather than calling A and B unknown.
	f.start(prices)
	got, err := cat.Prices(ctx, []string{"A", "B", "NOPE"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(order.Prices{"A": money.Euros(80), "B": money.Euros(250)}, got); diff != "" {
		t.Errorf("prices (-want +got):\n%s", diff)
	}
	if got, err := cat.Prices(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no SKUs: %v %v", got, err)
	}
}

func TestOrdersProjection(t *testing.T) {
	f := newFixture(t)
	orders := f.runner(Orders(f.reg))
	f.start(orders)
	reader := NewOrderReader(f.rdb, f.prefix)
	ctx := context.Background()
	line := order.Line{SKU: "A", Quantity: 2, UnitPrice: money.Euros(100)}
	ids := []string{es.NewUUID().String(), es.NewUUID().String(), es.NewUUID().String()}
	f.append(order.Category, ids[0], order.Placed{OrderID: ids[0], CustomerID: "alice", Lines: []order.Line{line}, Total: money.Euros(200)},
		order.CancellationRequested{OrderID: ids[0], CustomerID: "alice"},
		order.Cancelled{OrderID: ids[0], CustomerID: "alice", Reason: order.ReasonCustomerCancelled})
	f.append(order.Category, ids[1], order.Placed{OrderID: ids[1], CustomerID: "alice", Lines: []order.Line{line}, Total: money.Euros(200)})
	f.append(order.Category, ids[1], order.Confirmed{OrderID: ids[1], CustomerID: "alice", Total: money.Euros(200)})
	last := f.append(order.Category, ids[2], order.Placed{OrderID: ids[2], CustomerID: "bob", Lines: []order.Line{line}, Total: money.Euros(200)})
	f.waitFor(orders, last)

	cancelled, err := reader.Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.Status != order.StatusCancelled || cancelled.Reason != order.ReasonCustomerCancelled || cancelled.CancellationRequested {
		t.Errorf("cancelled: %+v", cancelled)
	}
	if v, err := reader.Get(ctx, ids[1]); err != nil || v.Status != order.StatusConfirmed || v.UpdatedAt.Before(v.PlacedAt) {
		t.Errorf("confirmed: %+v %v", v, err)
	}
	if _, err := reader.Get(ctx, es.NewUUID().String()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown order: %v", err)
	}

	before := pageAll(t, reader, "alice", 1)
	if len(before) != 2 || before[0].ID != ids[1] || before[1].ID != ids[0] {
		t.Fatalf("alice's orders newest first: %+v", before)
	}
	// A rebuild from the events yields the same model, times included.
	if err := orders.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, pageAll(t, reader, "alice", 1)); diff != "" {
		t.Errorf("after rebuild (-before +after):\n%s", diff)
	}
}

func pageAll(t *testing.T, r *OrderReader, customer string, limit int) []OrderView {
	t.Helper()
	var all []OrderView
	cursor := ""
	for range 100 {
		pg, err := r.ListByCustomer(context.Background(), customer, limit, cursor)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, pg.Items...)
		if pg.NextCursor == "" {
			return all
		}
		cursor = pg.NextCursor
	}
	t.Fatal("paging did not end")
	return nil
}

func TestMembersOrderByTimeThenID(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	a, b := "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
	members := []string{member(at.Add(time.Microsecond), a), member(at, b), member(at, a), member(at.Add(-time.Hour), b)}
	sort.Strings(members)
	want := []string{member(at.Add(-time.Hour), b), member(at, a), member(at, b), member(at.Add(time.Microsecond), a)}
	if diff := cmp.Diff(want, members); diff != "" {
		t.Errorf("byte order is not (time, id) order (-want +got):\n%s", diff)
	}
	for _, m := range want {
		if back, err := decodeCursor(encodeCursor(m)); err != nil || back != m {
			t.Errorf("cursor round trip of %q: %q %v", m, back, err)
		}
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	for _, c := range []string{
		"!!", "abc", encodeCursor("12:" + es.NewUUID().String()),
		encodeCursor("0000000000000000000x:" + es.NewUUID().String()),
		encodeCursor("00000000000000000001:not-a-uuid"), encodeCursor("00000000000000000001"),
	} {
		if _, err := decodeCursor(c); !errors.Is(err, ErrBadCursor) {
			t.Errorf("decodeCursor(%q) = %v, want ErrBadCursor", c, err)
		}
	}
}
