// Package providersim is a payment provider simulator: an in-memory ledger
// of charges and refunds keyed by idempotency key, behind an HTTP API with
// fault injection (declines, server errors, latency, lost responses), so the
// payment service's retries, breaker and reconciliation can be exercised on
// demand. A seed makes the fault dice reproducible.
package providersim

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
	"time"

	"github.com/ordo-platform/ordo/pkg/money"
)

// Charge statuses.
const (
	StatusCaptured = "captured"
	StatusDeclined = "declined"
)

// Charge is one charge the provider decided. A declined charge is kept too,
// so a retry with its key gets the same answer.
type Charge struct {
	ID             string      `json:"id"`
	IdempotencyKey string      `json:"idempotency_key"`
	Status         string      `json:"status"`
	Amount         money.Money `json:"amount"`
	DeclineReason  string      `json:"decline_reason,omitempty"`
	CreatedAt      time.Time   `json:"created_at"`
	seq            int
}

// Refund gives a captured charge's money back; at most one per charge.
type Refund struct {
	ID             string      `json:"id"`
	IdempotencyKey string      `json:"idempotency_key"`
	ChargeID       string      `json:"charge_id"`
	Amount         money.Money `json:"amount"`
	CreatedAt      time.Time   `json:"created_at"`
	seq            int
}

// Ledger is everything the provider recorded, oldest first.
type Ledger struct {
	Charges []Charge `json:"charges"`
	Refunds []Refund `json:"refunds"`
}

// ledger is the simulator's state. It is not safe for concurrent use: Sim
// guards it with its mutex.
type ledger struct {
	seq             int
	charges         map[string]*Charge // by idempotency key
	chargesByID     map[string]*Charge
	refunds         map[string]*Refund // by charge id
	refundKeyCharge map[string]string  // refund idempotency key → charge id
}

func newLedger() *ledger {
	return &ledger{
		charges:         map[string]*Charge{},
		chargesByID:     map[string]*Charge{},
		refunds:         map[string]*Refund{},
		refundKeyCharge: map[string]string{},
	}
}

// charge returns the charge of key, creating it with decide's answer when
// there is none (decide returns "" to capture, else the decline reason).
// replayed says an earlier charge was returned; mismatch says that charge
// was for another amount (and nothing happened).
func (l *ledger) charge(key string, amount money.Money, now time.Time, decide func() string) (c Charge, replayed, mismatch bool) {
	if old, ok := l.charges[key]; ok {
		return *old, true, old.Amount != amount
	}
	l.seq++
	c = Charge{ID: newID("ch_"), IdempotencyKey: key, Status: StatusCaptured, Amount: amount, CreatedAt: now, seq: l.seq}
	if reason := decide(); reason != "" {
		c.Status, c.DeclineReason = StatusDeclined, reason
	}
	l.charges[key] = &c
	l.chargesByID[c.ID] = &c
	return c, false, false
}

// refundError says why a refund cannot be made.
type refundError int

const (
	refundOK refundError = iota
	refundNoCharge
	refundNotCaptured
	refundKeyReused
)

// refund refunds a captured charge once; a repeat returns the same refund.
func (l *ledger) refund(key, chargeID string, now time.Time) (Refund, bool, refundError) {
	if other, ok := l.refundKeyCharge[key]; ok && other != chargeID {
		return Refund{}, false, refundKeyReused
	}
	c, ok := l.chargesByID[chargeID]
	switch {
	case !ok:
		return Refund{}, false, refundNoCharge
	case c.Status != StatusCaptured:
		return Refund{}, false, refundNotCaptured
	}
	if old, ok := l.refunds[chargeID]; ok {
		return *old, true, refundOK
	}
	l.seq++
	r := Refund{ID: newID("re_"), IdempotencyKey: key, ChargeID: chargeID, Amount: c.Amount, CreatedAt: now, seq: l.seq}
	l.refunds[chargeID] = &r
	l.refundKeyCharge[key] = chargeID
	return r, false, refundOK
}

func (l *ledger) lookup(key string) (Charge, bool) {
	c, ok := l.charges[key]
	if !ok {
		return Charge{}, false
	}
	return *c, true
}

func (l *ledger) snapshot() Ledger {
	out := Ledger{Charges: make([]Charge, 0, len(l.charges)), Refunds: make([]Refund, 0, len(l.refunds))}
	for _, c := range l.charges {
		out.Charges = append(out.Charges, *c)
	}
	for _, r := range l.refunds {
		out.Refunds = append(out.Refunds, *r)
	}
	sort.Slice(out.Charges, func(i, j int) bool { return out.Charges[i].seq < out.Charges[j].seq })
	sort.Slice(out.Refunds, func(i, j int) bool { return out.Refunds[i].seq < out.Refunds[j].seq })
	return out
}

// newID returns a provider reference such as ch_3f9a0c…: random, because a
// real provider's ids carry no meaning for the client.
func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + hex.EncodeToString(b)
}
