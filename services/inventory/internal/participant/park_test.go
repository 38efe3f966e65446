package participant_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/inventory/internal/app"
	"github.com/ordo-platform/ordo/services/inventory/internal/participant"
)

// newParkEnv is newEnv without a participant running.
func newParkEnv(t *testing.T) *env {
	t.Helper()
	store, err := postgres.Open(context.Background(), testenv.Database(t), postgres.Options{Log: quiet, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	svc := app.New(store, app.Options{})
	if _, err := svc.Seed(context.Background(), []inventory.CatalogEntry{
		{SKU: "A", Name: "a", Price: money.Euros(100), InitialStock: 10},
		{SKU: "B", Name: "b", Price: money.Euros(100), InitialStock: 1},
	}); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: store, svc: svc, reg: app.NewRegistry(), stop: func() {}}
	t.Cleanup(func() { e.stop() })
	return e
}

// startParked runs a participant with a park (as a fresh process would:
// its own Lot) that refuses requests for the reject SKUs.
func (e *env) startParked(reject ...string) *park.Lot {
	e.t.Helper()
	e.stop()
	lot := park.New(e.store, park.NewPostgres(e.store.Pool()), park.Options{Log: quiet, Backoff: time.Millisecond})
	e.p = participant.New(e.store, e.svc, participant.Options{Checkpoints: e.store.Checkpoints(), TTL: time.Hour,
		Sweep: 20 * time.Millisecond, Log: quiet, Park: lot, Reject: reject})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := e.p.Run(ctx); err != nil {
			e.t.Errorf("participant: %v", err)
		}
	})
	e.stop = func() { cancel(); wg.Wait(); e.stop = func() {} }
	for !slices.Contains(lot.Subscribers(), participant.Name) {
		time.Sleep(5 * time.Millisecond) // Run registers its subscriber as it subscribes
	}
	return lot
}

func (e *env) waitParked(lot *park.Lot, n int) []park.Entry {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		entries, err := lot.List(context.Background(), park.Parked, 0)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(entries) >= n {
			return entries
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d parked requests, want %d", len(entries), n)
		}
	}
}

// A request the participant cannot process is parked; the requests behind
// it are carried out; after the fix (a restart without the fault) its
// replay reserves the stock once, however often it is replayed.
func TestUnprocessableRequestIsParkedAndReplayed(t *testing.T) {
	e := newParkEnv(t)
	lot := e.startParked("B")
	e.request("o1", "fulfilment.reservation_requested", map[string]int{"A": 1, "B": 1})
	if _, err := e.store.Append(t.Context(), "fulfilment-o9", es.Any, es.EventData{Type: "fulfilment.reservation_requested", Data: []byte(`{"order_id": 9}`)}); err != nil {
		t.Fatal(err)
	}
	e.request("o2", "fulfilment.reservation_requested", map[string]int{"A": 2})
	e.waitStatus("A", "o2", inventory.Reserved)
	entries := e.waitParked(lot, 2)
	if len(entries) != 2 || entries[0].Stream != "fulfilment-o1" || entries[1].Stream != "fulfilment-o9" {
		t.Fatalf("parked %+v; want the refused request of o1 and the unreadable one", entries)
	}
	if a, _ := e.stock("A"); a.Reserved != 2 {
		t.Fatalf("A reserved %d; nothing of the parked request may have run", a.Reserved)
	}

	lot = e.startParked() // the fix
	res, err := lot.Replay(t.Context(), entries[0].ID)
	if err != nil || res.Entry.Status != park.Replayed {
		t.Fatalf("replay: %+v, %v", res, err)
	}
	e.waitStatus("B", "o1", inventory.Reserved)
	if res, err := lot.Replay(t.Context(), entries[0].ID); err != nil || !res.Already {
		t.Fatalf("second replay: %+v, %v", res, err)
	}
	if _, err := lot.Replay(t.Context(), entries[1].ID); !errors.Is(err, park.ErrReplayFailed) {
		t.Fatalf("replay of the unreadable request: %v, want ErrReplayFailed", err)
	}
	a, types := e.stock("A")
	if a.Reserved != 3 || count(types, inventory.TypeStockReserved) != 2 {
		t.Errorf("A reserved %d with events %v; want 3 from one reservation per order", a.Reserved, types)
	}
}
