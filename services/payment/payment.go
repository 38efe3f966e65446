package payment

import (
	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
)

// maxText bounds ids, references and reasons.
const maxText = 200

// Status is the payment's status as reads show it. The zero Status means
// not requested.
type Status string

// The statuses.
const (
	StatusPending  Status = "pending"
	StatusCaptured Status = "captured"
	StatusDeclined Status = "declined"
	StatusRefunded Status = "refunded"
	// StatusUnknown: the outcome is being reconciled with the provider.
	StatusUnknown Status = "unknown"
)

// Payment is the Payment aggregate's state.
type Payment struct {
	OrderID       string
	Status        Status
	Amount        money.Money
	ProviderRef   string
	DeclineReason string
	RefundRef     string
	// Cancelled is the barrier: the order no longer wants this payment.
	Cancelled bool
}

// Aggregate runs Payment commands with es.Repository.
var Aggregate = es.Aggregate[Payment]{
	Category: Category,
	Initial:  func(orderID string) Payment { return Payment{OrderID: orderID} },
	Apply:    apply,
}

func apply(p Payment, event any) Payment {
	switch e := event.(type) {
	case Requested:
		p.Status, p.Amount = StatusPending, e.Amount
	case Captured:
		p.Status, p.ProviderRef = StatusCaptured, e.ProviderRef
	case Declined:
		p.Status, p.DeclineReason = StatusDeclined, e.Reason
	case OutcomeUnknown:
		p.Status = StatusUnknown
	case Refunded:
		p.Status, p.RefundRef = StatusRefunded, e.RefundRef
	case Cancelled:
		p.Cancelled = true
	}
	return p
}

// Requested reports whether the payment has been requested.
func (p Payment) Requested() bool { return p.Status != "" }

// Chargeable reports whether the provider should be asked to charge: the
// payment is pending and not cancelled.
func (p Payment) Chargeable() bool { return p.Status == StatusPending && !p.Cancelled }

// RefundDue reports that money was captured for an order that no longer
// wants it (captured after, or before, a cancel): refund it.
func (p Payment) RefundDue() bool { return p.Status == StatusCaptured && p.Cancelled }

// Request asks for amount to be charged for the order. Requesting again the
// same amount, or after a cancel, is a no-op; another amount conflicts.
func (p Payment) Request(amount money.Money) ([]any, error) {
	if err := validateText("order id", p.OrderID); err != nil {
		return nil, err
	}
	if err := amount.Validate(); err != nil || amount.IsZero() {
		return nil, errorf(ErrInvalid, "amount %v: want a positive amount of a valid currency", amount)
	}
	switch {
	case p.Cancelled && !p.Requested():
		return nil, nil
	case !p.Requested():
		return []any{Requested{OrderID: p.OrderID, Amount: amount}}, nil
	case p.Amount == amount:
		return nil, nil
	}
	return nil, errorf(ErrConflict, "payment for order %s was requested for %v, not %v", p.OrderID, p.Amount, amount)
}

// Capture records that the provider captured the money. It is recorded even
// after a cancel, because the money did move; RefundDue then says so.
// Recording the same capture again is a no-op.
func (p Payment) Capture(providerRef string) ([]any, error) {
	if err := validateText("provider reference", providerRef); err != nil {
		return nil, err
	}
	switch p.Status {
	case "":
		return nil, p.notFound()
	case StatusPending, StatusUnknown:
		return []any{Captured{OrderID: p.OrderID, Amount: p.Amount, ProviderRef: providerRef}}, nil
	case StatusCaptured, StatusRefunded:
		if p.ProviderRef == providerRef {
			return nil, nil
		}
		return nil, errorf(ErrConflict, "payment for order %s was captured as %s, not %s", p.OrderID, p.ProviderRef, providerRef)
	}
	return nil, errorf(ErrConflict, "payment for order %s was declined; it cannot be captured", p.OrderID)
}

// Decline records that the provider declined the charge. Again is a no-op;
// after a capture it conflicts.
func (p Payment) Decline(reason string) ([]any, error) {
	if err := validateText("decline reason", reason); err != nil {
		return nil, err
	}
	switch p.Status {
	case "":
		return nil, p.notFound()
	case StatusPending, StatusUnknown:
		return []any{Declined{OrderID: p.OrderID, Reason: reason}}, nil
	case StatusDeclined:
		return nil, nil
	}
	return nil, errorf(ErrConflict, "payment for order %s was %s; it cannot be declined", p.OrderID, p.Status)
}

// ReportUnknown records that the provider's answer was lost. Once an outcome
// is known (or already unknown) a late report is a no-op.
func (p Payment) ReportUnknown(detail string) ([]any, error) {
	if len(detail) > maxText {
		return nil, errorf(ErrInvalid, "detail is longer than %d bytes", maxText)
	}
	switch p.Status {
	case "":
		return nil, p.notFound()
	case StatusPending:
		return []any{OutcomeUnknown{OrderID: p.OrderID, Detail: detail}}, nil
	}
	return nil, nil
}

// Refund records that the provider refunded a captured payment. Only a
// captured payment can be refunded, once; again is a no-op.
func (p Payment) Refund(refundRef string) ([]any, error) {
	if err := validateText("refund reference", refundRef); err != nil {
		return nil, err
	}
	switch p.Status {
	case "":
		return nil, p.notFound()
	case StatusCaptured:
		return []any{Refunded{OrderID: p.OrderID, Amount: p.Amount, RefundRef: refundRef}}, nil
	case StatusRefunded:
		return nil, nil
	}
	return nil, errorf(ErrConflict, "payment for order %s is %s; only a captured payment can be refunded", p.OrderID, p.Status)
}

// Cancel calls the payment off: the saga's compensation. It always
// succeeds. Before a request or capture it records a barrier (a late
// request is then a no-op and a late capture makes RefundDue true); after a
// capture it makes RefundDue true; after a decline or refund, or a second
// time, there is nothing to undo and it records nothing.
func (p Payment) Cancel() ([]any, error) {
	if err := validateText("order id", p.OrderID); err != nil {
		return nil, err
	}
	if p.Cancelled || p.Status == StatusDeclined || p.Status == StatusRefunded {
		return nil, nil
	}
	return []any{Cancelled{OrderID: p.OrderID}}, nil
}

func (p Payment) notFound() error {
	return errorf(ErrNotFound, "no payment requested for order %s", p.OrderID)
}

func validateText(what, s string) error {
	if s == "" || len(s) > maxText {
		return errorf(ErrInvalid, "%s must be 1 to %d bytes", what, maxText)
	}
	return nil
}
