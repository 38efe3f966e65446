package saga

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"

	"github.com/ordo-platform/ordo/pkg/es"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// maxStates bounds the cached saga states; past it the cache is halved.
const maxStates = 4096

// conflictRetries bounds how often a decision is taken again after another
// writer moved the saga's stream.
const conflictRetries = 10

// states caches the saga state of recent orders with the stream version it
// folds. Every decision reads the state and most append to it; the runner
// knows the state after its own append without reading the stream back.
// An entry another writer (a second replica) made stale is found out by
// the append's expected version: the conflict drops it and the decision
// is taken again on the stream as stored. A decision that appends nothing
// on a stale entry is one the other writer has taken or will take: both
// see the same events of an order in the same order and decide alike.
type states struct {
	mu sync.Mutex
	m  map[string]es.Snapshot[flow.State]
}

func newStates() *states { return &states{m: map[string]es.Snapshot[flow.State]{}} }

func (c *states) get(id string) (es.Snapshot[flow.State], bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[id]
	return s, ok
}

func (c *states) put(id string, s es.Snapshot[flow.State]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxStates {
		for k := range c.m {
			if delete(c.m, k); len(c.m) <= maxStates/2 {
				break
			}
		}
	}
	c.m[id] = s
}

func (c *states) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

func (c *states) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}

// execute is es.Repository.Execute on the cached state: decide on the
// order's saga state and append what it returns expecting the state's
// version. The caller holds the order's lock.
func (r *Runner) execute(ctx context.Context, orderID string, decide func(flow.State) []any) (es.Outcome[flow.State], error) {
	for attempt := 0; ; attempt++ {
		snap, ok := r.states.get(orderID)
		if !ok {
			var err error
			if snap, err = r.repo.Load(ctx, orderID); err != nil {
				return es.Outcome[flow.State]{}, err
			}
		}
		events := decide(snap.State)
		out := es.Outcome[flow.State]{State: snap.State, Events: events, Version: snap.Version}
		if len(events) == 0 {
			r.states.put(orderID, snap)
			return out, nil
		}
		expected := es.NoStream
		if snap.Version >= 0 {
			expected = es.Exact(snap.Version)
		}
		res, err := r.repo.Save(ctx, orderID, expected, events...)
		if err != nil {
			r.states.drop(orderID)
			if errors.Is(err, es.ErrConcurrency) && attempt < conflictRetries {
				continue
			}
			return out, err
		}
		for _, ev := range events {
			if idf, ok := ev.(es.Identified); ok {
				ev = idf.Event
			}
			out.State = flow.Aggregate.Apply(out.State, ev)
		}
		out.Result, out.Version = res, res.Version
		r.states.put(orderID, es.Snapshot[flow.State]{State: out.State, Version: res.Version})
		return out, nil
	}
}

// lock takes the order's lock; the returned func releases it.
func (r *Runner) lock(orderID string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(orderID))
	mu := &r.locks[h.Sum32()%uint32(len(r.locks))]
	mu.Lock()
	return mu.Unlock
}
