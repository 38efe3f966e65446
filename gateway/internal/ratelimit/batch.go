package ratelimit

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Decisions are sent to Redis in pipelines: a request that finds fewer than
// maxInflight pipelines on the wire sends its own decision at once (no
// waiting window, so an idle gateway adds no latency); one that finds them
// all busy queues, and the next pipeline to leave carries every queued
// decision. Under load many decisions share one round trip and one system
// call each way instead of paying for their own; each is still one atomic
// script run in Redis, so the limit is exactly what it was.
const (
	maxInflight = 2
	maxBatch    = 128
)

// decision is one queued script run: a request's claims that need Redis,
// one key each, with the script's four arguments per key (see gcra).
type decision struct {
	keys []string
	args []any
	ctx  context.Context
	vals []int64
	err  error
	done chan struct{}
}

// batcher holds the queue.
type batcher struct {
	rdb      Client
	mu       sync.Mutex
	queue    []*decision
	inflight int
	// pipelines counts round trips, for tests and the batching's proof.
	pipelines int64
	decisions int64
}

// run decides d, alone or with others. A caller whose context ends while
// its decision waits gets the context's error; the decision may still be
// spent when its pipeline leaves, as a request cut off by a timeout after
// Redis applied it would be.
func (b *batcher) run(d *decision) ([]int64, error) {
	if err := d.ctx.Err(); err != nil {
		return nil, err
	}
	d.done = make(chan struct{})
	b.mu.Lock()
	b.queue = append(b.queue, d)
	if b.inflight < maxInflight {
		b.inflight++
		batch := b.take()
		b.mu.Unlock()
		b.send(batch)
		b.next()
	} else {
		b.mu.Unlock()
	}
	select {
	case <-d.done:
		return d.vals, d.err
	case <-d.ctx.Done():
		return nil, d.ctx.Err()
	}
}

// take removes up to maxBatch queued decisions; the caller holds mu.
func (b *batcher) take() []*decision {
	n := min(len(b.queue), maxBatch)
	batch := make([]*decision, n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	b.pipelines++
	b.decisions += int64(n)
	return batch
}

// next hands what queued meanwhile to a goroutine of its own, so the
// request that sent the last pipeline is not kept waiting for the next;
// or it frees the slot.
func (b *batcher) next() {
	b.mu.Lock()
	if len(b.queue) == 0 {
		b.inflight--
		b.mu.Unlock()
		return
	}
	batch := b.take()
	b.mu.Unlock()
	go func() {
		b.send(batch)
		b.next()
	}()
}

// send runs one pipeline of script calls and hands each decision its
// answer. The pipeline's deadline is the latest of its callers'.
func (b *batcher) send(batch []*decision) {
	ctx, cancel := batchContext(batch)
	defer cancel()
	cmds := b.exec(ctx, batch, false)
	if cmds != nil && noScript(cmds) {
		cmds = b.exec(ctx, batch, true)
	}
	for i, d := range batch {
		if cmds == nil {
			d.err = ctx.Err()
		} else {
			d.vals, d.err = cmds[i].Int64Slice()
		}
		close(d.done)
	}
}

func (b *batcher) exec(ctx context.Context, batch []*decision, load bool) []*redis.Cmd {
	pipe := b.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, d := range batch {
		if load {
			cmds[i] = gcra.Eval(ctx, pipe, d.keys, d.args...)
		} else {
			cmds[i] = gcra.EvalSha(ctx, pipe, d.keys, d.args...)
		}
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	return cmds
}

// noScript reports whether Redis did not know the script (first use, or
// after a restart or SCRIPT FLUSH): then the batch is sent again in full.
func noScript(cmds []*redis.Cmd) bool {
	for _, c := range cmds {
		if err := c.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			return true
		}
	}
	return false
}

// batchContext lasts until the latest deadline among the batch's callers,
// so that one impatient caller does not cut the others' decisions short.
func batchContext(batch []*decision) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, d := range batch {
		dl, ok := d.ctx.Deadline()
		if !ok {
			return context.WithCancel(context.WithoutCancel(d.ctx))
		}
		if dl.After(latest) {
			latest = dl
		}
	}
	return context.WithDeadline(context.WithoutCancel(batch[0].ctx), latest)
}
