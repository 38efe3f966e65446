package es

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Aggregate describes one kind of aggregate: the category of its streams, its
// initial state and its applier. The applier is pure and cannot fail: it folds
// one decoded event into the state.
type Aggregate[S any] struct {
	Category string
	Initial  func(id string) S
	Apply    func(state S, event any) S
}

// Identified gives an emitted event a chosen id, for handlers whose output
// ids are derived from their input (see DerivedUUID). Events emitted without
// it get random ids.
type Identified struct {
	ID    UUID
	Event any
}

// Repository loads aggregates by replaying their streams and saves new events
// with optimistic concurrency.
type Repository[S any] struct {
	store    Store
	registry *Registry
	agg      Aggregate[S]
	// retries is how many times Execute reloads and decides again after a
	// concurrency conflict.
	retries int
	cache   *snapshots[S] // nil: none (see WithCache)
}

// NewRepository returns a repository for one aggregate kind. retries bounds
// Execute's retries on conflict (0: none).
func NewRepository[S any](store Store, registry *Registry, agg Aggregate[S], retries int) *Repository[S] {
	return &Repository[S]{store: store, registry: registry, agg: agg, retries: retries}
}

// WithCache makes the repository remember the state of up to n aggregates
// it loaded or saved, so that a load reads only the events appended to the
// stream since (by any writer), not the whole stream: a long stream (a
// popular SKU's stock) costs what its latest events cost. Loads stay exactly
// as fresh as without the cache. The applier must treat states as values
// (copy a map or slice before changing it): one cached state is the start
// of many loads. It returns r.
func (r *Repository[S]) WithCache(n int) *Repository[S] {
	r.cache = &snapshots[S]{max: max(n, 1), m: map[string]Snapshot[S]{}}
	return r
}

// Snapshot is an aggregate's state at a stream version (-1: no events yet).
type Snapshot[S any] struct {
	State   S
	Version int64
}

// StreamID returns the stream id of the aggregate with this id.
func (r *Repository[S]) StreamID(id string) string { return StreamID(r.agg.Category, id) }

// Load replays the aggregate's stream. A missing stream yields the initial
// state at version -1, not an error.
func (r *Repository[S]) Load(ctx context.Context, id string) (Snapshot[S], error) {
	snap, ok := r.cache.get(id)
	if !ok {
		snap = Snapshot[S]{State: r.agg.Initial(id), Version: -1}
	}
	stream := r.StreamID(id)
	const page = 500
	// From a cached state, read from its last event on: the read is never
	// empty, so the store need not check that the stream exists.
	for from := max(snap.Version, 0); ; {
		events, err := r.store.ReadStream(ctx, stream, Forwards, from, page)
		if errors.Is(err, ErrStreamNotFound) {
			return snap, nil
		}
		if err != nil {
			return snap, fmt.Errorf("load %s: %w", stream, err)
		}
		for _, e := range events {
			if e.Version <= snap.Version {
				continue
			}
			v, err := r.registry.Decode(e.Type, e.Data)
			if err != nil {
				return snap, fmt.Errorf("load %s at version %d: %w", stream, e.Version, err)
			}
			snap.State = r.agg.Apply(snap.State, v)
			snap.Version = e.Version
		}
		if len(events) < page {
			r.cache.put(id, snap)
			return snap, nil
		}
		from = snap.Version + 1
	}
}

// Save appends events to the aggregate's stream with the given expectation,
// stamping the metadata carried by ctx.
func (r *Repository[S]) Save(ctx context.Context, id string, expected ExpectedVersion, events ...any) (AppendResult, error) {
	md := MetadataFrom(ctx)
	if md.SchemaVersion == 0 {
		md.SchemaVersion = 1
	}
	data := make([]EventData, len(events))
	for i, ev := range events {
		var eid UUID
		if idf, ok := ev.(Identified); ok {
			eid, ev = idf.ID, idf.Event
		}
		d, err := r.registry.Encode(eid, ev, md)
		if err != nil {
			return AppendResult{}, err
		}
		data[i] = d
	}
	return r.store.Append(ctx, r.StreamID(id), expected, data...)
}

// Outcome is what Execute did.
type Outcome[S any] struct {
	// State is the aggregate after the new events.
	State S
	// Events are the new events (empty when the command changed nothing).
	Events []any
	// Result locates the last new event; zero when nothing was appended.
	Result AppendResult
	// Version is the stream version after the command.
	Version int64
}

// Execute loads the aggregate, asks decide for new events and appends them
// expecting the version it loaded. On a concurrency conflict it starts over,
// at most the repository's retry bound; then the *ConcurrencyError surfaces.
// A decide error is returned as is and nothing is written.
func (r *Repository[S]) Execute(ctx context.Context, id string, decide func(S) ([]any, error)) (Outcome[S], error) {
	for attempt := 0; ; attempt++ {
		out, err := r.executeOnce(ctx, id, decide)
		if err == nil || !errors.Is(err, ErrConcurrency) || attempt >= r.retries {
			return out, err
		}
	}
}

func (r *Repository[S]) executeOnce(ctx context.Context, id string, decide func(S) ([]any, error)) (Outcome[S], error) {
	snap, err := r.Load(ctx, id)
	if err != nil {
		return Outcome[S]{}, err
	}
	events, err := decide(snap.State)
	if err != nil {
		return Outcome[S]{State: snap.State, Version: snap.Version}, err
	}
	out := Outcome[S]{State: snap.State, Events: events, Version: snap.Version}
	if len(events) == 0 {
		return out, nil
	}
	expected := NoStream
	if snap.Version >= 0 {
		expected = Exact(snap.Version)
	}
	res, err := r.Save(ctx, id, expected, events...)
	if err != nil {
		return Outcome[S]{State: snap.State, Version: snap.Version}, err
	}
	for _, ev := range events {
		if idf, ok := ev.(Identified); ok {
			ev = idf.Event
		}
		out.State = r.agg.Apply(out.State, ev)
	}
	out.Result, out.Version = res, res.Version
	r.cache.put(id, Snapshot[S]{State: out.State, Version: out.Version})
	return out, nil
}

// snapshots are a Repository's cached states. A nil *snapshots caches
// nothing.
type snapshots[S any] struct {
	mu  sync.Mutex
	max int
	m   map[string]Snapshot[S]
}

func (c *snapshots[S]) get(id string) (Snapshot[S], bool) {
	if c == nil {
		return Snapshot[S]{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[id]
	return s, ok
}

// put keeps s unless a later state of id is kept; past the bound it first
// forgets about half the states, whichever the map yields.
func (c *snapshots[S]) put(id string, s Snapshot[S]) {
	if c == nil || s.Version < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.m[id]; ok && cur.Version >= s.Version {
		return
	}
	if len(c.m) >= c.max {
		for k := range c.m {
			if delete(c.m, k); len(c.m) <= c.max/2 {
				break
			}
		}
	}
	c.m[id] = s
}
