package readmodel

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Page is one page of a customer's orders, newest first.
type Page struct {
	Items []OrderView
	// NextCursor continues after the last item; empty on the last page.
	NextCursor string
}

// ErrBadCursor means a cursor was not one this service handed out.
var ErrBadCursor = errors.New("bad cursor")

// memberTimeDigits is the width of the zero-padded placed time (Unix
// microseconds) that starts a paging member, so byte order is time order.
const memberTimeDigits = 20

// member is an order's entry in its customer's sorted set: placed time and
// id. Ordering members by bytes orders orders by (placed_at, id), a total
// order even when two orders share a timestamp.
func member(placedAt time.Time, id string) string {
	return fmt.Sprintf("%0*d:%s", memberTimeDigits, placedAt.UnixMicro(), id)
}

// encodeCursor makes a member opaque to clients.
func encodeCursor(m string) string { return base64.RawURLEncoding.EncodeToString([]byte(m)) }

// decodeCursor checks that c encodes a member: the time digits, a colon
// and an order id (a UUID).
func decodeCursor(c string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a cursor this service returned", ErrBadCursor, c)
	}
	m := string(raw)
	ts, id, ok := strings.Cut(m, ":")
	if !ok || len(ts) != memberTimeDigits {
		return "", fmt.Errorf("%w: %q is not a cursor this service returned", ErrBadCursor, c)
	}
	if _, err := strconv.ParseUint(ts, 10, 64); err != nil {
		return "", fmt.Errorf("%w: %q is not a cursor this service returned", ErrBadCursor, c)
	}
	if _, err := es.ParseUUID(id); err != nil {
		return "", fmt.Errorf("%w: %q is not a cursor this service returned", ErrBadCursor, c)
	}
	return m, nil
}

// ListByCustomer returns up to limit of customer's orders, newest first,
// starting after cursor (empty: from the newest). The cursor names a
// position, not an offset, so orders placed while a client pages never
// make it see an order twice or skip one.
func (r *OrderReader) ListByCustomer(ctx context.Context, customer string, limit int, cursor string) (Page, error) {
	if limit < 1 {
		return Page{}, fmt.Errorf("list orders: limit %d, want at least 1", limit)
	}
	maxLex := "+"
	if cursor != "" {
		m, err := decodeCursor(cursor)
		if err != nil {
			return Page{}, err
		}
		maxLex = "(" + m
	}
	sp, err := r.reader.Keys(ctx)
	if err != nil {
		return Page{}, err
	}
	members, err := r.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: sp.Key(customerPart, customer), Start: maxLex, Stop: "-", ByLex: true, Rev: true, // Rev: Start is the max bound
		Count: int64(limit) + 1, // one more tells whether a next page exists
	}).Result()
	if err != nil {
		return Page{}, fmt.Errorf("list orders of %s: %w", customer, err)
	}
	var page Page
	if len(members) > limit {
		members = members[:limit]
		page.NextCursor = encodeCursor(members[limit-1])
	}
	page.Items, err = r.views(ctx, sp.Key(orderPart), members)
	return page, err
}

// views reads the views the members name in one MGET. A space's set and
// views are written in the same EXEC, so every member has its view.
func (r *OrderReader) views(ctx context.Context, orderKey string, members []string) ([]OrderView, error) {
	items := make([]OrderView, 0, len(members))
	if len(members) == 0 {
		return items, nil
	}
	keys := make([]string, len(members))
	for i, m := range members {
		_, id, _ := strings.Cut(m, ":")
		keys[i] = orderKey + ":" + id
	}
	vals, err := r.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("order view %s is missing", keys[i])
		}
		var view OrderView
		if err := json.Unmarshal([]byte(s), &view); err != nil {
			return nil, fmt.Errorf("decode %s: %w", keys[i], err)
		}
		items = append(items, view)
	}
	return items, nil
}
