package projection

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
)

// noSpace is what readers get before a projection ever ran: a space with no
// keys, so reads see an empty model instead of failing.
const noSpace = "v0"

// checkpointPart is the key, within a space, of the space's checkpoint.
// Models must not use it.
const checkpointPart = "_checkpoint"

// Space is one key space of a projection: one complete copy of its model.
type Space struct {
	base string // prefix + name
	id   string // "v3"
}

// ID returns the space's id, e.g. "v3".
func (s Space) ID() string { return s.id }

// Key returns the key for parts in this space: <prefix><name>:<id>:<parts...>.
func (s Space) Key(parts ...string) string {
	return s.base + ":" + s.id + ":" + strings.Join(parts, ":")
}

func (s Space) checkpointKey() string { return s.Key(checkpointPart) }

// Reader resolves a projection's current key space. Services that only read
// a model use a Reader; a Runner is one too.
type Reader struct {
	rdb  *redis.Client
	base string
}

// NewReader returns a Reader for the projection name under prefix (the same
// values the Runner was given).
func NewReader(rdb *redis.Client, prefix, name string) Reader {
	return Reader{rdb: rdb, base: prefix + name}
}

func (r Reader) pointerKey() string { return r.base + ":current" }
func (r Reader) seqKey() string     { return r.base + ":seq" }
func (r Reader) space(id string) Space {
	return Space{base: r.base, id: id}
}

// Keys returns the current key space. Resolve it once per request and build
// every key of that request from it.
func (r Reader) Keys(ctx context.Context) (Space, error) {
	id, err := r.rdb.Get(ctx, r.pointerKey()).Result()
	if errors.Is(err, redis.Nil) {
		return r.space(noSpace), nil
	}
	if err != nil {
		return Space{}, fmt.Errorf("resolve key space of %s: %w", r.base, err)
	}
	return r.space(id), nil
}

// Key resolves the current space and returns the key for parts in it.
func (r Reader) Key(ctx context.Context, parts ...string) (string, error) {
	sp, err := r.Keys(ctx)
	if err != nil {
		return "", err
	}
	return sp.Key(parts...), nil
}

// newSpace hands out a key space no one has used.
func (r Reader) newSpace(ctx context.Context) (Space, error) {
	n, err := r.rdb.Incr(ctx, r.seqKey()).Result()
	if err != nil {
		return Space{}, fmt.Errorf("allocate key space of %s: %w", r.base, err)
	}
	return r.space("v" + strconv.FormatInt(n, 10)), nil
}

// ensureSpace returns the current space, creating the first one if there is
// none. SETNX makes concurrent first starts agree on one.
func (r Reader) ensureSpace(ctx context.Context) (Space, error) {
	sp, err := r.Keys(ctx)
	if err != nil || sp.id != noSpace {
		return sp, err
	}
	if sp, err = r.newSpace(ctx); err != nil {
		return Space{}, err
	}
	if err := r.rdb.SetNX(ctx, r.pointerKey(), sp.id, 0).Err(); err != nil {
		return Space{}, fmt.Errorf("create key space of %s: %w", r.base, err)
	}
	return r.Keys(ctx)
}

// loadCheckpoint reads a space's checkpoint; a space without one is at Start.
func loadCheckpoint(ctx context.Context, c redis.Cmdable, sp Space) (es.Position, error) {
	s, err := c.Get(ctx, sp.checkpointKey()).Result()
	if errors.Is(err, redis.Nil) {
		return es.Start, nil
	}
	if err != nil {
		return es.Start, fmt.Errorf("load checkpoint %s: %w", sp.checkpointKey(), err)
	}
	return es.ParsePosition(s)
}

// parseCheckpoint is loadCheckpoint for a value MGET read: nil when the
// space has no checkpoint.
func parseCheckpoint(sp Space, v any) (es.Position, error) {
	switch s := v.(type) {
	case nil:
		return es.Start, nil
	case string:
		return es.ParsePosition(s)
	default:
		return es.Start, fmt.Errorf("load checkpoint %s: unexpected %T", sp.checkpointKey(), v)
	}
}

// retire deletes a key space in the background after delay.
func (r *Runner) retire(sp Space, delay time.Duration) {
	r.retires.Add(1)
	go func() {
		defer r.retires.Done()
		time.Sleep(delay)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := deleteSpace(ctx, r.rdb, sp); err != nil {
			r.opts.Log.Warn("delete retired key space", "space", sp.Key(), "err", err)
		}
	}()
}

// deleteSpace unlinks every key of sp, in batches so a big model does not
// block Redis.
func deleteSpace(ctx context.Context, rdb *redis.Client, sp Space) error {
	iter := rdb.Scan(ctx, 0, escapeGlob(sp.Key())+"*", 500).Iterator()
	batch := make([]string, 0, 500)
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == cap(batch) {
			if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return rdb.Unlink(ctx, batch...).Err()
	}
	return nil
}

// escapeGlob quotes the characters SCAN MATCH treats specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
