package order

import (
	"slices"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
)

// Limits on an order.
const (
	// MaxLines is the most lines (distinct SKUs) an order may have, and the
	// most items a placement may list.
	MaxLines = 50
	// MaxQuantity is the most units of one SKU an order may ask for.
	MaxQuantity = 100
	// maxIDLength bounds order and customer ids.
	maxIDLength = 100
)

// Status is where an order stands. The zero Status means not placed.
type Status string

// The statuses; confirmed and cancelled are final.
const (
	StatusPending   Status = "pending"
	StatusConfirmed Status = "confirmed"
	StatusCancelled Status = "cancelled"
)

// Reason says why an order was cancelled.
type Reason string

// The cancellation reasons.
const (
	// ReasonOutOfStock: a line's stock could not be reserved.
	ReasonOutOfStock Reason = "out_of_stock"
	// ReasonPaymentDeclined: the payment provider declined the payment.
	ReasonPaymentDeclined Reason = "payment_declined"
	// ReasonCustomerCancelled: the customer asked to cancel.
	ReasonCustomerCancelled Reason = "customer_cancelled"
	// ReasonPaymentTimeout: the payment did not complete before its deadline.
	ReasonPaymentTimeout Reason = "payment_timeout"
)

// Valid reports whether r is one of the reasons above.
func (r Reason) Valid() bool {
	switch r {
	case ReasonOutOfStock, ReasonPaymentDeclined, ReasonCustomerCancelled, ReasonPaymentTimeout:
		return true
	}
	return false
}

// Line is one SKU of a placed order, priced from the catalog.
type Line struct {
	SKU       string      `json:"sku"`
	Quantity  int         `json:"quantity"`
	UnitPrice money.Money `json:"unit_price"`
}

// Order is the Order aggregate's state.
type Order struct {
	ID         string
	CustomerID string
	Status     Status
	Lines      []Line
	Total      money.Money
	// Reason is set once cancelled.
	Reason Reason
	// CancellationRequested is set when the customer asked to cancel; from
	// then on the order can only be cancelled, never confirmed.
	CancellationRequested bool
}

// Aggregate runs Order commands with es.Repository.
var Aggregate = es.Aggregate[Order]{
	Category: Category,
	Initial:  func(id string) Order { return Order{ID: id} },
	Apply:    apply,
}

func apply(o Order, event any) Order {
	switch e := event.(type) {
	case Placed:
		o.CustomerID, o.Status, o.Lines, o.Total = e.CustomerID, StatusPending, slices.Clone(e.Lines), e.Total
	case Confirmed:
		o.Status = StatusConfirmed
	case Cancelled:
		o.Status, o.Reason = StatusCancelled, e.Reason
	case CancellationRequested:
		o.CancellationRequested = true
	}
	return o
}

// Exists reports whether the order has been placed.
func (o Order) Exists() bool { return o.Status != "" }

// Final reports whether the order is confirmed or cancelled.
func (o Order) Final() bool { return o.Status == StatusConfirmed || o.Status == StatusCancelled }

// Confirm confirms a pending order. Confirming again is a no-op; confirming
// a cancelled order, or one whose customer asked to cancel, conflicts.
func (o Order) Confirm() ([]any, error) {
	switch {
	case !o.Exists():
		return nil, o.notFound()
	case o.Status == StatusConfirmed:
		return nil, nil
	case o.Status == StatusCancelled:
		return nil, errorf(ErrConflict, "order %s is cancelled; it cannot be confirmed", o.ID)
	case o.CancellationRequested:
		return nil, errorf(ErrConflict, "order %s: the customer asked to cancel; it cannot be confirmed", o.ID)
	}
	return []any{Confirmed{OrderID: o.ID, CustomerID: o.CustomerID, Total: o.Total}}, nil
}

// Cancel cancels a pending order for a reason. Cancelling again is a no-op
// (the first reason stands); cancelling a confirmed order conflicts.
func (o Order) Cancel(reason Reason) ([]any, error) {
	if !reason.Valid() {
		return nil, errorf(ErrInvalid, "cancellation reason %q: want out_of_stock, payment_declined, customer_cancelled or payment_timeout", reason)
	}
	switch {
	case !o.Exists():
		return nil, o.notFound()
	case o.Status == StatusCancelled:
		return nil, nil
	case o.Status == StatusConfirmed:
		return nil, errorf(ErrConflict, "order %s is confirmed; it cannot be cancelled", o.ID)
	}
	return []any{Cancelled{OrderID: o.ID, CustomerID: o.CustomerID, Reason: reason}}, nil
}

// RequestCancellation records the customer's wish to cancel a pending
// order. Asking again, or after the order was cancelled, is a no-op; asking
// after it was confirmed conflicts.
func (o Order) RequestCancellation() ([]any, error) {
	switch {
	case !o.Exists():
		return nil, o.notFound()
	case o.Status == StatusConfirmed:
		return nil, errorf(ErrConflict, "order %s is confirmed; it can no longer be cancelled", o.ID)
	case o.Status == StatusCancelled || o.CancellationRequested:
		return nil, nil
	}
	return []any{CancellationRequested{OrderID: o.ID, CustomerID: o.CustomerID}}, nil
}

func (o Order) notFound() error { return errorf(ErrNotFound, "order %s not found", o.ID) }
