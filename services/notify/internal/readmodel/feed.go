// Package readmodel keeps the notify service's Redis read model: the
// notification feed per customer and per order, the orders notify knows
// (from order.placed, so an order without notifications yet reads as an
// empty feed rather than 404), and the set of notifications still due,
// which the retry sweep reads.
package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/projection"

	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/order"
)

// Name is the feed projection's name under the service's prefix.
const Name = "feed"

// Key layout inside a key space. Each family has its own first part, so
// ids that contain ':' cannot make two families collide.
//
//	n:<notification id>         hash: order_id, kind, customer_id, status, sent_at
//	by-customer:<customer id>   list of notification ids, in request order
//	by-order:<order id>         list of notification ids, in request order
//	order-customer:<order id>   the order's customer (known orders)
//	due                         set of notification ids requested or failed
const (
	partNotification  = "n"
	partByCustomer    = "by-customer"
	partByOrder       = "by-order"
	partOrderCustomer = "order-customer"
	partDue           = "due"
)

// Projection returns the feed projection.
func Projection() projection.Projection {
	return projection.Projection{
		Name: Name,
		Filter: es.Filter{
			Categories: []string{notify.Category, order.Category},
			Types:      []string{notify.TypeRequested, notify.TypeSent, notify.TypeFailed, order.TypePlaced},
		},
		Apply: apply,
	}
}

func apply(ctx context.Context, e es.Event, tx *projection.Tx) error {
	p := tx.Pipe()
	switch e.Type {
	case order.TypePlaced:
		var b order.Placed
		if err := json.Unmarshal(e.Data, &b); err != nil {
			return fmt.Errorf("decode %s: %w", e.Type, err)
		}
		p.Set(ctx, tx.Key(partOrderCustomer, b.OrderID), b.CustomerID, 0)
	case notify.TypeRequested:
		var b notify.Requested
		if err := json.Unmarshal(e.Data, &b); err != nil {
			return fmt.Errorf("decode %s: %w", e.Type, err)
		}
		id := notify.ID(b.OrderID, b.Kind)
		p.HSet(ctx, tx.Key(partNotification, id), "order_id", b.OrderID, "kind", string(b.Kind),
			"customer_id", b.CustomerID, "status", string(notify.StatusRequested), "sent_at", "")
		// Requested comes once per notification (the domain makes a second
		// request a no-op), and the step is atomic, so RPUSH never repeats.
		p.RPush(ctx, tx.Key(partByCustomer, b.CustomerID), id)
		p.RPush(ctx, tx.Key(partByOrder, b.OrderID), id)
		p.SetNX(ctx, tx.Key(partOrderCustomer, b.OrderID), b.CustomerID, 0)
		p.SAdd(ctx, tx.Key(partDue), id)
	case notify.TypeSent:
		var b notify.Sent
		if err := json.Unmarshal(e.Data, &b); err != nil {
			return fmt.Errorf("decode %s: %w", e.Type, err)
		}
		id := notify.ID(b.OrderID, b.Kind)
		p.HSet(ctx, tx.Key(partNotification, id), "status", string(notify.StatusSent), "sent_at", e.RecordedAt.UTC().Format(time.RFC3339Nano))
		p.SRem(ctx, tx.Key(partDue), id)
	case notify.TypeFailed:
		var b notify.Failed
		if err := json.Unmarshal(e.Data, &b); err != nil {
			return fmt.Errorf("decode %s: %w", e.Type, err)
		}
		p.HSet(ctx, tx.Key(partNotification, notify.ID(b.OrderID, b.Kind)), "status", string(notify.StatusFailed))
	}
	return nil
}

// Item is one notification in a feed.
type Item struct {
	OrderID string        `json:"order_id,omitempty"`
	Kind    notify.Kind   `json:"kind"`
	SentAt  *time.Time    `json:"sent_at"`
	Status  notify.Status `json:"status"`
}

// Feed reads the feed model.
type Feed struct {
	rdb    *redis.Client
	reader projection.Reader
}

// NewFeed returns a reader of the feed kept under prefix.
func NewFeed(rdb *redis.Client, prefix string) *Feed {
	return &Feed{rdb: rdb, reader: projection.NewReader(rdb, prefix, Name)}
}

// ByCustomer returns the customer's notifications, oldest first.
func (f *Feed) ByCustomer(ctx context.Context, customerID string) ([]Item, error) {
	sp, err := f.reader.Keys(ctx)
	if err != nil {
		return nil, err
	}
	return f.items(ctx, sp, sp.Key(partByCustomer, customerID))
}

// ErrUnknownOrder means the feed has never seen the order.
var ErrUnknownOrder = errors.New("unknown order")

// ByOrder returns the order's customer and its notifications, oldest first,
// or ErrUnknownOrder.
func (f *Feed) ByOrder(ctx context.Context, orderID string) (string, []Item, error) {
	sp, err := f.reader.Keys(ctx)
	if err != nil {
		return "", nil, err
	}
	customer, err := f.rdb.Get(ctx, sp.Key(partOrderCustomer, orderID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil, ErrUnknownOrder
	}
	if err != nil {
		return "", nil, fmt.Errorf("read order %s: %w", orderID, err)
	}
	items, err := f.items(ctx, sp, sp.Key(partByOrder, orderID))
	return customer, items, err
}

// Due returns the ids of the notifications requested or failed and not yet
// sent, as far as the model has seen. It makes Feed an app.DueLister.
func (f *Feed) Due(ctx context.Context) ([]string, error) {
	key, err := f.reader.Key(ctx, partDue)
	if err != nil {
		return nil, err
	}
	return f.rdb.SMembers(ctx, key).Result()
}

func (f *Feed) items(ctx context.Context, sp projection.Space, listKey string) ([]Item, error) {
	ids, err := f.rdb.LRange(ctx, listKey, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", listKey, err)
	}
	pipe := f.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, sp.Key(partNotification, id))
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("read notifications: %w", err)
		}
	}
	items := make([]Item, 0, len(ids))
	for _, c := range cmds {
		items = append(items, toItem(c.Val()))
	}
	return items, nil
}

func toItem(h map[string]string) Item {
	it := Item{OrderID: h["order_id"], Kind: notify.Kind(h["kind"]), Status: notify.Status(h["status"])}
	if t, err := time.Parse(time.RFC3339Nano, h["sent_at"]); err == nil {
		it.SentAt = &t
	}
	return it
}
