package es

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// Concurrent handles a subscription's events on several goroutines. A
// handler that makes round trips (loads an aggregate, appends, calls
// another service) handles one event at a time in Store.Subscribe, so a
// subscriber that keeps many independent conversations (one per order)
// would queue them all behind each other. Concurrent keeps the events of
// one key (an order id) in global order, one at a time, and lets events of
// different keys overlap.
//
// It owns the checkpoint: it saves, every SaveEvery and when it stops, the
// position up to which every event was handled, so the checkpoint never
// passes an event still in flight. A restart replays the events handled
// after that position; handlers must be idempotent, as every subscriber's
// must be anyway.
type Concurrent struct {
	// Name names the checkpoint; Checkpoints stores it (required).
	Name        string
	Checkpoints Checkpoints
	// Key returns the group of events that must be handled one at a time
	// in order; "" puts an event in no group.
	Key func(Event) string
	// Workers is how many events are handled at once (default 16).
	Workers int
	// SaveEvery is how often the checkpoint is saved while events flow
	// (default 100ms).
	SaveEvery time.Duration
}

// queueLen is how many events may wait for each worker: it bounds how far
// the subscription reads ahead of the slowest group.
const queueLen = 32

// Run loads the checkpoint and subscribes to store from it; see Subscribe.
func (c Concurrent) Run(ctx context.Context, store Store, filter Filter, handle Handler) error {
	from, err := c.Checkpoints.Load(ctx, c.Name)
	if err != nil {
		return err
	}
	return c.Subscribe(ctx, store, from, filter, handle)
}

// Subscribe delivers the filter's events after from to handle on the
// workers, until ctx ends (ctx's error) or a handler or checkpoint save
// fails (that error; events already queued behind it are left for the
// restart).
func (c Concurrent) Subscribe(ctx context.Context, store Store, from Position, filter Filter, handle Handler) error {
	workers := c.Workers
	if workers <= 0 {
		workers = 16
	}
	every := c.SaveEvery
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	run, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	t := &tracker{mark: from}
	queues := make([]chan queued, workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan queued, queueLen)
		wg.Go(func() { work(run, stop, queues[i], t, handle) })
	}
	type result struct {
		at  Position
		err error
	}
	saver := make(chan result, 1)
	go func() {
		at, err := c.saveLoop(run, stop, t, from, every)
		saver <- result{at, err}
	}()

	err := store.Subscribe(run, from, filter, func(ctx context.Context, e Event) error {
		q := queues[c.slot(e, workers)]
		item := queued{seq: t.add(e.Position), e: e}
		select {
		case q <- item:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	stop(nil)
	s := <-saver
	if at := t.handled(); at != s.at {
		// The subscription's context has ended: save with one of its own.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		s.err = c.Checkpoints.Save(sctx, c.Name, at)
		cancel()
	}
	switch cause := context.Cause(run); {
	case ctx.Err() != nil:
		return ctx.Err()
	case cause != nil && !errors.Is(cause, context.Canceled):
		return cause
	case err != nil:
		return err
	}
	return s.err
}

type queued struct {
	seq uint64
	e   Event
}

// slot picks the worker of e: by key, so a group stays in order.
func (c Concurrent) slot(e Event, workers int) int {
	key := ""
	if c.Key != nil {
		key = c.Key(e)
	}
	if key == "" {
		key = e.StreamID
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(workers)) //nolint:gosec // workers is positive and small
}

// work handles one worker's events; after a failure it only drains.
func work(ctx context.Context, stop context.CancelCauseFunc, q <-chan queued, t *tracker, handle Handler) {
	for item := range q {
		if ctx.Err() != nil {
			continue
		}
		e := item.e
		if err := handle(ctx, e); err != nil {
			stop(fmt.Errorf("handle %s %s@%d at %s: %w", e.Type, e.StreamID, e.Version, e.Position, err))
			continue
		}
		t.done(item.seq)
	}
}

// saveLoop saves the checkpoint every interval while it moves, until ctx
// ends; it returns the last position it saved. A failed save stops the
// subscription.
func (c Concurrent) saveLoop(ctx context.Context, stop context.CancelCauseFunc, t *tracker, saved Position, every time.Duration) (Position, error) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return saved, nil
		case <-tick.C:
		}
		p := t.handled()
		if p == saved {
			continue
		}
		if err := c.Checkpoints.Save(ctx, c.Name, p); err != nil {
			if ctx.Err() != nil {
				return saved, nil
			}
			err = fmt.Errorf("save checkpoint: %w", err)
			stop(err)
			return saved, err
		}
		saved = p
	}
}

// tracker knows which handed-out events are done and the position up to
// which all are.
type tracker struct {
	mu   sync.Mutex
	mark Position // every event up to here is handled
	base uint64   // sequence number of open[0]
	next uint64
	open []openEvent
}

type openEvent struct {
	pos  Position
	done bool
}

func (t *tracker) add(p Position) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.open = append(t.open, openEvent{pos: p})
	t.next++
	return t.next - 1
}

func (t *tracker) done(seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.open[seq-t.base].done = true
	n := 0
	for n < len(t.open) && t.open[n].done {
		t.mark = t.open[n].pos
		n++
	}
	t.open, t.base = t.open[n:], t.base+uint64(n) //nolint:gosec // n is a length
}

func (t *tracker) handled() Position {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mark
}
