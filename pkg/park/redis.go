package park

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Redis keeps entries in Redis, for services whose event store is not
// PostgreSQL (KurrentDB): one JSON string per entry at
// <prefix>parked:<id>, and the set of ids at <prefix>parked:ids. Listing
// reads every entry, which suits the handful a healthy platform has.
type Redis struct {
	rdb    *redis.Client
	prefix string
}

var _ Store = Redis{}

// NewRedis returns the store under prefix (a service's key prefix, such as
// "ordo:order:").
func NewRedis(rdb *redis.Client, prefix string) Redis { return Redis{rdb: rdb, prefix: prefix} }

func (r Redis) key(id es.UUID) string { return r.prefix + "parked:" + id.String() }
func (r Redis) idsKey() string        { return r.prefix + "parked:ids" }

// maxTxAttempts bounds the retries of a write whose WATCHed entry changed.
const maxTxAttempts = 20

// update runs f on the entry at id (found false when there is none) inside
// WATCH/MULTI and stores what f returns, unless f says not to.
func (r Redis) update(ctx context.Context, id es.UUID, f func(cur Entry, found bool) (Entry, bool)) (bool, error) {
	key := r.key(id)
	var wrote bool
	txf := func(tx *redis.Tx) error {
		cur, found, err := r.read(ctx, tx, key)
		if err != nil {
			return err
		}
		next, write := f(cur, found)
		wrote = write
		if !write {
			return nil
		}
		b, err := json.Marshal(next)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, b, 0)
			p.SAdd(ctx, r.idsKey(), id.String())
			return nil
		})
		return err
	}
	for range maxTxAttempts {
		err := r.rdb.Watch(ctx, txf, key)
		if !errors.Is(err, redis.TxFailedErr) {
			return wrote, err
		}
	}
	return false, fmt.Errorf("update parked %s: gave up after %d concurrent changes", id, maxTxAttempts)
}

func (r Redis) read(ctx context.Context, c redis.Cmdable, key string) (Entry, bool, error) {
	b, err := c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, false, fmt.Errorf("decode %s: %w", key, err)
	}
	return e, true, nil
}

// Park implements Store.
func (r Redis) Park(ctx context.Context, e Entry) error {
	_, err := r.update(ctx, e.ID, func(cur Entry, found bool) (Entry, bool) {
		if !found {
			e.Status, e.ParkedAt, e.Replayed = Parked, e.UpdatedAt, nil
			return e, true
		}
		cur.Error, cur.Attempts, cur.UpdatedAt = e.Error, cur.Attempts+e.Attempts, e.UpdatedAt
		cur.Status, cur.Replayed = Parked, nil
		return cur, true
	})
	if err != nil {
		return fmt.Errorf("park %s: %w", e.ID, err)
	}
	return nil
}

// Get implements Store.
func (r Redis) Get(ctx context.Context, id es.UUID) (Entry, error) {
	e, found, err := r.read(ctx, r.rdb, r.key(id))
	switch {
	case err != nil:
		return Entry{}, fmt.Errorf("get parked %s: %w", id, err)
	case !found:
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return e, nil
}

// List implements Store.
func (r Redis) List(ctx context.Context, q Query) ([]Entry, error) {
	all, err := r.all(ctx)
	if err != nil {
		return nil, err
	}
	out := []Entry{}
	for _, e := range all {
		if slices.Contains(q.Subscribers, e.Subscriber) && (q.Status == "" || e.Status == q.Status) && (q.Key == "" || e.Key == q.Key) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := a.Position.Compare(b.Position); c != 0 {
			return c
		}
		return cmp.Compare(a.Subscriber, b.Subscriber)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// all reads every entry under the prefix.
func (r Redis) all(ctx context.Context) ([]Entry, error) {
	ids, err := r.rdb.SMembers(ctx, r.idsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list parked events: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.prefix + "parked:" + id
	}
	vals, err := r.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("list parked events: %w", err)
	}
	out := make([]Entry, 0, len(vals))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // deleted since SMEMBERS
		}
		var e Entry
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			return nil, fmt.Errorf("decode %s: %w", keys[i], err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Count implements Store.
func (r Redis) Count(ctx context.Context, subscribers []string) (map[Status]int, error) {
	entries, err := r.List(ctx, Query{Subscribers: subscribers})
	if err != nil {
		return nil, err
	}
	out := map[Status]int{}
	for _, e := range entries {
		out[e.Status]++
	}
	return out, nil
}

// MarkReplayed implements Store.
func (r Redis) MarkReplayed(ctx context.Context, id es.UUID, at time.Time) (bool, error) {
	wrote, err := r.update(ctx, id, func(cur Entry, found bool) (Entry, bool) {
		if !found || cur.Status != Parked {
			return cur, false
		}
		at := at.UTC()
		cur.Status, cur.UpdatedAt, cur.Replayed = Replayed, at, &at
		return cur, true
	})
	if err != nil {
		return false, fmt.Errorf("mark %s replayed: %w", id, err)
	}
	return wrote, nil
}
