package audit

import (
	"context"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
)

// Sources are what an audit reads. Store is required; without Ledger the
// money check uses the payment events alone, without Mailbox the email
// check is skipped, and each absence is reported as a warning.
type Sources struct {
	Store   es.Store
	Ledger  LedgerSource
	Mailbox MailSource
}

// LedgerSource returns everything the payment provider recorded.
type LedgerSource interface {
	Ledger(ctx context.Context) (Ledger, error)
}

// MailSource returns every email the mail catcher holds.
type MailSource interface {
	Messages(ctx context.Context) ([]Email, error)
}

// Ledger is the provider's record, as its GET /v1/ledger serves it (the
// simulator's providersim.Ledger; kept apart because that package is
// internal to the payment service).
type Ledger struct {
	Charges []Charge `json:"charges"`
	Refunds []Refund `json:"refunds"`
}

// ChargeCaptured is the status of a charge that moved money; any other
// status (declined) moved none.
const ChargeCaptured = "captured"

// Charge is one charge the provider decided. Its idempotency key is the
// order id.
type Charge struct {
	ID             string      `json:"id"`
	IdempotencyKey string      `json:"idempotency_key"`
	Status         string      `json:"status"`
	Amount         money.Money `json:"amount"`
	DeclineReason  string      `json:"decline_reason,omitempty"`
	CreatedAt      time.Time   `json:"created_at"`
}

// Refund gives a captured charge's money back.
type Refund struct {
	ID             string      `json:"id"`
	IdempotencyKey string      `json:"idempotency_key"`
	ChargeID       string      `json:"charge_id"`
	Amount         money.Money `json:"amount"`
	CreatedAt      time.Time   `json:"created_at"`
}

// Email is one message the mail catcher holds.
type Email struct {
	// ID is the catcher's own id of the message (Mailpit's ID).
	ID string `json:"id"`
	// MessageID is the Message-ID header without angle brackets.
	MessageID string `json:"message_id"`
	// To are the recipients' addresses.
	To      []string `json:"to"`
	Subject string   `json:"subject"`
}
