package park

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Options tune a Lot. The zero value works.
type Options struct {
	// Attempts is how many times an event that fails transiently is tried
	// before the failure goes back to the subscription (default 3).
	Attempts int
	// Backoff is the pause after the first failed try; it doubles after
	// each further one (default 200ms).
	Backoff time.Duration
	// Log receives parked events (as errors) and retries (default
	// slog.Default()).
	Log *slog.Logger
	// OnPark, when set, hears of every event parked by a subscription
	// (for a metric; it must not block).
	OnPark func(Entry)
}

func (o Options) withDefaults() Options {
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// Subscriber is one subscription's handling of events, split so that a
// replay can run the effect without moving the subscription's checkpoint.
type Subscriber struct {
	// Name identifies the subscriber; entries are kept under it. Use the
	// subscription's checkpoint name: unique in the database, stable.
	Name string
	// Handle carries out the event's effect (required).
	Handle es.Handler
	// After, when set, runs in the subscription once an event was handled
	// (parked false) or parked (true): the place to store the checkpoint.
	// A replay never runs it.
	After func(ctx context.Context, e es.Event, parked bool) error
	// Replay, when set, is what a replay runs instead of Handle.
	Replay es.Handler
	// Key, when set, names the group of e whose events must be handled in
	// order (empty: none). While an event of a group is parked, the later
	// events of the group are parked behind it unhandled.
	Key func(e es.Event) string
}

// Lot parks the events a service's subscribers cannot process and replays
// them on demand. It is safe for concurrent use. A nil *Lot is valid: its
// handlers log a permanent failure and pass the event, as if parked, but
// record nothing.
type Lot struct {
	events es.Store
	store  Store
	opts   Options
	parked atomic.Int64

	mu   sync.Mutex
	subs map[string]Subscriber
	// held are, per subscriber, the groups with a parked event as far as
	// this process knows (nil until loaded). A hit is checked against the
	// Store, so an entry replayed elsewhere is noticed.
	held map[string]map[string]bool

	replaying sync.Mutex // one replay at a time
}

// New returns a Lot that reads events back from events and keeps its
// entries in store.
func New(events es.Store, store Store, opts Options) *Lot {
	return &Lot{events: events, store: store, opts: opts.withDefaults(),
		subs: map[string]Subscriber{}, held: map[string]map[string]bool{}}
}

// Handler registers s (replacing an earlier registration of its name) and
// returns the handler to subscribe with.
func (l *Lot) Handler(s Subscriber) es.Handler {
	if s.Name == "" || s.Handle == nil {
		panic("park: a subscriber needs a name and a Handle func")
	}
	if l == nil {
		return func(ctx context.Context, e es.Event) error { return unparked(ctx, s, e) }
	}
	l.mu.Lock()
	l.subs[s.Name] = s
	l.mu.Unlock()
	return func(ctx context.Context, e es.Event) error { return l.handle(ctx, s, e) }
}

// unparked is a nil Lot's handler: no retries, nothing recorded.
func unparked(ctx context.Context, s Subscriber, e es.Event) error {
	err := call(ctx, s.Handle, e)
	if err != nil && !IsPermanent(err) {
		return err
	}
	if err != nil {
		slog.Default().Error("event skipped: its handler cannot process it and nothing parks it",
			"subscriber", s.Name, "event", e.ID.String(), "type", e.Type, "stream", e.StreamID, "err", err)
	}
	return after(ctx, s, e, err != nil)
}

func after(ctx context.Context, s Subscriber, e es.Event, parked bool) error {
	if s.After == nil {
		return nil
	}
	return s.After(ctx, e, parked)
}

// ParkedSinceStart counts the events this Lot parked since it was made.
func (l *Lot) ParkedSinceStart() int64 { return l.parked.Load() }

// Subscribers returns the names of the registered subscribers, sorted.
func (l *Lot) Subscribers() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, 0, len(l.subs))
	for n := range l.subs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (l *Lot) subscriber(name string) (Subscriber, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.subs[name]
	return s, ok
}

// handle is the wrapped handler: hold, try, park or fail.
func (l *Lot) handle(ctx context.Context, s Subscriber, e es.Event) error {
	var key string
	if s.Key != nil {
		key = s.Key(e)
	}
	if key != "" {
		first, err := l.heldBy(ctx, s.Name, key)
		if err != nil {
			return err
		}
		if !first.ID.IsZero() {
			return l.park(ctx, s, e, key, fmt.Errorf("held: event %s of group %s is parked (entry %s) and this one must follow it", first.EventID, key, first.ID), 0)
		}
	}
	attempts, err := l.try(ctx, s.Name, s.Handle, e)
	switch {
	case err == nil:
		return after(ctx, s, e, false)
	case IsPermanent(err):
		return l.park(ctx, s, e, key, err, attempts)
	}
	return err
}

// try runs h until it succeeds, fails permanently, or has failed
// Options.Attempts times; it returns the number of runs and the last error.
func (l *Lot) try(ctx context.Context, name string, h es.Handler, e es.Event) (int, error) {
	wait := l.opts.Backoff
	for n := 1; ; n++ {
		err := call(ctx, h, e)
		if err == nil || IsPermanent(err) || n >= l.opts.Attempts || ctx.Err() != nil {
			return n, err
		}
		l.opts.Log.Warn("handler failed; trying the event again", "subscriber", name, "event", e.ID.String(),
			"type", e.Type, "stream", e.StreamID, "attempt", n, "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return n, err
		case <-t.C:
		}
		wait *= 2
	}
}

// park records e as parked, then lets the subscription move on. When the
// record cannot be written the error goes back to the subscription, which
// restarts and meets the event again: nothing is passed unrecorded.
func (l *Lot) park(ctx context.Context, s Subscriber, e es.Event, key string, cause error, attempts int) error {
	now := time.Now().UTC()
	en := Entry{
		ID: EntryID(s.Name, e.ID), Subscriber: s.Name, EventID: e.ID, Stream: e.StreamID, Version: e.Version,
		Position: e.Position, Type: e.Type, Key: key, Error: cause.Error(), Attempts: attempts,
		Status: Parked, ParkedAt: now, UpdatedAt: now,
	}
	if err := l.store.Park(ctx, en); err != nil {
		return fmt.Errorf("park %s %s@%d for %s (handler failed: %v): %w", e.Type, e.StreamID, e.Version, s.Name, cause, err)
	}
	if key != "" {
		l.hold(ctx, s.Name, key)
	}
	l.parked.Add(1)
	if l.opts.OnPark != nil {
		l.opts.OnPark(en)
	}
	l.opts.Log.Error("event parked: its handler cannot process it; the subscription moves on",
		"subscriber", s.Name, "entry", en.ID.String(), "event", e.ID.String(), "type", e.Type, "stream", e.StreamID,
		"version", e.Version, "position", e.Position.String(), "key", key, "attempts", attempts, "err", cause)
	return after(ctx, s, e, true)
}

// heldBy returns the first parked entry of the subscriber's group, or a
// zero Entry when the group has none.
func (l *Lot) heldBy(ctx context.Context, sub, key string) (Entry, error) {
	if err := l.loadHeld(ctx, sub); err != nil {
		return Entry{}, err
	}
	l.mu.Lock()
	maybe := l.held[sub][key]
	l.mu.Unlock()
	if !maybe {
		return Entry{}, nil
	}
	first, err := l.store.List(ctx, Query{Subscribers: []string{sub}, Status: Parked, Key: key, Limit: 1})
	if err != nil {
		return Entry{}, fmt.Errorf("look for parked events of %s in %s: %w", key, sub, err)
	}
	if len(first) == 0 {
		l.release(sub, key)
		return Entry{}, nil
	}
	return first[0], nil
}

// loadHeld loads the subscriber's groups with parked events from the
// Store, once.
func (l *Lot) loadHeld(ctx context.Context, sub string) error {
	l.mu.Lock()
	_, loaded := l.held[sub]
	l.mu.Unlock()
	if loaded {
		return nil
	}
	parked, err := l.store.List(ctx, Query{Subscribers: []string{sub}, Status: Parked})
	if err != nil {
		return fmt.Errorf("load parked events of %s: %w", sub, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, loaded := l.held[sub]; loaded {
		return nil
	}
	keys := map[string]bool{}
	for _, en := range parked {
		if en.Key != "" {
			keys[en.Key] = true
		}
	}
	l.held[sub] = keys
	return nil
}

// hold notes that the subscriber's group has a parked event.
func (l *Lot) hold(ctx context.Context, sub, key string) {
	if err := l.loadHeld(ctx, sub); err != nil {
		return // the entry is stored; it is found when the groups load
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held[sub][key] = true
}

// release forgets a group whose parked events are all replayed.
func (l *Lot) release(sub, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held[sub], key)
}
