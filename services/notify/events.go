package notify

import "github.com/ordo-platform/ordo/pkg/es"

// Category is the stream category of notifications.
const Category = "notification"

// Event type names: a published contract. Never change one's meaning; a
// breaking change is a new type.
const (
	// TypeRequested: an order outcome needs an email to its customer.
	TypeRequested = "notification.requested"
	// TypeSent: the mail server accepted the email.
	TypeSent = "notification.sent"
	// TypeFailed: an attempt to send the email failed; it may be retried.
	TypeFailed = "notification.failed"
)

// Register registers every notification event with r. Call it once per
// registry.
func Register(r *es.Registry) {
	es.Register[Requested](r, TypeRequested)
	es.Register[Sent](r, TypeSent)
	es.Register[Failed](r, TypeFailed)
}

// Requested is the body of notification.requested.
type Requested struct {
	OrderID    string `json:"order_id"`
	Kind       Kind   `json:"kind"`
	CustomerID string `json:"customer_id"`
	// To is the recipient's email address.
	To string `json:"to"`
}

// Sent is the body of notification.sent.
type Sent struct {
	OrderID string `json:"order_id"`
	Kind    Kind   `json:"kind"`
	// MessageID is the mail server's id of the accepted message.
	MessageID string `json:"message_id"`
}

// Failed is the body of notification.failed.
type Failed struct {
	OrderID string `json:"order_id"`
	Kind    Kind   `json:"kind"`
	Reason  string `json:"reason"`
	// Attempt counts failed attempts so far, from 1.
	Attempt int `json:"attempt"`
}
