package saga_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/services/inventory"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// fakeInventory plays the inventory participant with the real Stock
// aggregate. paused holds requests back (to cancel before a reservation).
type fakeInventory struct {
	store es.Store
	repo  *es.Repository[inventory.Stock]
	reg   *es.Registry
	mu    sync.Mutex
	gate  chan struct{}
}

func newFakeInventory(t *testing.T, store es.Store) *fakeInventory {
	t.Helper()
	reg := es.NewRegistry()
	inventory.Register(reg)
	f := &fakeInventory{store: store, repo: es.NewRepository(store, reg, inventory.StockAggregate, 20), reg: reg}
	for sku, qty := range map[string]int{"A": 10, "B": 1} {
		if _, err := f.repo.Execute(context.Background(), sku, func(s inventory.Stock) ([]any, error) { return s.Restock(qty) }); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fakeInventory) pause()  { f.mu.Lock(); f.gate = make(chan struct{}); f.mu.Unlock() }
func (f *fakeInventory) resume() { f.mu.Lock(); close(f.gate); f.gate = nil; f.mu.Unlock() }

func (f *fakeInventory) start(t *testing.T) {
	subscribe(t, f.store, []string{flow.TypeReservationRequested, flow.TypeStockSecureRequested, flow.TypeReleaseRequested, flow.TypeStockCommitRequested},
		func(ctx context.Context, e es.Event) error {
			f.mu.Lock()
			gate := f.gate
			f.mu.Unlock()
			if gate != nil {
				select {
				case <-gate:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			var b struct {
				OrderID string      `json:"order_id"`
				Lines   []flow.Line `json:"lines"`
			}
			if err := json.Unmarshal(e.Data, &b); err != nil {
				return err
			}
			for _, l := range b.Lines {
				err := f.do(ctx, e, l.SKU, func(s inventory.Stock) ([]any, error) {
					switch e.Type {
					case flow.TypeReservationRequested:
						return s.Reserve(b.OrderID, l.Quantity)
					case flow.TypeStockSecureRequested:
						return s.Secure(b.OrderID)
					case flow.TypeReleaseRequested:
						return s.Release(b.OrderID)
					}
					return s.Commit(b.OrderID)
				})
				var de *inventory.Error
				if err != nil && !errors.As(err, &de) {
					return err
				}
			}
			return nil
		})
}

func (f *fakeInventory) do(ctx context.Context, cause es.Event, sku string, decide func(inventory.Stock) ([]any, error)) error {
	ctx = es.WithMetadata(ctx, es.CausedBy(cause, "inventory"))
	_, err := f.repo.Execute(ctx, sku, func(s inventory.Stock) ([]any, error) {
		events, err := decide(s)
		for i, ev := range events {
			events[i] = es.Identified{ID: es.DerivedUUID(cause.ID, fmt.Sprintf("inventory/%s/%d", sku, i)), Event: ev}
		}
		return events, err
	})
	return err
}

// expire lets the order's reservations lapse, as inventory's TTL would.
func (f *fakeInventory) expire(t *testing.T, orderID string) {
	t.Helper()
	for _, sku := range []string{"A", "B"} {
		ctx := es.WithMetadata(context.Background(), es.Metadata{CorrelationID: orderID, Actor: "inventory"})
		if _, err := f.repo.Execute(ctx, sku, func(s inventory.Stock) ([]any, error) {
			if _, seen := s.Reservation(orderID); !seen {
				return nil, nil
			}
			return s.Expire(orderID)
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// fold returns the SKU's stock, and the units restocked and committed
// according to its events.
func (f *fakeInventory) fold(sku string) (st inventory.Stock, restocked, committed int) {
	st = inventory.StockAggregate.Initial(sku)
	events, _ := f.store.ReadStream(context.Background(), es.StreamID(inventory.StockCategory, sku), es.Forwards, 0, 10_000)
	for _, e := range events {
		v, err := f.reg.Decode(e.Type, e.Data)
		if err != nil {
			continue
		}
		st = inventory.StockAggregate.Apply(st, v)
		switch ev := v.(type) {
		case inventory.StockRestocked:
			restocked += ev.Quantity
		case inventory.StockCommitted:
			committed += ev.Quantity
		}
	}
	return st, restocked, committed
}

// charge is the provider's ledger entry for one order (the idempotency key).
type charge struct {
	amount    int64
	charged   bool
	refunded  bool
	captured  bool // recorded as captured in the payment stream
	cancelled bool // the cancel barrier
}

// fakePayment plays the payment participant and its provider. mode says
// how the provider answers a charge: capture, decline, lost (charged, the
// answer lost: outcome unknown) or hang (no answer at all).
type fakePayment struct {
	store  es.Store
	mode   string
	mu     sync.Mutex
	ledger map[string]*charge
	// charges counts provider charges per order (must stay <= 1).
	charges map[string]int
}

func (f *fakePayment) start(t *testing.T) {
	subscribe(t, f.store, []string{flow.TypePaymentRequested, flow.TypeRefundRequested, flow.TypeReconcileRequested},
		func(ctx context.Context, e es.Event) error {
			var b struct {
				OrderID string      `json:"order_id"`
				Amount  money.Money `json:"amount"`
			}
			if err := json.Unmarshal(e.Data, &b); err != nil {
				return err
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			c := f.ledger[b.OrderID]
			if c == nil {
				c = &charge{}
				f.ledger[b.OrderID] = c
			}
			md := es.CausedBy(e, "payment")
			switch e.Type {
			case flow.TypePaymentRequested:
				c.amount = b.Amount.Amount
				return f.requested(ctx, e.ID, b.OrderID, c, md)
			case flow.TypeReconcileRequested:
				if c.charged && !c.captured {
					return f.captured(ctx, e.ID, b.OrderID, c, md)
				}
			case flow.TypeRefundRequested:
				c.cancelled = true
				return f.refundDue(ctx, e.ID, b.OrderID, c, md)
			}
			return nil
		})
}

func (f *fakePayment) requested(ctx context.Context, cause es.UUID, orderID string, c *charge, md es.Metadata) error {
	if c.cancelled {
		return nil
	}
	stream := "payment-" + orderID
	switch f.mode {
	case "capture":
		f.providerCharge(orderID, c)
		return f.captured(ctx, cause, orderID, c, md)
	case "decline":
		return appendRaw(ctx, f.store, stream, es.DerivedUUID(cause, "payment/declined"), "payment.declined",
			map[string]string{"order_id": orderID, "reason": "insufficient_funds"}, md)
	case "lost":
		f.providerCharge(orderID, c)
		return appendRaw(ctx, f.store, stream, es.DerivedUUID(cause, "payment/unknown"), "payment.outcome_unknown",
			map[string]string{"order_id": orderID, "detail": "timeout"}, md)
	}
	return nil // hang
}

func (f *fakePayment) providerCharge(orderID string, c *charge) {
	if c.charged {
		return // the idempotency key: never twice
	}
	c.charged = true
	if f.charges == nil {
		f.charges = map[string]int{}
	}
	f.charges[orderID]++
}

func (f *fakePayment) captured(ctx context.Context, cause es.UUID, orderID string, c *charge, md es.Metadata) error {
	c.captured = true
	err := appendRaw(ctx, f.store, "payment-"+orderID, es.DerivedUUID(cause, "payment/captured"), "payment.captured",
		map[string]any{"order_id": orderID, "provider_ref": "ch_" + orderID[:8]}, md)
	if err != nil {
		return err
	}
	return f.refundDue(ctx, cause, orderID, c, md)
}

// refundDue refunds money captured for a cancelled payment (the barrier).
func (f *fakePayment) refundDue(ctx context.Context, cause es.UUID, orderID string, c *charge, md es.Metadata) error {
	if !c.cancelled || !c.captured || c.refunded {
		return nil
	}
	c.refunded = true
	return appendRaw(ctx, f.store, "payment-"+orderID, es.DerivedUUID(cause, "payment/refunded"), "payment.refunded",
		map[string]any{"order_id": orderID}, md)
}

// lateCapture: the provider's answer to a hung charge finally arrives.
func (f *fakePayment) lateCapture(t *testing.T, orderID string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for { // the stand-in must have seen the request first
		f.mu.Lock()
		if f.ledger[orderID] != nil {
			break
		}
		f.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("payment of %s never requested", orderID)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer f.mu.Unlock()
	c := f.ledger[orderID]
	f.providerCharge(orderID, c)
	md := es.Metadata{CorrelationID: orderID, Actor: "payment"}
	if err := f.captured(context.Background(), es.NewUUID(), orderID, c, md); err != nil {
		t.Fatal(err)
	}
}

// net is what the provider holds for the order: charged minus refunded.
func (f *fakePayment) net(orderID string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.ledger[orderID]
	if c == nil || !c.charged || c.refunded {
		return 0
	}
	return c.amount
}

func (f *fakePayment) chargeCount(orderID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.charges[orderID]
}
