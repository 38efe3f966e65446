package notify

import (
	"strings"

	"github.com/ordo-platform/ordo/pkg/es"
)

// maxText bounds ids, references and reasons.
const maxText = 200

// Kind is the order outcome a notification tells the customer about.
type Kind string

// The kinds.
const (
	KindOrderConfirmed  Kind = "order_confirmed"
	KindOrderCancelled  Kind = "order_cancelled"
	KindPaymentRefunded Kind = "payment_refunded"
)

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool {
	return k == KindOrderConfirmed || k == KindOrderCancelled || k == KindPaymentRefunded
}

// ID returns the aggregate id of the notification of kind about an order:
// "<order id>:<kind>". One id per (order, kind) is what makes the email
// unique.
func ID(orderID string, kind Kind) string { return orderID + ":" + string(kind) }

// Status is where a notification stands. The zero Status means not
// requested.
type Status string

// The statuses; only sent is final.
const (
	StatusRequested Status = "requested"
	StatusSent      Status = "sent"
	StatusFailed    Status = "failed"
)

// Notification is the Notification aggregate's state.
type Notification struct {
	ID         string
	OrderID    string
	Kind       Kind
	CustomerID string
	To         string
	Status     Status
	// Attempts counts failed attempts.
	Attempts  int
	MessageID string
}

// Aggregate runs Notification commands with es.Repository.
var Aggregate = es.Aggregate[Notification]{
	Category: Category,
	Initial:  func(id string) Notification { return Notification{ID: id} },
	Apply:    apply,
}

func apply(n Notification, event any) Notification {
	switch e := event.(type) {
	case Requested:
		n.OrderID, n.Kind, n.CustomerID, n.To, n.Status = e.OrderID, e.Kind, e.CustomerID, e.To, StatusRequested
	case Sent:
		n.Status, n.MessageID = StatusSent, e.MessageID
	case Failed:
		n.Status, n.Attempts = StatusFailed, e.Attempt
	}
	return n
}

// Due reports whether the email should be (re)sent: requested or failed,
// not yet sent.
func (n Notification) Due() bool { return n.Status == StatusRequested || n.Status == StatusFailed }

// Request asks for the email of kind about an order to go to a customer.
// The notification's id must be ID(orderID, kind). Requesting it again is a
// no-op, whatever the details: one email per order outcome.
func (n Notification) Request(orderID string, kind Kind, customerID, to string) ([]any, error) {
	if !kind.Valid() {
		return nil, errorf(ErrInvalid, "notification kind %q: want order_confirmed, order_cancelled or payment_refunded", kind)
	}
	if err := validateText("order id", orderID); err != nil {
		return nil, err
	}
	if err := validateText("customer id", customerID); err != nil {
		return nil, err
	}
	if err := validateEmail(to); err != nil {
		return nil, err
	}
	if n.ID != ID(orderID, kind) {
		return nil, errorf(ErrInvalid, "notification %s cannot be about order %s, %s", n.ID, orderID, kind)
	}
	if n.Status != "" {
		return nil, nil
	}
	return []any{Requested{OrderID: orderID, Kind: kind, CustomerID: customerID, To: to}}, nil
}

// MarkSent records that the mail server accepted the email. Again is a
// no-op.
func (n Notification) MarkSent(messageID string) ([]any, error) {
	if err := validateText("message id", messageID); err != nil {
		return nil, err
	}
	switch n.Status {
	case "":
		return nil, n.notFound()
	case StatusSent:
		return nil, nil
	}
	return []any{Sent{OrderID: n.OrderID, Kind: n.Kind, MessageID: messageID}}, nil
}

// MarkFailed records a failed attempt. After the email was sent, a late
// failure report is a no-op.
func (n Notification) MarkFailed(reason string) ([]any, error) {
	if err := validateText("failure reason", reason); err != nil {
		return nil, err
	}
	switch n.Status {
	case "":
		return nil, n.notFound()
	case StatusSent:
		return nil, nil
	}
	return []any{Failed{OrderID: n.OrderID, Kind: n.Kind, Reason: reason, Attempt: n.Attempts + 1}}, nil
}

func (n Notification) notFound() error {
	return errorf(ErrNotFound, "notification %s not found", n.ID)
}

func validateText(what, s string) error {
	if s == "" || len(s) > maxText {
		return errorf(ErrInvalid, "%s must be 1 to %d bytes", what, maxText)
	}
	return nil
}

// validateEmail is a sanity check, not RFC 5322: the mail server has the
// last word.
func validateEmail(to string) error {
	at := strings.LastIndexByte(to, '@')
	if len(to) > 254 || at < 1 || at == len(to)-1 || strings.ContainsAny(to, " \t\r\n<>,") {
		return errorf(ErrInvalid, "recipient %q is not an email address", to)
	}
	return nil
}
