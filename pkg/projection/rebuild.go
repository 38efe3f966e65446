package projection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
)

// errBehind means the space being rebuilt has not yet reached the live one.
var errBehind = errors.New("rebuilt space is behind the live one")

// Rebuild builds the model afresh from es.Start into a new key space and
// makes it current once it has caught up with the live checkpoint (see the
// package doc). Reads keep being served by the old space until then. The old
// space is deleted Options.RetireAfter later; Close waits for that. If
// Rebuild fails or ctx ends first, the half-built space is deleted and the
// current one stays.
func (r *Runner) Rebuild(ctx context.Context) error {
	if _, err := r.ensureSpace(ctx); err != nil {
		return err
	}
	sp, err := r.newSpace(ctx)
	if err != nil {
		return err
	}
	old, err := r.build(ctx, sp)
	if err != nil {
		r.retire(sp, 0)
		return fmt.Errorf("rebuild %s into %s: %w", r.proj.Name, sp.id, err)
	}
	r.retire(old, r.opts.RetireAfter)
	return nil
}

// build applies every event to sp, trying to switch the pointer to sp after
// each batch, and returns the space it replaced.
func (r *Runner) build(ctx context.Context, sp Space) (Space, error) {
	pos := es.Start
	for {
		batch, err := r.store.ReadAll(ctx, pos, r.proj.Filter, r.opts.BatchSize)
		if err != nil {
			return Space{}, err
		}
		for _, e := range batch {
			if err := r.buildStep(ctx, sp, e); err != nil {
				return Space{}, err
			}
			pos = e.Position
		}
		old, err := r.trySwitch(ctx, sp)
		switch {
		case err == nil:
			return old, nil
		case !errors.Is(err, errBehind) && !errors.Is(err, redis.TxFailedErr):
			return Space{}, err
		case len(batch) == 0:
			// Caught up with the store but not the live space: its runner
			// has seen events our read could not yet see. Look again soon.
			if err := sleep(ctx, r.opts.PollInterval); err != nil {
				return Space{}, err
			}
		}
	}
}

// trySwitch makes sp current if its checkpoint is at or past the current
// space's. Both checkpoints and the pointer are WATCHed, so a live step that
// lands between the comparison and the switch aborts the switch (and the
// caller reads on) instead of being lost with the old space.
func (r *Runner) trySwitch(ctx context.Context, sp Space) (Space, error) {
	var old Space
	err := r.rdb.Watch(ctx, func(tx *redis.Tx) error {
		id, err := tx.Get(ctx, r.pointerKey()).Result()
		if err != nil {
			return fmt.Errorf("resolve key space of %s: %w", r.base, err)
		}
		old = r.space(id)
		if err := tx.Watch(ctx, old.checkpointKey()).Err(); err != nil {
			return err
		}
		live, err := loadCheckpoint(ctx, tx, old)
		if err != nil {
			return err
		}
		built, err := loadCheckpoint(ctx, tx, sp)
		if err != nil {
			return err
		}
		if built.Less(live) {
			return errBehind
		}
		if err := r.runHook("switching", es.Event{}); err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			return p.Set(ctx, r.pointerKey(), sp.id, 0).Err()
		})
		if err == nil {
			r.setLiveID(sp.id)
			r.observe(built)
		}
		return err
	}, r.pointerKey(), sp.checkpointKey())
	return old, err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
