package saga_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/app"
	"github.com/ordo-platform/ordo/services/order/internal/saga"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// The real inventory and payment services cannot run in this module's
// tests (their app layers are internal to their modules), so stand-ins
// play them: the inventory one runs the real inventory domain (barrier
// semantics included) through es.Repository; the payment one keeps a
// provider ledger and records the payment events the real service records.

var quiet = slog.New(slog.DiscardHandler)

var prices = order.Prices{"A": money.Euros(1000), "B": money.Euros(250)}

type catalog struct{}

func (catalog) Prices(_ context.Context, skus []string) (order.Prices, error) {
	out := order.Prices{}
	for _, s := range skus {
		if p, ok := prices[s]; ok {
			out[s] = p
		}
	}
	return out, nil
}

// world is one test's platform.
type world struct {
	t      *testing.T
	store  *postgres.Store
	orders *app.Service
	oRepo  *es.Repository[order.Order]
	policy flow.Policy
	runner *saga.Runner
	stop   func()
	inv    *fakeInventory
	pay    *fakePayment
}

func newWorld(t *testing.T, policy flow.Policy, mode string) *world {
	t.Helper()
	store, err := postgres.Open(context.Background(), testenv.Database(t), postgres.Options{Log: quiet, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	reg := es.NewRegistry()
	order.Register(reg)
	w := &world{t: t, store: store, orders: app.New(store, reg, catalog{}), oRepo: es.NewRepository(store, reg, order.Aggregate, 0), policy: policy}
	w.inv = newFakeInventory(t, store)
	w.pay = &fakePayment{store: store, mode: mode, ledger: map[string]*charge{}}
	w.startRunner()
	w.inv.start(t)
	w.pay.start(t)
	return w
}

func (w *world) startRunner() {
	w.t.Helper()
	w.runner = saga.New(w.store, w.orders, saga.Options{Checkpoints: w.store.Checkpoints(), Policy: w.policy, Log: quiet})
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
	w.t.Cleanup(func() { w.stop() })
}

func (w *world) place(items ...order.Item) string {
	w.t.Helper()
	p, err := w.orders.Place(context.Background(), "alice", items)
	if err != nil {
		w.t.Fatal(err)
	}
	return p.ID
}

func (w *world) cancel(id string) {
	w.t.Helper()
	if _, err := w.orders.RequestCancellation(context.Background(), "alice", id); err != nil {
		w.t.Fatal(err)
	}
}

// eventually polls cond until it holds or 10s pass.
func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	if !w.poll(cond) {
		w.t.Fatalf("timed out waiting for %s", what)
	}
}

func (w *world) poll(cond func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// sagaHas waits until the order's saga stream holds an event of type typ.
func (w *world) sagaHas(id, typ string) {
	w.t.Helper()
	w.eventually(id+" "+typ, func() bool { return slicesContains(w.sagaTypes(id), typ) })
}

func (w *world) sagaTypes(id string) []string {
	w.t.Helper()
	p, err := w.runner.Progress(context.Background(), id)
	if err != nil {
		return nil
	}
	types := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		types[i] = s.Type
	}
	return types
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// settle waits until the order is final with the want status and reason
// and the platform's invariants hold for it, then checks the saga agrees.
func (w *world) settle(id string, want order.Status, reason order.Reason) {
	w.t.Helper()
	var problem string
	ok := w.poll(func() bool {
		problem = w.check(id, want, reason)
		if problem == "" {
			p, err := w.runner.Progress(context.Background(), id)
			if err != nil || p.Status != string(want) || p.Reason != string(reason) {
				problem = fmt.Sprintf("saga is %s (%s), %v", p.Status, p.Reason, err)
			}
		}
		return problem == ""
	})
	if !ok {
		w.t.Fatalf("order %s: want %s (%s): %s", id, want, reason, problem)
	}
}

// check returns what is still wrong: the order's status, stock consistency
// (on hand = restocks - committed, no units held for a cancelled order),
// and the ledger (net charge = the total if confirmed, else 0).
func (w *world) check(id string, want order.Status, reason order.Reason) string {
	ctx := context.Background()
	snap, err := w.oRepo.Load(ctx, id)
	if err != nil {
		return err.Error()
	}
	o := snap.State
	if o.Status != want || o.Reason != reason {
		return fmt.Sprintf("order is %s (%s)", o.Status, o.Reason)
	}
	for _, sku := range []string{"A", "B"} {
		st, restocked, committed := w.inv.fold(sku)
		if st.OnHand != restocked-committed || st.OnHand < 0 {
			return fmt.Sprintf("%s: on hand %d, restocked %d, committed %d", sku, st.OnHand, restocked, committed)
		}
		r, seen := st.Reservation(id)
		if seen && r.Status == inventory.Reserved {
			return fmt.Sprintf("%s: order %s still holds %d units", sku, id, r.Quantity)
		}
		if want == order.StatusConfirmed && seen && r.Status != inventory.Committed {
			return fmt.Sprintf("%s: confirmed order's reservation is %s", sku, r.Status)
		}
	}
	net := w.pay.net(id)
	if want == order.StatusConfirmed && net != o.Total.Amount {
		return fmt.Sprintf("ledger net %d, want the total %d", net, o.Total.Amount)
	}
	if want == order.StatusCancelled && net != 0 {
		return fmt.Sprintf("ledger net %d, want 0", net)
	}
	return ""
}

// appendRaw records an event the way another service would.
func appendRaw(ctx context.Context, store es.Store, stream string, id es.UUID, typ string, body any, md es.Metadata) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	_, err = store.Append(ctx, stream, es.Any, es.EventData{ID: id, Type: typ, Data: data, Metadata: md})
	return err
}

// subscribe runs handle on the saga's requests until the test ends.
func subscribe(t *testing.T, store es.Store, types []string, handle es.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := store.Subscribe(ctx, es.Start, es.Filter{Types: types}, handle); err != nil && ctx.Err() == nil {
			t.Errorf("stand-in subscription: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}
