package order

import (
	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
)

// Category is the stream category of orders.
const Category = "order"

// Event type names: a published contract. Never change one's meaning; a
// breaking change is a new type.
const (
	// TypePlaced: a customer placed an order; it is pending and the saga starts.
	TypePlaced = "order.placed"
	// TypeConfirmed: stock was reserved and payment captured; the order is final.
	TypeConfirmed = "order.confirmed"
	// TypeCancelled: the order was called off, with a reason; it is final.
	TypeCancelled = "order.cancelled"
	// TypeCancellationRequested: the customer asked to cancel a pending order; the saga undoes what was done.
	TypeCancellationRequested = "order.cancellation_requested"
)

// Register registers every order event with r. Call it once per registry.
func Register(r *es.Registry) {
	es.Register[Placed](r, TypePlaced)
	es.Register[Confirmed](r, TypeConfirmed)
	es.Register[Cancelled](r, TypeCancelled)
	es.Register[CancellationRequested](r, TypeCancellationRequested)
}

// Placed is the body of order.placed.
type Placed struct {
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	Lines      []Line      `json:"lines"`
	Total      money.Money `json:"total"`
}

// Confirmed is the body of order.confirmed. It repeats the customer and
// total so subscribers (notify) need no other event.
type Confirmed struct {
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	Total      money.Money `json:"total"`
}

// Cancelled is the body of order.cancelled.
type Cancelled struct {
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	Reason     Reason `json:"reason"`
}

// CancellationRequested is the body of order.cancellation_requested.
type CancellationRequested struct {
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
}
