// Package readmodel keeps the payment service's Redis read model, the
// "payments" projection: one view per order, plus the set of orders whose
// payment needs reconciling, which feeds the background reconciler.
package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/services/payment"
)

// Name is the projection's name under the service's key prefix.
const Name = "payments"

// View is one order's payment as reads show it.
type View struct {
	OrderID string `json:"order_id"`
	// Status is pending, captured, declined, refunded or unknown (the
	// outcome is being reconciled with the provider).
	Status        payment.Status `json:"status"`
	Amount        money.Money    `json:"amount"`
	ProviderRef   string         `json:"provider_ref,omitempty"`
	DeclineReason string         `json:"decline_reason,omitempty"`
	RefundRef     string         `json:"refund_ref,omitempty"`
	// Cancelled: the order no longer wants the payment; captured money is
	// refunded.
	Cancelled bool      `json:"cancelled"`
	UpdatedAt time.Time `json:"updated_at"`
}

// needsAttention reports whether the reconciler should look at the payment.
// needsAttention keeps a payment in the reconciler's backlog: its outcome
// is unknown, a refund is due, or it is still pending — requested with no
// recorded answer, which after a crash mid-charge may hide a charge the
// provider did make (NeedsAttention waits before it hands those out).
func (v View) needsAttention() bool {
	return v.Status == payment.StatusUnknown || v.Status == payment.StatusPending ||
		(v.Status == payment.StatusCaptured && v.Cancelled)
}

// Backlog timing for pending payments.
const (
	// PendingGrace is how long a pending payment is left to the capture
	// in flight before the reconciler asks the provider about it.
	PendingGrace = 30 * time.Second
	// CalledOffGrace is the same wait for a pending payment that was called
	// off: no capture is wanted any more, so only a moment is left to a
	// call still in flight before the provider is asked whether a charge
	// landed (and, if so, it is refunded). Asking early is harmless: a
	// charge not found is asked about again until PendingHorizon.
	CalledOffGrace = 2 * time.Second
	// PendingHorizon is how long the reconciler keeps asking about a
	// pending payment that was called off: past it, a charge the provider
	// never reported is taken as never made.
	PendingHorizon = 15 * time.Minute
)

// fold applies one payment event to the view; ok is false when the event
// leaves no view (a cancel before any request).
func fold(v View, event any, at time.Time) (View, bool) {
	switch e := event.(type) {
	case payment.Requested:
		v = View{OrderID: e.OrderID, Status: payment.StatusPending, Amount: e.Amount, Cancelled: v.Cancelled}
	case payment.Captured:
		v.Status, v.ProviderRef = payment.StatusCaptured, e.ProviderRef
	case payment.Declined:
		v.Status, v.DeclineReason = payment.StatusDeclined, e.Reason
	case payment.OutcomeUnknown:
		v.Status = payment.StatusUnknown
	case payment.Refunded:
		v.Status, v.RefundRef = payment.StatusRefunded, e.RefundRef
	case payment.Cancelled:
		v.Cancelled = true
	}
	v.UpdatedAt = at.UTC()
	return v, v.Status != ""
}

// New returns the Runner of the payments projection; lot, when not nil,
// parks the events it cannot apply.
func New(store es.Store, rdb *redis.Client, registry *es.Registry, prefix string, log *slog.Logger, lot *park.Lot) (*projection.Runner, error) {
	return projection.New(store, rdb, projection.Projection{
		Name:   Name,
		Filter: es.Filter{Categories: []string{payment.Category}},
		Apply: func(ctx context.Context, e es.Event, tx *projection.Tx) error {
			return apply(ctx, registry, e, tx)
		},
	}, projection.Options{Prefix: prefix, Log: log, Park: lot})
}

func apply(ctx context.Context, registry *es.Registry, e es.Event, tx *projection.Tx) error {
	event, err := registry.Decode(e.Type, e.Data)
	if err != nil {
		return fmt.Errorf("payments projection: %w", err)
	}
	id := strings.TrimPrefix(e.StreamID, payment.Category+"-") // the order id
	key := tx.Key("payment", id)
	v, _, err := get(ctx, tx.Reader(), key)
	if err != nil {
		return err
	}
	v, ok := fold(v, event, e.RecordedAt)
	if !ok {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	pipe := tx.Pipe()
	pipe.Set(ctx, key, b, 0)
	if v.needsAttention() {
		pipe.SAdd(ctx, tx.Key("attention"), id)
	} else {
		pipe.SRem(ctx, tx.Key("attention"), id)
	}
	return nil
}

func get(ctx context.Context, c redis.Cmdable, key string) (View, bool, error) {
	b, err := c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return View{}, false, nil
	}
	if err != nil {
		return View{}, false, fmt.Errorf("read %s: %w", key, err)
	}
	var v View
	if err := json.Unmarshal(b, &v); err != nil {
		return View{}, false, fmt.Errorf("decode %s: %w", key, err)
	}
	return v, true, nil
}

// Reader reads the payments model.
type Reader struct {
	keys projection.Reader
	rdb  *redis.Client
}

// NewReader returns a reader of the model kept under prefix.
func NewReader(rdb *redis.Client, prefix string) Reader {
	return Reader{keys: projection.NewReader(rdb, prefix, Name), rdb: rdb}
}

// Get returns the order's payment; ok is false when there is none.
func (r Reader) Get(ctx context.Context, orderID string) (v View, ok bool, err error) {
	key, err := r.keys.Key(ctx, "payment", orderID)
	if err != nil {
		return View{}, false, err
	}
	return get(ctx, r.rdb, key)
}

// NeedsAttention lists the orders whose payment outcome is unknown, whose
// refund is due, or whose payment has been pending longer than PendingGrace
// (a called-off one: longer than CalledOffGrace, and only until
// PendingHorizon).
func (r Reader) NeedsAttention(ctx context.Context) ([]string, error) {
	key, err := r.keys.Key(ctx, "attention")
	if err != nil {
		return nil, err
	}
	ids, err := r.rdb.SMembers(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := ids[:0]
	for _, id := range ids {
		v, ok, err := r.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok && v.due(now) {
			out = append(out, id)
		}
	}
	return out, nil
}

// due reports whether the reconciler should look at v now.
func (v View) due(now time.Time) bool {
	if v.Status != payment.StatusPending {
		return true
	}
	age := now.Sub(v.UpdatedAt)
	if v.Cancelled {
		return age >= CalledOffGrace && age < PendingHorizon
	}
	return age >= PendingGrace
}
