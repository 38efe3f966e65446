package saga_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/saga"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// startParkedRunner replaces the runner with one that parks what it
// cannot process.
func (w *world) startParkedRunner() *park.Lot {
	w.t.Helper()
	w.stop()
	lot := park.New(w.store, park.NewPostgres(w.store.Pool()), park.Options{Log: quiet, Backoff: time.Millisecond})
	w.runner = saga.New(w.store, w.orders, saga.Options{Checkpoints: w.store.Checkpoints(), Policy: w.policy, Log: quiet, Park: lot})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.runner.Run(ctx) }()
	w.stop = func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("runner: %v", err)
		}
		w.stop = func() {}
	}
	return lot
}

// An observation the saga cannot decode is parked, and so are the later
// events of its order, which the saga then never sees: other orders go on,
// and the held order ends by its deadline with every step undone, as if
// inventory had never answered.
func TestAnOrderWaitsBehindItsParkedEvent(t *testing.T) {
	w := newWorld(t, flow.Policy{PaymentTimeout: time.Minute, ReservationTimeout: 2 * time.Second}, "capture")
	w.settle(w.place(a2), order.StatusConfirmed, "") // the first runner is up; replace it
	lot := w.startParkedRunner()

	w.inv.pause()
	held := w.place(a2)
	w.sagaHas(held, flow.TypeReservationRequested)
	poison := es.NewUUID()
	if err := appendRaw(t.Context(), w.store, "stock-ZZ", poison, inventory.TypeStockReserved,
		map[string]any{"order_id": 7, "sku": "ZZ"}, es.Metadata{CorrelationID: held}); err != nil {
		t.Fatal(err)
	}
	w.eventually("the poison event parked", func() bool {
		entries, err := lot.List(context.Background(), park.Parked, 0)
		return err == nil && len(entries) == 1
	})
	w.inv.resume()

	other := w.place(a2)
	w.settle(other, order.StatusConfirmed, "")
	w.eventually("the held order cancelled by its deadline", func() bool {
		return w.check(held, order.StatusCancelled, order.ReasonOutOfStock) == ""
	})
	if slicesContains(w.sagaTypes(held), flow.TypeStockReserved) {
		t.Error("the saga saw a reservation of the held order")
	}

	entries, err := lot.List(t.Context(), park.Parked, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 2 || entries[0].EventID != poison || entries[0].Attempts != 1 || entries[0].Key != held {
		t.Fatalf("parked %+v; want the poison event first, then the held order's", entries)
	}
	for _, en := range entries[1:] {
		if en.Key != held || en.Attempts != 0 {
			t.Errorf("entry %+v: want held behind the poison event (key %s, no attempts)", en, held)
		}
	}
	if _, err := lot.Replay(t.Context(), entries[1].ID); !errors.Is(err, park.ErrOutOfOrder) {
		t.Errorf("replaying a held event first: %v, want ErrOutOfOrder", err)
	}
	if _, err := lot.Replay(t.Context(), entries[0].ID); !errors.Is(err, park.ErrReplayFailed) {
		t.Errorf("replaying the undecodable event: %v, want ErrReplayFailed", err)
	}
}
