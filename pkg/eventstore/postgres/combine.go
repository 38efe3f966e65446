package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordo-platform/ordo/pkg/eventstore/postgres/db"
)

// Write combining. Each standalone append is a statement of its own and,
// alone, its own commit: a round trip and a WAL flush per append. So
// appends that arrive while an earlier one is in flight wait for it and
// are then sent together, as one AppendMany statement: one round trip, one
// commit for all of them.
//
// A batch holds at most one append per stream; a later append to a stream
// waits for the next batch, so it sees the earlier one's events. It is one
// statement, not a pipeline of statements in one transaction, for the
// global order: a transaction's id is assigned at its first write, after
// the statement's snapshot, so every event a statement builds on was
// written by a transaction with a smaller id, and (txid, position) order
// keeps each stream's version order. A later statement of a multi-statement
// transaction could build on events of a transaction that started after it
// had its id.
//
// A caller sees what it would have seen alone:
//   - an append whose expectation fails does not fail the batch: it writes
//     nothing and its row says -1 (as AppendEvents does), and its caller
//     goes on as if alone (a replay check, then success or an error);
//   - when the batch fails as a whole (a unique violation on a race with
//     another writer or a duplicate event id, a lost connection: any error
//     rolls the statement back), each caller still waiting sends its
//     append again alone, so no caller's outcome depends on another's;
//   - a caller whose context ends before its append is sent is dropped
//     from the batch and gets its context's error; one whose context ends
//     while the batch is in flight gets its context's error at once, and
//     its events may still be written, as when a lone append is cancelled
//     after it was sent: re-sending the same event ids with the same
//     expectation is an idempotent append. A batch is cancelled only when
//     every caller in it has given up.
//
// No caller waits for company: one that finds the slot free sends its
// statement at once (AppendEvents, as without combining); a batch forms
// only from those that arrive while the slot is busy. Appends of more than
// combineLarge events always go alone.
//
// A caller that holds an open transaction in which it appended (AppendTx)
// should not call Append before it commits: if its append shares a batch
// with another that waits for that transaction's rows, the two wait for
// each other until a context ends. Such callers set Options.NoCombine.

const (
	// combineSlots is how many statements or batches a Store's standalone
	// appends have in flight at once. One measured best: the batch that
	// gathers while one is in flight is the larger for it, and batches
	// never race each other for the same stream (which fails one of them
	// as a whole). The rest of the pool is left to reads and
	// subscriptions.
	combineSlots = 1
	// combineMax bounds the appends in one batch.
	combineMax = 64
	// combineLarge: an append of more events than this goes alone, never
	// waiting for the slot. It shares its commit among its own events, and
	// large appends in one batch through one slot are slower than each on
	// its own connection.
	combineLarge = 16
)

// Call states: queued, taken into a batch, or dropped (its caller gave up
// before it was sent).
const (
	callQueued int32 = iota
	callSent
	callDropped
)

// combiner sends concurrent appends together (see above).
type combiner struct {
	q     *db.Queries
	slots int

	batches atomic.Int64 // batches of two or more appends sent
	failed  atomic.Int64 // of which failed as a whole

	mu    sync.Mutex
	busy  int     // slots in use
	queue []*call // waiting for a slot, oldest first
}

// call is one queued append statement.
type call struct {
	ctx   context.Context
	p     db.AppendEventsParams
	state atomic.Int32
	done  chan struct{} // closed when row and err, or alone, are set

	row   db.AppendEventsRow
	err   error
	alone bool // the batch failed: send the append again alone
}

func newCombiner(pool *pgxpool.Pool, q *db.Queries) *combiner {
	return &combiner{q: q, slots: int(max(1, min(combineSlots, pool.Config().MaxConns)))}
}

// appendEvents is db.Queries.AppendEvents, combined with concurrent calls.
func (c *combiner) appendEvents(ctx context.Context, p db.AppendEventsParams) (db.AppendEventsRow, error) {
	if len(p.Ids) > combineLarge {
		return c.q.AppendEvents(ctx, p)
	}
	c.mu.Lock()
	if c.busy < c.slots {
		c.busy++
		c.mu.Unlock()
		defer c.release()
		return c.q.AppendEvents(ctx, p)
	}
	cl := &call{ctx: ctx, p: p, done: make(chan struct{})}
	c.queue = append(c.queue, cl)
	c.mu.Unlock()
	select {
	case <-cl.done:
	case <-ctx.Done():
		cl.state.CompareAndSwap(callQueued, callDropped) // or in flight: see above
		return db.AppendEventsRow{}, ctx.Err()
	}
	if cl.alone {
		return c.q.AppendEvents(ctx, p)
	}
	return cl.row, cl.err
}

// release hands a slot that finished its statement to the calls that
// queued meanwhile, or frees it.
func (c *combiner) release() {
	if batch := c.next(); batch != nil {
		go c.run(batch)
	}
}

// run sends batches on one slot until none is waiting.
func (c *combiner) run(batch []*call) {
	for ; batch != nil; batch = c.next() {
		c.send(batch)
	}
}

// next takes up to combineMax queued calls whose callers still wait, in arrival order, at most one per stream: a later
// append to a stream stays queued, ahead of the rest, for the next batch.
// When none is left it frees the slot and returns nil.
func (c *combiner) next() []*call {
	c.mu.Lock()
	defer c.mu.Unlock()
	var batch, kept []*call
	streams := map[string]struct{}{} // taken or kept: later appends to them wait
	i := 0
	for ; i < len(c.queue) && len(batch) < combineMax; i++ {
		cl := c.queue[i]
		if cl.state.Load() != callQueued || cl.ctx.Err() != nil {
			continue // its caller has given up
		}
		if _, busy := streams[cl.p.Stream]; busy {
			kept = append(kept, cl)
			continue
		}
		if cl.state.CompareAndSwap(callQueued, callSent) {
			streams[cl.p.Stream] = struct{}{}
			batch = append(batch, cl)
		}
	}
	c.queue = append(kept, c.queue[i:]...)
	if len(batch) == 0 {
		c.queue = nil
		c.busy--
		return nil
	}
	return batch
}

// send runs batch and hands each call its outcome.
func (c *combiner) send(batch []*call) {
	if len(batch) == 1 {
		cl := batch[0]
		cl.row, cl.err = c.q.AppendEvents(cl.ctx, cl.p)
		close(cl.done)
		return
	}
	ctx, cancel := untilAllGiveUp(batch)
	rows, err := c.q.AppendMany(ctx, manyParams(batch))
	cancel()
	if err == nil && len(rows) != len(batch) {
		err = fmt.Errorf("append many: %d rows for %d appends", len(rows), len(batch))
	}
	c.batches.Add(1)
	if err != nil {
		c.failed.Add(1)
	}
	for i, cl := range batch {
		if err != nil {
			cl.alone = true
		} else {
			r := rows[i]
			cl.row = db.AppendEventsRow{CurrentVersion: r.CurrentVersion, LastVersion: r.LastVersion, LastTxid: r.LastTxid, LastPosition: r.LastPosition}
		}
		close(cl.done)
	}
}

// manyParams puts the appends of group into one AppendMany statement.
func manyParams(group []*call) db.AppendManyParams {
	m := db.AppendManyParams{
		Streams:  make([]string, len(group)),
		Kinds:    make([]int16, len(group)),
		Expected: make([]int64, len(group)),
	}
	for k, cl := range group {
		m.Streams[k], m.Kinds[k], m.Expected[k] = cl.p.Stream, cl.p.Kind, cl.p.Expected
		for i := range cl.p.Ids {
			m.Owners = append(m.Owners, int32(k+1)) //nolint:gosec // at most combineMax
			m.Ranks = append(m.Ranks, int32(i+1))   //nolint:gosec // es.ValidateAppend bounds an append far below
		}
		m.Ids = append(m.Ids, cl.p.Ids...)
		m.Types = append(m.Types, cl.p.Types...)
		m.Data = append(m.Data, cl.p.Data...)
		m.Metadata = append(m.Metadata, cl.p.Metadata...)
	}
	return m
}

// untilAllGiveUp returns a context that ends when every call's context has
// ended (or cancel is called): a batch runs as long as someone waits for it.
func untilAllGiveUp(batch []*call) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	var left atomic.Int64
	left.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, cl := range batch {
		stops[i] = context.AfterFunc(cl.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
