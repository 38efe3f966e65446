package payment

import (
	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
)

// Category is the stream category of payments; the id is the order id.
const Category = "payment"

// Event type names: a published contract. Never change one's meaning; a
// breaking change is a new type.
const (
	// TypeRequested: the saga asked for the order's total to be charged.
	TypeRequested = "payment.requested"
	// TypeCaptured: the provider captured the money.
	TypeCaptured = "payment.captured"
	// TypeDeclined: the provider declined the charge; no money moved.
	TypeDeclined = "payment.declined"
	// TypeOutcomeUnknown: the provider did not answer in time; reconciliation will find out.
	TypeOutcomeUnknown = "payment.outcome_unknown"
	// TypeRefunded: the provider gave a captured payment back.
	TypeRefunded = "payment.refunded"
	// TypeCancelled: the order no longer wants the payment (a barrier; a capture before or after it needs a refund).
	TypeCancelled = "payment.cancelled"
)

// Register registers every payment event with r. Call it once per registry.
func Register(r *es.Registry) {
	es.Register[Requested](r, TypeRequested)
	es.Register[Captured](r, TypeCaptured)
	es.Register[Declined](r, TypeDeclined)
	es.Register[OutcomeUnknown](r, TypeOutcomeUnknown)
	es.Register[Refunded](r, TypeRefunded)
	es.Register[Cancelled](r, TypeCancelled)
}

// Requested is the body of payment.requested.
type Requested struct {
	OrderID string      `json:"order_id"`
	Amount  money.Money `json:"amount"`
}

// Captured is the body of payment.captured.
type Captured struct {
	OrderID     string      `json:"order_id"`
	Amount      money.Money `json:"amount"`
	ProviderRef string      `json:"provider_ref"`
}

// Declined is the body of payment.declined.
type Declined struct {
	OrderID string `json:"order_id"`
	Reason  string `json:"reason"`
}

// OutcomeUnknown is the body of payment.outcome_unknown.
type OutcomeUnknown struct {
	OrderID string `json:"order_id"`
	Detail  string `json:"detail"`
}

// Refunded is the body of payment.refunded.
type Refunded struct {
	OrderID   string      `json:"order_id"`
	Amount    money.Money `json:"amount"`
	RefundRef string      `json:"refund_ref"`
}

// Cancelled is the body of payment.cancelled.
type Cancelled struct {
	OrderID string `json:"order_id"`
}
