package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ordo-platform/ordo/pkg/money"
)

// Kind is what became of a charge.
type Kind int

// The kinds of Outcome.
const (
	// Unknown: a call went out but no answer came back; the provider may
	// or may not have charged. Reconcile with Lookup.
	Unknown Kind = iota
	// Captured: the money was taken; Ref is the charge id.
	Captured
	// Declined: no money moved; Reason says why.
	Declined
)

func (k Kind) String() string {
	return [...]string{Unknown: "unknown", Captured: "captured", Declined: "declined"}[k]
}

// Outcome is the provider's answer to a charge.
type Outcome struct {
	Kind   Kind
	Ref    string // the charge id, when captured
	Reason string // why, when declined
	Detail string // what went wrong, when unknown
}

// charge is the provider's charge as its API shows it.
type charge struct {
	ID            string      `json:"id"`
	Status        string      `json:"status"`
	Amount        money.Money `json:"amount"`
	DeclineReason string      `json:"decline_reason"`
}

func (ch charge) outcome() (Outcome, error) {
	switch ch.Status {
	case "captured":
		return Outcome{Kind: Captured, Ref: ch.ID}, nil
	case "declined":
		return Outcome{Kind: Declined, Reason: ch.DeclineReason}, nil
	}
	return Outcome{}, fmt.Errorf("%w: charge %s has status %q", ErrRejected, ch.ID, ch.Status)
}

// Charge asks the provider to charge amount under key (the order id). It
// returns an error only when the provider certainly did not act: the breaker
// was open before any call went out (ErrUnavailable), or the provider
// refused the request (ErrRejected). When calls went out and none was
// answered, the outcome is Unknown.
func (c *Client) Charge(ctx context.Context, key string, amount money.Money) (Outcome, error) {
	body := map[string]any{"idempotency_key": key, "amount": amount}
	r, sent, err := c.call(ctx, http.MethodPost, "/v1/charges", body)
	switch {
	case err != nil && sent:
		return Outcome{Kind: Unknown, Detail: err.Error()}, nil
	case err != nil:
		return Outcome{}, err
	case r.status != http.StatusOK && r.status != http.StatusCreated:
		return Outcome{}, rejected("charge "+key, r)
	}
	var ch charge
	if err := json.Unmarshal(r.body, &ch); err != nil {
		return Outcome{Kind: Unknown, Detail: "unreadable charge answer: " + err.Error()}, nil
	}
	return ch.outcome()
}

// Lookup asks the provider what became of the charge with key. found is
// false when the provider answered that it has none.
func (c *Client) Lookup(ctx context.Context, key string) (o Outcome, found bool, err error) {
	r, _, err := c.call(ctx, http.MethodGet, "/v1/charges?idempotency_key="+url.QueryEscape(key), nil)
	switch {
	case err != nil:
		return Outcome{}, false, err
	case r.status == http.StatusNotFound:
		return Outcome{}, false, nil
	case r.status != http.StatusOK:
		return Outcome{}, false, rejected("look up "+key, r)
	}
	var ch charge
	if err := json.Unmarshal(r.body, &ch); err != nil {
		return Outcome{}, false, fmt.Errorf("%w: unreadable charge: %w", ErrUnavailable, err)
	}
	o, err = ch.outcome()
	return o, err == nil, err
}

// Refund asks the provider to refund the charge chargeID under key and
// returns the refund's id. The provider refunds a charge once, so repeating
// a refund whose answer was lost is safe; on ErrUnavailable do just that.
func (c *Client) Refund(ctx context.Context, key, chargeID string) (string, error) {
	body := map[string]string{"idempotency_key": key, "charge_id": chargeID}
	r, _, err := c.call(ctx, http.MethodPost, "/v1/refunds", body)
	switch {
	case err != nil:
		return "", err
	case r.status != http.StatusOK && r.status != http.StatusCreated:
		return "", rejected("refund "+chargeID, r)
	}
	var ref struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &ref); err != nil || ref.ID == "" {
		return "", fmt.Errorf("%w: unreadable refund answer", ErrUnavailable)
	}
	return ref.ID, nil
}

// BreakerState is the breaker as /admin/breaker shows it.
type BreakerState struct {
	Name                 string `json:"name"`
	State                string `json:"state"` // closed, half-open or open
	Requests             uint32 `json:"requests"`
	TotalSuccesses       uint32 `json:"total_successes"`
	TotalFailures        uint32 `json:"total_failures"`
	ConsecutiveSuccesses uint32 `json:"consecutive_successes"`
	ConsecutiveFailures  uint32 `json:"consecutive_failures"`
}

// Breaker returns the breaker's state and counts (since its last change of
// state).
func (c *Client) Breaker() BreakerState {
	n := c.cb.Counts()
	return BreakerState{
		Name: c.cb.Name(), State: c.cb.State().String(), Requests: n.Requests,
		TotalSuccesses: n.TotalSuccesses, TotalFailures: n.TotalFailures,
		ConsecutiveSuccesses: n.ConsecutiveSuccesses, ConsecutiveFailures: n.ConsecutiveFailures,
	}
}
