package projection

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
)

// maxAttempts bounds how often a step is retried after its EXEC was aborted
// by a concurrent writer; each retry re-reads the checkpoint, so it usually
// ends in a skip.
const maxAttempts = 100

// step applies e to the current key space. The pointer is WATCHed, so a step
// that raced with a key space switch is retried against the new space.
func (r *Runner) step(ctx context.Context, e es.Event) error {
	return retryAborted(func() error {
		return r.rdb.Watch(ctx, func(tx *redis.Tx) error {
			id, err := r.livePointer(ctx, tx)
			if err != nil {
				return err
			}
			return r.applyIn(ctx, tx, r.space(id), e, true)
		}, r.pointerKey())
	})
}

// livePointer reads the pointer inside a step. Run created it and nothing
// in this package deletes it, so a missing pointer means keys under the
// prefix were deleted or Redis lost its data (a memory-only server that
// restarted). The step must not create a new space then: its checkpoint is
// gone too, and continuing would build a model missing earlier events. The
// error says whether the space counter went as well, to tell the two apart.
func (r *Runner) livePointer(ctx context.Context, tx *redis.Tx) (string, error) {
	id, err := tx.Get(ctx, r.pointerKey()).Result()
	if !errors.Is(err, redis.Nil) {
		if err != nil {
			return "", fmt.Errorf("resolve key space of %s: %w", r.base, err)
		}
		return id, nil
	}
	seq, serr := tx.Exists(ctx, r.seqKey()).Result()
	return "", fmt.Errorf("resolve key space of %s: pointer %s is gone (%s exists: %v, %v): %w",
		r.base, r.pointerKey(), r.seqKey(), seq == 1, serr, err)
}

// buildStep applies e to sp, a space being rebuilt that no pointer names yet.
func (r *Runner) buildStep(ctx context.Context, sp Space, e es.Event) error {
	return retryAborted(func() error {
		return r.rdb.Watch(ctx, func(tx *redis.Tx) error {
			return r.applyIn(ctx, tx, sp, e, false)
		})
	})
}

// applyIn is the atomic step proper: skip e if sp's checkpoint is at or past
// it, otherwise commit Apply's writes and the new checkpoint in one EXEC.
// Only live steps report their checkpoint to Checkpoint and WaitFor: a space
// being rebuilt says nothing about what readers see.
func (r *Runner) applyIn(ctx context.Context, tx *redis.Tx, sp Space, e es.Event, live bool) error {
	if err := tx.Watch(ctx, sp.checkpointKey()).Err(); err != nil {
		return fmt.Errorf("watch %s: %w", sp.checkpointKey(), err)
	}
	cp, err := loadCheckpoint(ctx, tx, sp)
	if err != nil {
		return err
	}
	if e.Position.Compare(cp) <= 0 {
		if live {
			r.observe(cp)
		}
		return nil
	}
	pipe := tx.TxPipeline()
	if err := r.proj.Apply(ctx, e, &Tx{space: sp, reader: tx, pipe: pipe}); err != nil {
		return fmt.Errorf("apply %s %s@%d: %w", e.Type, e.StreamID, e.Version, err)
	}
	pipe.Set(ctx, sp.checkpointKey(), e.Position.String(), 0)
	if err := r.runHook("applied", e); err != nil {
		return err
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	if live {
		r.observe(e.Position)
	}
	return r.runHook("committed", e)
}

func (r *Runner) runHook(stage string, e es.Event) error {
	if r.hook == nil {
		return nil
	}
	return r.hook(stage, e)
}

// retryAborted runs f again while it fails with redis.TxFailedErr (an EXEC
// aborted because a WATCHed key changed).
func retryAborted(f func() error) error {
	var err error
	for range maxAttempts {
		if err = f(); !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("gave up after %d aborted attempts: %w", maxAttempts, err)
}
