package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/services/order"
)

// OrdersName is the name of the order projection.
const OrdersName = "orders"

// Key parts inside the order model.
const (
	orderPart    = "order"    // order:<id> → OrderView JSON
	customerPart = "customer" // customer:<customer> → sorted set of paging members
)

// OrderView is an order as its customer sees it.
type OrderView struct {
	ID       string       `json:"id"`
	Customer string       `json:"customer"`
	Status   order.Status `json:"status"`
	// Reason is set once the order is cancelled.
	Reason order.Reason `json:"reason,omitempty"`
	// CancellationRequested is set when the customer asked to cancel and
	// the saga has not finished undoing the order yet.
	CancellationRequested bool         `json:"cancellation_requested,omitempty"`
	Lines                 []order.Line `json:"lines"`
	Total                 money.Money  `json:"total"`
	PlacedAt              time.Time    `json:"placed_at"`
	UpdatedAt             time.Time    `json:"updated_at"`
}

// Orders returns the order projection. reg must know the order events
// (order.Register).
func Orders(reg *es.Registry) projection.Projection {
	return projection.Projection{
		Name: OrdersName,
		Filter: es.Filter{
			Categories: []string{order.Category},
			Types:      []string{order.TypePlaced, order.TypeConfirmed, order.TypeCancelled, order.TypeCancellationRequested},
		},
		Apply: func(ctx context.Context, e es.Event, tx *projection.Tx) error {
			v, err := reg.Decode(e.Type, e.Data)
			if err != nil {
				return err
			}
			return applyOrder(ctx, tx, e, v)
		},
	}
}

func applyOrder(ctx context.Context, tx *projection.Tx, e es.Event, v any) error {
	at := e.RecordedAt.UTC()
	switch ev := v.(type) {
	case order.Placed:
		return placed(ctx, tx, ev, at)
	case order.Confirmed:
		return update(ctx, tx, ev.OrderID, at, func(o *OrderView) { o.Status = order.StatusConfirmed })
	case order.Cancelled:
		return update(ctx, tx, ev.OrderID, at, func(o *OrderView) {
			o.Status, o.Reason, o.CancellationRequested = order.StatusCancelled, ev.Reason, false
		})
	case order.CancellationRequested:
		return update(ctx, tx, ev.OrderID, at, func(o *OrderView) {
			if o.Status == order.StatusPending {
				o.CancellationRequested = true
			}
		})
	}
	return nil
}

// placed writes the new view and lists it under its customer. The placed
// time is the event's recorded time, so a rebuild produces the same model.
func placed(ctx context.Context, tx *projection.Tx, ev order.Placed, at time.Time) error {
	view := OrderView{
		ID: ev.OrderID, Customer: ev.CustomerID, Status: order.StatusPending,
		Lines: ev.Lines, Total: ev.Total, PlacedAt: at, UpdatedAt: at,
	}
	if err := write(ctx, tx, view); err != nil {
		return err
	}
	// All members share score 0 so the set orders them by the member
	// itself: (placed time, id), which is exactly the paging order.
	tx.Pipe().ZAdd(ctx, tx.Key(customerPart, ev.CustomerID), redis.Z{Member: member(at, ev.OrderID)})
	return nil
}

// update applies change to an existing view. Events of one stream arrive in
// order, so order.placed has always been applied first.
func update(ctx context.Context, tx *projection.Tx, id string, at time.Time, change func(*OrderView)) error {
	raw, err := tx.Reader().Get(ctx, tx.Key(orderPart, id)).Bytes()
	if err != nil {
		return fmt.Errorf("read view of order %s: %w", id, err)
	}
	var view OrderView
	if err := json.Unmarshal(raw, &view); err != nil {
		return fmt.Errorf("decode view of order %s: %w", id, err)
	}
	change(&view)
	view.UpdatedAt = at
	return write(ctx, tx, view)
}

func write(ctx context.Context, tx *projection.Tx, view OrderView) error {
	b, err := json.Marshal(view)
	if err != nil {
		return err
	}
	tx.Pipe().Set(ctx, tx.Key(orderPart, view.ID), b, 0)
	return nil
}

// ErrNotFound means the model holds no such order.
var ErrNotFound = errors.New("order not found")

// OrderReader reads the order model.
type OrderReader struct {
	rdb    *redis.Client
	reader projection.Reader
}

// NewOrderReader returns a reader of the order projection kept under prefix.
func NewOrderReader(rdb *redis.Client, prefix string) *OrderReader {
	return &OrderReader{rdb: rdb, reader: projection.NewReader(rdb, prefix, OrdersName)}
}

// Get returns the view of order id, or ErrNotFound.
func (r *OrderReader) Get(ctx context.Context, id string) (OrderView, error) {
	key, err := r.reader.Key(ctx, orderPart, id)
	if err != nil {
		return OrderView{}, err
	}
	raw, err := r.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return OrderView{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return OrderView{}, fmt.Errorf("read order %s: %w", id, err)
	}
	var view OrderView
	if err := json.Unmarshal(raw, &view); err != nil {
		return OrderView{}, fmt.Errorf("decode order %s: %w", id, err)
	}
	return view, nil
}
