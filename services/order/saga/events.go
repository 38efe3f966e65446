package saga

import (
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
)

// Category is the stream category of the saga; the id is the order id.
const Category = "fulfilment"

// Event type names: a published contract (the inventory and payment
// participants subscribe to the *_requested ones). Never change one's
// meaning; a breaking change is a new type.
const (
	// TypeStarted: the saga took charge of a placed order.
	TypeStarted = "fulfilment.started"
	// TypeReservationRequested: inventory is asked to reserve every line.
	TypeReservationRequested = "fulfilment.reservation_requested"
	// TypeStockReserved: the saga saw inventory reserve one line.
	TypeStockReserved = "fulfilment.stock_reserved"
	// TypeStockRejected: the saga saw inventory reject one line (not enough stock).
	TypeStockRejected = "fulfilment.stock_rejected"
	// TypeStockReleased: the saga saw one line's reservation released or expired.
	TypeStockReleased = "fulfilment.stock_released"
	// TypeStockCommitted: the saga saw one line's reservation committed (sold).
	TypeStockCommitted = "fulfilment.stock_committed"
	// TypePaymentRequested: payment is asked to capture the order's total.
	TypePaymentRequested = "fulfilment.payment_requested"
	// TypePaymentCaptured: the saga saw the payment captured.
	TypePaymentCaptured = "fulfilment.payment_captured"
	// TypePaymentDeclined: the saga saw the payment declined.
	TypePaymentDeclined = "fulfilment.payment_declined"
	// TypePaymentUnknown: the saga saw the payment's outcome reported unknown.
	TypePaymentUnknown = "fulfilment.payment_unknown"
	// TypePaymentRefunded: the saga saw the payment refunded.
	TypePaymentRefunded = "fulfilment.payment_refunded"
	// TypeReconcileRequested: payment is asked to find out from the provider what became of the charge.
	TypeReconcileRequested = "fulfilment.reconcile_requested"
	// TypeCancellationRequested: the saga saw the customer ask to cancel.
	TypeCancellationRequested = "fulfilment.cancellation_requested"
	// TypeCompensating: the saga gave the order up, with the reason; it undoes what was done and cancels the order.
	TypeCompensating = "fulfilment.compensating"
	// TypeReleaseRequested: inventory is asked to release every line (a barrier for lines never reserved).
	TypeReleaseRequested = "fulfilment.release_requested"
	// TypeRefundRequested: payment is called off: the cancel barrier is recorded and money captured before or after is refunded.
	TypeRefundRequested = "fulfilment.refund_requested"
	// TypeStockSecureRequested: the payment is captured; inventory is asked to secure every line (it may no longer lapse).
	TypeStockSecureRequested = "fulfilment.stock_secure_requested"
	// TypeStockSecured: the saga saw inventory secure one line.
	TypeStockSecured = "fulfilment.stock_secured"
	// TypeConfirmRequested: everything is in place; the order service confirms the order.
	TypeConfirmRequested = "fulfilment.confirm_requested"
	// TypeStockCommitRequested: the order is confirmed; inventory is asked to commit every line.
	TypeStockCommitRequested = "fulfilment.stock_commit_requested"
	// TypeDeadlineSet: a step must have an outcome by At.
	TypeDeadlineSet = "fulfilment.deadline_set"
	// TypeDeadlinePassed: a step's deadline passed.
	TypeDeadlinePassed = "fulfilment.deadline_passed" //nolint:gosec // G101: an event type name; "Passed" is about a deadline, not a password
	// TypeCompleted: the order is final (confirmed or cancelled); the saga is done.
	TypeCompleted = "fulfilment.completed"
)

// Register registers every saga event with r. Call it once per registry.
func Register(r *es.Registry) {
	es.Register[Started](r, TypeStarted)
	es.Register[ReservationRequested](r, TypeReservationRequested)
	es.Register[StockReserved](r, TypeStockReserved)
	es.Register[StockRejected](r, TypeStockRejected)
	es.Register[StockReleased](r, TypeStockReleased)
	es.Register[StockCommitted](r, TypeStockCommitted)
	es.Register[PaymentRequested](r, TypePaymentRequested)
	es.Register[PaymentCaptured](r, TypePaymentCaptured)
	es.Register[PaymentDeclined](r, TypePaymentDeclined)
	es.Register[PaymentUnknown](r, TypePaymentUnknown)
	es.Register[PaymentRefunded](r, TypePaymentRefunded)
	es.Register[ReconcileRequested](r, TypeReconcileRequested)
	es.Register[CancellationRequested](r, TypeCancellationRequested)
	es.Register[Compensating](r, TypeCompensating)
	es.Register[ReleaseRequested](r, TypeReleaseRequested)
	es.Register[RefundRequested](r, TypeRefundRequested)
	es.Register[StockSecureRequested](r, TypeStockSecureRequested)
	es.Register[StockSecured](r, TypeStockSecured)
	es.Register[ConfirmRequested](r, TypeConfirmRequested)
	es.Register[StockCommitRequested](r, TypeStockCommitRequested)
	es.Register[DeadlineSet](r, TypeDeadlineSet)
	es.Register[DeadlinePassed](r, TypeDeadlinePassed)
	es.Register[Completed](r, TypeCompleted)
}

// Line is one SKU of the order and its quantity.
type Line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Step names a step that has a deadline.
type Step string

// The steps with deadlines.
const (
	// StepReservation: every line must be reserved by its deadline.
	StepReservation Step = "reservation"
	// StepPayment: the payment must be captured by its deadline.
	StepPayment Step = "payment"
)

// Outcome is how the saga ended.
type Outcome string

// The outcomes.
const (
	Confirmed Outcome = "confirmed"
	Cancelled Outcome = "cancelled"
)

// Started is the body of fulfilment.started.
type Started struct {
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	Lines      []Line      `json:"lines"`
	Amount     money.Money `json:"amount"`
	At         time.Time   `json:"at"`
}

// ReservationRequested is the body of fulfilment.reservation_requested.
type ReservationRequested struct {
	OrderID string `json:"order_id"`
	Lines   []Line `json:"lines"`
}

// StockReserved is the body of fulfilment.stock_reserved.
type StockReserved struct {
	OrderID  string `json:"order_id"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// StockRejected is the body of fulfilment.stock_rejected.
type StockRejected struct {
	OrderID   string `json:"order_id"`
	SKU       string `json:"sku"`
	Quantity  int    `json:"quantity"`
	Available int    `json:"available"`
}

// StockReleased is the body of fulfilment.stock_released. Expired says the
// reservation lapsed (inventory's TTL) rather than being released on request.
type StockReleased struct {
	OrderID  string `json:"order_id"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	Expired  bool   `json:"expired"`
}

// StockCommitted is the body of fulfilment.stock_committed.
type StockCommitted struct {
	OrderID  string `json:"order_id"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// PaymentRequested is the body of fulfilment.payment_requested.
type PaymentRequested struct {
	OrderID string      `json:"order_id"`
	Amount  money.Money `json:"amount"`
}

// PaymentCaptured is the body of fulfilment.payment_captured.
type PaymentCaptured struct {
	OrderID     string `json:"order_id"`
	ProviderRef string `json:"provider_ref"`
}

// PaymentDeclined is the body of fulfilment.payment_declined.
type PaymentDeclined struct {
	OrderID string `json:"order_id"`
	Reason  string `json:"reason"`
}

// PaymentUnknown is the body of fulfilment.payment_unknown.
type PaymentUnknown struct {
	OrderID string `json:"order_id"`
	Detail  string `json:"detail"`
}

// PaymentRefunded is the body of fulfilment.payment_refunded.
type PaymentRefunded struct {
	OrderID string `json:"order_id"`
}

// ReconcileRequested is the body of fulfilment.reconcile_requested.
type ReconcileRequested struct {
	OrderID string `json:"order_id"`
}

// CancellationRequested is the body of fulfilment.cancellation_requested.
type CancellationRequested struct {
	OrderID string `json:"order_id"`
}

// Compensating is the body of fulfilment.compensating. Reason is one of
// the order's cancellation reasons.
type Compensating struct {
	OrderID string `json:"order_id"`
	Reason  string `json:"reason"`
}

// ReleaseRequested is the body of fulfilment.release_requested.
type ReleaseRequested struct {
	OrderID string `json:"order_id"`
	Lines   []Line `json:"lines"`
}

// RefundRequested is the body of fulfilment.refund_requested.
type RefundRequested struct {
	OrderID string `json:"order_id"`
}

// StockSecureRequested is the body of fulfilment.stock_secure_requested.
type StockSecureRequested struct {
	OrderID string `json:"order_id"`
	Lines   []Line `json:"lines"`
}

// StockSecured is the body of fulfilment.stock_secured.
type StockSecured struct {
	OrderID  string `json:"order_id"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// ConfirmRequested is the body of fulfilment.confirm_requested.
type ConfirmRequested struct {
	OrderID string `json:"order_id"`
}

// StockCommitRequested is the body of fulfilment.stock_commit_requested.
type StockCommitRequested struct {
	OrderID string `json:"order_id"`
	Lines   []Line `json:"lines"`
}

// DeadlineSet is the body of fulfilment.deadline_set.
type DeadlineSet struct {
	OrderID string    `json:"order_id"`
	Step    Step      `json:"step"`
	At      time.Time `json:"at"`
}

// DeadlinePassed is the body of fulfilment.deadline_passed.
type DeadlinePassed struct {
	OrderID string    `json:"order_id"`
	Step    Step      `json:"step"`
	At      time.Time `json:"at"`
}

// Completed is the body of fulfilment.completed. Reason is set when
// cancelled; DurationMS runs from the order's placement to this decision.
type Completed struct {
	OrderID    string  `json:"order_id"`
	Outcome    Outcome `json:"outcome"`
	Reason     string  `json:"reason,omitempty"`
	DurationMS int64   `json:"duration_ms"`
}
