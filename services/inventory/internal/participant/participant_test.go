package participant_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/inventory/internal/app"
	"github.com/ordo-platform/ordo/services/inventory/internal/participant"
)

var quiet = slog.New(slog.DiscardHandler)

type env struct {
	t     *testing.T
	store *postgres.Store
	svc   *app.Service
	reg   *es.Registry
	p     *participant.Participant
	stop  func()
}

func newEnv(t *testing.T, ttl time.Duration) *env {
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
	e := &env{t: t, store: store, svc: svc, reg: app.NewRegistry()}
	e.start(ttl)
	return e
}

func (e *env) start(ttl time.Duration) {
	e.t.Helper()
	e.p = participant.New(e.store, e.svc, participant.Options{Checkpoints: e.store.Checkpoints(), TTL: ttl, Sweep: 20 * time.Millisecond, Log: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := e.p.Run(ctx); err != nil {
			e.t.Errorf("participant: %v", err)
		}
	})
	e.stop = func() { cancel(); wg.Wait(); e.stop = func() {} }
	e.t.Cleanup(func() { e.stop() })
}

// request appends a saga event as the order service would.
func (e *env) request(orderID, typ string, lines map[string]int) {
	e.t.Helper()
	type line struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	}
	body := struct {
		OrderID string `json:"order_id"`
		Lines   []line `json:"lines"`
	}{OrderID: orderID}
	for _, sku := range []string{"A", "B"} {
		if q, ok := lines[sku]; ok {
			body.Lines = append(body.Lines, line{sku, q})
		}
	}
	data, _ := json.Marshal(body)
	if _, err := e.store.Append(context.Background(), "fulfilment-"+orderID, es.Any,
		es.EventData{Type: typ, Data: data, Metadata: es.Metadata{CorrelationID: orderID, Actor: "order-saga"}}); err != nil {
		e.t.Fatal(err)
	}
}

// stock folds the SKU's stream.
func (e *env) stock(sku string) (st inventory.Stock, types []string) {
	e.t.Helper()
	st = inventory.StockAggregate.Initial(sku)
	events, err := e.store.ReadStream(context.Background(), "stock-"+sku, es.Forwards, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range events {
		v, err := e.reg.Decode(ev.Type, ev.Data)
		if err != nil {
			e.t.Fatal(err)
		}
		st = inventory.StockAggregate.Apply(st, v)
		types = append(types, ev.Type)
	}
	return st, types
}

func (e *env) waitStatus(sku, orderID string, want inventory.ReservationStatus) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := e.stock(sku)
		if r, ok := st.Reservation(orderID); ok && r.Status == want {
			return
		}
		if time.Now().After(deadline) {
			r, _ := st.Reservation(orderID)
			e.t.Fatalf("%s of %s is %+v, want %s", sku, orderID, r, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quiet waits until the participant's checkpoint reaches the head.
func (e *env) settle() {
	e.t.Helper()
	time.Sleep(300 * time.Millisecond)
}

func TestReserveCommit(t *testing.T) {
	e := newEnv(t, time.Hour)
	e.request("o1", "fulfilment.reservation_requested", map[string]int{"A": 2, "B": 1})
	e.waitStatus("B", "o1", inventory.Reserved)
	e.request("o1", "fulfilment.reservation_requested", map[string]int{"A": 2, "B": 1}) // a duplicate request
	e.request("o1", "fulfilment.stock_commit_requested", map[string]int{"A": 2, "B": 1})
	e.waitStatus("A", "o1", inventory.Committed)
	e.waitStatus("B", "o1", inventory.Committed)
	e.request("o1", "fulfilment.stock_commit_requested", map[string]int{"A": 2, "B": 1})
	e.settle()
	a, types := e.stock("A")
	if a.OnHand != 8 || a.Reserved != 0 {
		t.Errorf("A: on hand %d, reserved %d; want 8, 0", a.OnHand, a.Reserved)
	}
	if got := count(types, inventory.TypeStockReserved) + count(types, inventory.TypeStockCommitted); got != 2 {
		t.Errorf("A events %v: want one reserve and one commit", types)
	}
}

func TestRejectThenRelease(t *testing.T) {
	e := newEnv(t, time.Hour)
	e.request("o1", "fulfilment.reservation_requested", map[string]int{"A": 2, "B": 5})
	e.waitStatus("B", "o1", inventory.Rejected)
	e.request("o1", "fulfilment.release_requested", map[string]int{"A": 2, "B": 5})
	e.waitStatus("A", "o1", inventory.Released)
	a, _ := e.stock("A")
	if a.Available() != 10 {
		t.Errorf("A available %d, want 10", a.Available())
	}
}

// A release that arrives first (a cancellation before the reservation)
// leaves a barrier: the late reserve holds nothing.
func TestReleaseBeforeReserve(t *testing.T) {
	e := newEnv(t, time.Hour)
	e.request("o1", "fulfilment.release_requested", map[string]int{"A": 2})
	e.waitStatus("A", "o1", inventory.Released)
	e.request("o1", "fulfilment.reservation_requested", map[string]int{"A": 2})
	e.settle()
	a, _ := e.stock("A")
	if a.Reserved != 0 {
		t.Errorf("A reserved %d after a barrier, want 0", a.Reserved)
	}
}

func TestReservationExpires(t *testing.T) {
	e := newEnv(t, 300*time.Millisecond)
	e.request("o1", "fulfilment.reservation_requested", map[string]int{"A": 2})
	e.request("o2", "fulfilment.reservation_requested", map[string]int{"A": 3})
	e.request("o2", "fulfilment.confirm_requested", nil) // o2's saga moved on: keep it
	e.waitStatus("A", "o1", inventory.Expired)
	e.settle()
	a, _ := e.stock("A")
	if r, _ := a.Reservation("o2"); r.Status != inventory.Reserved {
		t.Errorf("o2's reservation is %s; a confirming order's stock must not lapse", r.Status)
	}
	if a.Reserved != 3 || a.OnHand != 10 {
		t.Errorf("A: on hand %d, reserved %d; want 10, 3", a.OnHand, a.Reserved)
	}
}

// A secured reservation does not lapse; a secure that comes after the
// lapse is refused (the saga sees the expiry and gives the order up), so a
// reservation is never both expired and secured.
func TestSecureAgainstExpiry(t *testing.T) {
	e := newEnv(t, 400*time.Millisecond)
	e.request("o1", "fulfilment.reservation_requested", map[string]int{"A": 2})
	e.request("o1", "fulfilment.stock_secure_requested", map[string]int{"A": 2})
	e.waitStatus("A", "o1", inventory.Secured)
	e.request("o2", "fulfilment.reservation_requested", map[string]int{"A": 3})
	e.waitStatus("A", "o2", inventory.Expired)
	e.request("o2", "fulfilment.stock_secure_requested", map[string]int{"A": 3})
	e.request("o1", "fulfilment.stock_commit_requested", map[string]int{"A": 2})
	e.waitStatus("A", "o1", inventory.Committed)
	a, types := e.stock("A")
	if r, _ := a.Reservation("o2"); r.Status != inventory.Expired {
		t.Errorf("o2's reservation is %s after a secure that came too late, want expired", r.Status)
	}
	if a.OnHand != 8 || a.Reserved != 0 {
		t.Errorf("A: on hand %d, reserved %d; want 8, 0", a.OnHand, a.Reserved)
	}
	if n := count(types, inventory.TypeStockReservationSecured); n != 1 {
		t.Errorf("A events %v: want exactly one secure", types)
	}
}

// The holds are rebuilt from the saga streams after a restart.
func TestExpiryAfterRestart(t *testing.T) {
	e := newEnv(t, time.Hour)
	e.request("o1", "fulfilment.reservation_requested", map[string]int{"A": 2})
	e.waitStatus("A", "o1", inventory.Reserved)
	e.stop()
	e.start(200 * time.Millisecond)
	e.waitStatus("A", "o1", inventory.Expired)
	if e.p.Held() != 0 {
		t.Errorf("held %d after expiry", e.p.Held())
	}
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
