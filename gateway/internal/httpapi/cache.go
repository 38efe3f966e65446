package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cache keeps the last good copy of an order view's parts (payment,
// notifications) so a read can still show them, marked stale, while their
// backend is down. Writes never read from it.
type Cache struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	op     time.Duration
}

// NewCache keeps copies under prefix for ttl; each Redis call is bounded by op.
func NewCache(rdb redis.UniversalClient, prefix string, ttl, op time.Duration) *Cache {
	return &Cache{rdb: rdb, prefix: prefix, ttl: ttl, op: op}
}

type cached struct {
	StoredAt time.Time       `json:"stored_at"`
	Data     json.RawMessage `json:"data"`
}

func (c *Cache) key(part, orderID string) string { return c.prefix + part + ":" + orderID }

// Put stores a fresh copy; a failure only costs a future fallback.
func (c *Cache) Put(ctx context.Context, part, orderID string, data []byte) error {
	b, err := json.Marshal(cached{StoredAt: time.Now().UTC(), Data: data})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.op)
	defer cancel()
	return c.rdb.Set(ctx, c.key(part, orderID), b, c.ttl).Err()
}

// Get returns the last good copy and its age, or ok=false.
func (c *Cache) Get(ctx context.Context, part, orderID string) (data []byte, age time.Duration, ok bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.op)
	defer cancel()
	raw, err := c.rdb.Get(ctx, c.key(part, orderID)).Bytes()
	if err != nil { // redis.Nil (no copy) or Redis down: no fallback either way
		return nil, 0, false
	}
	var v cached
	if json.Unmarshal(raw, &v) != nil {
		return nil, 0, false
	}
	return v.Data, time.Since(v.StoredAt), true
}
