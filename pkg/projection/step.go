package projection

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
)

// maxAttempts bounds how often a step is retried after its EXEC was aborted
// by a concurrent writer or it found the pointer moved; each retry re-reads
// the checkpoint, so it usually ends in a skip.
const maxAttempts = 100

// errMoved means the pointer no longer names the space a step guessed and
// WATCHed; the step starts again on the space the pointer names.
var errMoved = errors.New("key space pointer moved")

// step applies e to the live key space (see the package doc).
func (r *Runner) step(ctx context.Context, e es.Event) error {
	return r.onLive(ctx, e, r.proj.Apply)
}

// onLive runs the atomic step on the live key space with apply, or with no
// writes but the checkpoint's when apply is nil. It WATCHes the pointer and
// the checkpoint of the space the Runner last saw live, and reads both, in
// one round trip. If the pointer names another space (a rebuild switched),
// the step remembers that space and starts again; otherwise every key it
// depends on was watched before it was read, so a switch or a concurrent
// writer that gets in before EXEC aborts it and it is retried.
func (r *Runner) onLive(ctx context.Context, e es.Event, apply applyFunc) error {
	return retryAborted(func() error {
		return r.watchStep(ctx, func(tx *watchedTx) error {
			guess := r.space(r.liveID())
			vals, err := tx.watchRead(ctx, r.pointerKey(), guess.checkpointKey())
			if err != nil {
				return fmt.Errorf("watch %s and %s: %w", r.pointerKey(), guess.checkpointKey(), err)
			}
			id, ok := vals[0].(string)
			if !ok {
				return r.pointerGone(ctx, tx)
			}
			if id != guess.id {
				r.setLiveID(id)
				return errMoved
			}
			cp, err := parseCheckpoint(guess, vals[1])
			if err != nil {
				return err
			}
			return r.applyIn(ctx, tx, guess, cp, e, apply, true)
		})
	})
}

// pointerGone explains a missing pointer. Run created it and nothing in
// this package deletes it, so keys under the prefix were deleted or Redis
// lost its data (a memory-only server that restarted). The step must not
// create a new space then: its checkpoint is gone too, and continuing would
// build a model missing earlier events. The error says whether the space
// counter went as well, to tell the two apart.
func (r *Runner) pointerGone(ctx context.Context, tx *watchedTx) error {
	seq, serr := tx.Exists(ctx, r.seqKey()).Result()
	return fmt.Errorf("resolve key space of %s: pointer %s is gone (%s exists: %v, %v): %w",
		r.base, r.pointerKey(), r.seqKey(), seq == 1, serr, redis.Nil)
}

// buildStep applies e to sp, a space being rebuilt that no pointer names yet.
func (r *Runner) buildStep(ctx context.Context, sp Space, e es.Event) error {
	return retryAborted(func() error {
		return r.watchStep(ctx, func(tx *watchedTx) error {
			vals, err := tx.watchRead(ctx, sp.checkpointKey())
			if err != nil {
				return fmt.Errorf("watch %s: %w", sp.checkpointKey(), err)
			}
			cp, err := parseCheckpoint(sp, vals[0])
			if err != nil {
				return err
			}
			return r.applyIn(ctx, tx, sp, cp, e, r.proj.Apply, false)
		})
	})
}

// applyFunc is Projection.Apply's type.
type applyFunc = func(ctx context.Context, e es.Event, tx *Tx) error

// applyIn is the atomic step proper, on a transaction that WATCHes sp's
// checkpoint, which read cp: skip e if cp is at or past it, otherwise commit
// apply's writes and the new checkpoint in one EXEC. Only live steps report
// their checkpoint to Checkpoint and WaitFor: a space being rebuilt says
// nothing about what readers see.
func (r *Runner) applyIn(ctx context.Context, tx *watchedTx, sp Space, cp es.Position, e es.Event, apply applyFunc, live bool) error {
	if e.Position.Compare(cp) <= 0 {
		if live {
			r.observe(cp)
		}
		return nil
	}
	pipe := tx.TxPipeline()
	if apply != nil {
		if err := apply(ctx, e, &Tx{space: sp, reader: tx.Tx, pipe: pipe}); err != nil {
			return fmt.Errorf("apply %s %s@%d: %w", e.Type, e.StreamID, e.Version, err)
		}
	}
	pipe.Set(ctx, sp.checkpointKey(), e.Position.String(), 0)
	if apply != nil {
		if err := r.runHook("applied", e); err != nil {
			return err
		}
	}
	if err := tx.exec(ctx, pipe); err != nil {
		return err
	}
	if live {
		r.observe(e.Position)
	}
	if apply == nil {
		return nil
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
// aborted because a WATCHed key changed) or errMoved.
func retryAborted(f func() error) error {
	var err error
	for range maxAttempts {
		if err = f(); !errors.Is(err, redis.TxFailedErr) && !errors.Is(err, errMoved) {
			return err
		}
	}
	return fmt.Errorf("gave up after %d aborted attempts: %w", maxAttempts, err)
}

// watchedTx is a step's transaction. Its WATCH goes out in one pipeline
// with the reads it guards (watchRead), which go-redis does not track: it
// would not UNWATCH when the transaction ends without EXEC, and the watch
// would stay on the pooled connection and abort a later, unrelated
// transaction there. watchStep sends the UNWATCH instead.
type watchedTx struct {
	*redis.Tx
	armed bool // a WATCH may be active on the connection
}

// watchStep runs f in a transaction of its own and releases its watch if f
// ends without EXEC.
func (r *Runner) watchStep(ctx context.Context, f func(*watchedTx) error) error {
	return r.rdb.Watch(ctx, func(tx *redis.Tx) error {
		wtx := &watchedTx{Tx: tx}
		err := f(wtx)
		if wtx.armed {
			// Even when ctx has ended: the connection goes back to the pool.
			_ = tx.Unwatch(context.WithoutCancel(ctx)).Err()
		}
		return err
	})
}

// watchRead WATCHes keys and reads them, in one round trip: the WATCH runs
// first, so no value read here can change unnoticed before EXEC. A missing
// key reads as nil.
func (tx *watchedTx) watchRead(ctx context.Context, keys ...string) ([]any, error) {
	args := make([]any, 0, 1+len(keys))
	args = append(args, "watch")
	for _, k := range keys {
		args = append(args, k)
	}
	var watch *redis.Cmd
	var get *redis.SliceCmd
	_, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
		watch = p.Do(ctx, args...)
		get = p.MGet(ctx, keys...)
		return nil
	})
	// A WATCH whose reply was lost with its connection needs no UNWATCH:
	// go-redis does not reuse a connection that failed.
	tx.armed = watch.Err() == nil
	if err != nil {
		return nil, err
	}
	return get.Val(), nil
}

// exec runs pipe as MULTI/EXEC. An EXEC that ran, committed or aborted,
// released the watch.
func (tx *watchedTx) exec(ctx context.Context, pipe redis.Pipeliner) error {
	_, err := pipe.Exec(ctx)
	if err == nil || errors.Is(err, redis.TxFailedErr) || redis.IsExecAbortError(err) {
		tx.armed = false
	}
	return err
}
