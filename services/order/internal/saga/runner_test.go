package saga_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/es/estest"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/saga"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

var (
	slow = flow.Policy{PaymentTimeout: time.Minute}
	fast = flow.Policy{PaymentTimeout: 300 * time.Millisecond}
	a2   = order.Item{SKU: "A", Quantity: 2}
	b1   = order.Item{SKU: "B", Quantity: 1}
)

func TestHappyPath(t *testing.T) {
	w := newWorld(t, slow, "capture")
	id := w.place(a2, b1)
	w.settle(id, order.StatusConfirmed, "")
	w.committed(id, 2)
	want := []string{flow.TypeStarted, flow.TypeReservationRequested, flow.TypeDeadlineSet, flow.TypeStockReserved, flow.TypeStockReserved,
		flow.TypePaymentRequested, flow.TypeDeadlineSet, flow.TypePaymentCaptured, flow.TypeStockSecureRequested, flow.TypeStockSecured, flow.TypeStockSecured, flow.TypeConfirmRequested,
		flow.TypeStockCommitRequested, flow.TypeCompleted, flow.TypeStockCommitted, flow.TypeStockCommitted}
	if got := w.sagaTypes(id); !equal(got, want) {
		t.Errorf("saga steps:\n got %v\nwant %v", got, want)
	}
	if n := w.pay.chargeCount(id); n != 1 {
		t.Errorf("charged %d times", n)
	}
	w.settle(id, order.StatusConfirmed, "")
}

func TestOutOfStock(t *testing.T) {
	w := newWorld(t, slow, "capture")
	id := w.place(a2, order.Item{SKU: "B", Quantity: 2}) // B has 1
	w.settle(id, order.StatusCancelled, order.ReasonOutOfStock)
	if w.pay.chargeCount(id) != 0 {
		t.Error("charged an order that was out of stock")
	}
}

func TestDeclined(t *testing.T) {
	w := newWorld(t, slow, "decline")
	id := w.place(a2)
	w.settle(id, order.StatusCancelled, order.ReasonPaymentDeclined)
}

// The provider charged but its answer was lost: the saga asks for
// reconciliation and confirms once the capture is found; charged once.
func TestLostAnswerReconciled(t *testing.T) {
	w := newWorld(t, slow, "lost")
	id := w.place(a2, b1)
	w.settle(id, order.StatusConfirmed, "")
	w.sagaHas(id, flow.TypeReconcileRequested)
	if n := w.pay.chargeCount(id); n != 1 {
		t.Errorf("charged %d times", n)
	}
}

// No answer by the deadline: payment_timeout; a capture that lands later
// meets the cancel barrier and is refunded.
func TestPaymentTimeoutThenLateCapture(t *testing.T) {
	w := newWorld(t, fast, "hang")
	id := w.place(a2)
	w.settle(id, order.StatusCancelled, order.ReasonPaymentTimeout)
	w.pay.lateCapture(t, id)
	w.sagaHas(id, flow.TypePaymentRefunded)
	w.settle(id, order.StatusCancelled, order.ReasonPaymentTimeout)
}

func TestCustomerCancelBeforeReservation(t *testing.T) {
	w := newWorld(t, slow, "capture")
	w.inv.pause()
	id := w.place(a2, b1)
	w.cancel(id)
	w.sagaHas(id, flow.TypeReleaseRequested)
	w.inv.resume()
	w.settle(id, order.StatusCancelled, order.ReasonCustomerCancelled)
	if w.pay.chargeCount(id) != 0 {
		t.Error("charged a cancelled order")
	}
}

func TestCustomerCancelAfterReservation(t *testing.T) {
	w := newWorld(t, slow, "hang")
	id := w.place(a2, b1)
	w.sagaHas(id, flow.TypePaymentRequested)
	w.cancel(id)
	w.settle(id, order.StatusCancelled, order.ReasonCustomerCancelled)
	w.sagaHas(id, flow.TypeRefundRequested) // the payment barrier
}

// The customer's cancellation reaches the order after the capture but
// before the saga confirmed it: the saga, which was securing the stock,
// undoes everything and the money is refunded.
func TestCustomerCancelAfterCapture(t *testing.T) {
	w := newWorld(t, slow, "hang")
	id := w.place(a2, b1)
	w.sagaHas(id, flow.TypePaymentRequested)
	w.stop()
	w.pay.lateCapture(t, id) // the capture, not yet seen by the saga
	w.cancel(id)
	w.startRunner()
	w.settle(id, order.StatusCancelled, order.ReasonCustomerCancelled)
	w.sagaHas(id, flow.TypePaymentRefunded)
	if types := w.sagaTypes(id); !contains(types, flow.TypeStockSecureRequested) || contains(types, flow.TypeConfirmRequested) {
		t.Errorf("saga should have asked to secure the stock and never to confirm: %v", types)
	}
}

// The reservation lapses after the payment was captured but before the
// saga read the capture (its service was down). The saga asks inventory to
// secure the lines, which the expiry already gave back, so the order is
// cancelled out of stock and refunded: never confirmed without its stock.
func TestReservationLapsesAfterCapture(t *testing.T) {
	w := newWorld(t, slow, "hang")
	id := w.place(a2, b1)
	w.sagaHas(id, flow.TypePaymentRequested)
	w.stop()
	w.pay.lateCapture(t, id)
	w.inv.expire(t, id)
	w.startRunner()
	w.settle(id, order.StatusCancelled, order.ReasonOutOfStock)
	w.sagaHas(id, flow.TypePaymentRefunded)
	types := w.sagaTypes(id)
	if !contains(types, flow.TypeStockSecureRequested) || contains(types, flow.TypeConfirmRequested) {
		t.Errorf("saga should have asked to secure the stock and never to confirm: %v", types)
	}
	for _, sku := range []string{"A", "B"} {
		if st, _, committed := w.inv.fold(sku); committed != 0 || st.Reserved != 0 {
			t.Errorf("%s: %d unit(s) committed, %d reserved after the lapse; want none", sku, committed, st.Reserved)
		}
	}
}

func TestReservationExpired(t *testing.T) {
	w := newWorld(t, slow, "hang")
	id := w.place(a2, b1)
	w.sagaHas(id, flow.TypePaymentRequested)
	w.inv.expire(t, id)
	w.settle(id, order.StatusCancelled, order.ReasonOutOfStock)
	w.pay.lateCapture(t, id) // the mismatch: captured for an order whose stock is gone
	w.sagaHas(id, flow.TypePaymentRefunded)
	w.settle(id, order.StatusCancelled, order.ReasonOutOfStock)
}

// Inventory does not answer in time: the reservation deadline gives the
// order up; the late reservation is released.
func TestReservationDeadline(t *testing.T) {
	w := newWorld(t, flow.Policy{ReservationTimeout: 300 * time.Millisecond, PaymentTimeout: time.Minute}, "capture")
	w.inv.pause()
	id := w.place(a2, b1)
	w.sagaHas(id, flow.TypeDeadlinePassed)
	w.inv.resume()
	w.settle(id, order.StatusCancelled, order.ReasonOutOfStock)
	if w.pay.chargeCount(id) != 0 {
		t.Error("charged an order whose stock was never reserved")
	}
}

// Deadlines are events: a runner started after the deadline was set (and
// passed while it was down) fires it.
func TestDeadlineSurvivesRestart(t *testing.T) {
	w := newWorld(t, flow.Policy{PaymentTimeout: time.Second}, "hang")
	id := w.place(a2)
	w.sagaHas(id, flow.TypeDeadlineSet)
	w.stop()
	time.Sleep(1200 * time.Millisecond)
	w.startRunner()
	w.settle(id, order.StatusCancelled, order.ReasonPaymentTimeout)
}

// Restarting the runner from an older checkpoint replays events it has
// handled: nothing new is appended.
func TestReplayAppendsNothing(t *testing.T) {
	w := newWorld(t, slow, "capture")
	ids := []string{w.place(a2), w.place(order.Item{SKU: "B", Quantity: 5})}
	w.settle(ids[0], order.StatusConfirmed, "")
	w.settle(ids[1], order.StatusCancelled, order.ReasonOutOfStock)
	w.sagaHas(ids[0], flow.TypeStockCommitted)
	time.Sleep(200 * time.Millisecond)
	ctx := context.Background()
	if err := w.store.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := w.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.stop()
	reached, err := w.store.Checkpoints().Load(ctx, saga.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.Checkpoints().Save(ctx, saga.DefaultName, es.Start); err != nil {
		t.Fatal(err)
	}
	w.startRunner()
	w.eventually("replay to the head", func() bool {
		cp, err := w.store.Checkpoints().Load(ctx, saga.DefaultName)
		return err == nil && !cp.Less(reached)
	})
	time.Sleep(200 * time.Millisecond)
	if err := w.store.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := w.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		for _, e := range estest.ReadAll(t, w.store, before, es.Filter{}) {
			t.Errorf("replay appended %s to %s", e.Type, e.StreamID)
		}
	}
	w.settle(ids[0], order.StatusConfirmed, "")
	w.settle(ids[1], order.StatusCancelled, order.ReasonOutOfStock)
}

func TestViews(t *testing.T) {
	w := newWorld(t, slow, "capture")
	id := w.place(a2, b1)
	w.settle(id, order.StatusConfirmed, "")
	w.committed(id, 2)
	tl, err := w.runner.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i, e := range tl {
		seen[e.Type]++
		if i > 0 && !lessPos(tl[i-1].Position, e.Position) {
			t.Errorf("timeline out of order at %d", i)
		}
		if e.CorrelationID != id {
			t.Errorf("%s %s: correlation id %q", e.Stream, e.Type, e.CorrelationID)
		}
	}
	for typ, n := range map[string]int{"order.placed": 1, "stock.reserved": 2, "payment.captured": 1, "order.confirmed": 1,
		"stock.committed": 2, flow.TypeCompleted: 1} {
		if seen[typ] != n {
			t.Errorf("timeline has %d %s, want %d", seen[typ], typ, n)
		}
	}
	st, err := w.runner.Stats(context.Background())
	if err != nil || st.Completed != 1 || st.Outcomes["confirmed"] != 1 || st.Running != 0 {
		t.Errorf("stats = %+v, %v", st, err)
	}
	if _, err := w.runner.Progress(context.Background(), es.NewUUID().String()); err != saga.ErrNoSaga {
		t.Errorf("unknown order: %v", err)
	}
}

func lessPos(a, b string) bool {
	pa, err1 := es.ParsePosition(a)
	pb, err2 := es.ParsePosition(b)
	return err1 == nil && err2 == nil && pa.Less(pb)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func contains(s []string, v string) bool { return slicesContains(s, v) }

// committed waits until the saga has seen n lines committed.
func (w *world) committed(id string, n int) {
	w.t.Helper()
	w.eventually(fmt.Sprintf("%d lines committed", n), func() bool {
		got := 0
		for _, typ := range w.sagaTypes(id) {
			if typ == flow.TypeStockCommitted {
				got++
			}
		}
		return got == n
	})
}

// TestStatsTally: Stats counts what was appended since its last call on
// top of what it had, and agrees with a fresh count over everything.
func TestStatsTally(t *testing.T) {
	w := newWorld(t, slow, "capture")
	first := w.place(a2)
	w.settle(first, order.StatusConfirmed, "")
	st, err := w.runner.Stats(context.Background())
	if err != nil || st.Started != 1 || st.Completed != 1 || st.Outcomes["confirmed"] != 1 {
		t.Fatalf("stats after one order = %+v, %v", st, err)
	}
	second := w.place(b1)
	w.settle(second, order.StatusConfirmed, "")
	st, err = w.runner.Stats(context.Background())
	if err != nil || st.Started != 2 || st.Completed != 2 || st.Running != 0 || st.Outcomes["confirmed"] != 2 {
		t.Fatalf("stats after a second order = %+v, %v", st, err)
	}
	fresh, err := saga.New(w.store, nil, saga.Options{Log: quiet}).Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Started != st.Started || fresh.Completed != st.Completed || !maps.Equal(fresh.Outcomes, st.Outcomes) ||
		!maps.Equal(fresh.DurationMS, st.DurationMS) {
		t.Fatalf("the tally %+v differs from a count over everything %+v", st, fresh)
	}
}
