package park

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Errors of Replay besides ErrNotFound.
var (
	// ErrOutOfOrder means an earlier event of the entry's group is still
	// parked: replay that one first (it takes the rest of the group along).
	ErrOutOfOrder = errors.New("an earlier event of the same group is still parked")
	// ErrReplayFailed means the handler failed again; the entry stays
	// parked with the new error.
	ErrReplayFailed = errors.New("replay failed; the event stays parked")
)

// Result is what a replay did.
type Result struct {
	// Entry is the entry asked for, as it stands now.
	Entry Entry `json:"entry"`
	// Replayed are the entries replayed now, in order: the one asked for
	// and, for a group, those parked behind it.
	Replayed []Entry `json:"replayed"`
	// Failed is the entry whose replay failed (with its new error), or nil.
	Failed *Entry `json:"failed,omitempty"`
	// Already is set when the entry had been replayed before: nothing ran.
	Already bool `json:"already_replayed"`
}

// bookkeeping bounds the Store writes that record a replay's outcome; they
// run even when the caller's context ended, so an outcome is not lost.
const bookkeeping = 10 * time.Second

// Replay runs the handler of the entry's subscriber again for its event,
// read back from the event store. On success the entry is marked replayed;
// on failure it stays parked with the new error and the error wraps
// ErrReplayFailed. For a subscriber with groups, the entry must be its
// group's first parked one (else ErrOutOfOrder), and the group's later
// parked entries are replayed after it, in order, up to the first that
// fails. An entry already replayed is left alone (Result.Already).
func (l *Lot) Replay(ctx context.Context, id es.UUID) (Result, error) {
	if l == nil {
		return Result{}, ErrNotFound
	}
	l.replaying.Lock()
	defer l.replaying.Unlock()
	en, s, err := l.entry(ctx, id)
	if err != nil {
		return Result{}, err
	}
	res := Result{Entry: en, Replayed: []Entry{}}
	if en.Status == Replayed {
		res.Already = true
		return res, nil
	}
	if en.Key == "" || s.Key == nil {
		done, err := l.replayOne(ctx, s, en)
		return l.outcome(res, done, err)
	}
	return l.replayGroup(ctx, s, res)
}

// replayGroup replays the group's parked entries in order, starting with
// res.Entry, until none is left or one fails. Entries the live
// subscription parks behind the group meanwhile are taken along.
func (l *Lot) replayGroup(ctx context.Context, s Subscriber, res Result) (Result, error) {
	en := res.Entry
	for {
		next, err := l.store.List(ctx, Query{Subscribers: []string{s.Name}, Status: Parked, Key: en.Key, Limit: 1})
		if err != nil {
			return res, fmt.Errorf("list parked events of %s in %s: %w", en.Key, s.Name, err)
		}
		if len(next) == 0 {
			l.release(s.Name, en.Key)
			return l.refresh(ctx, res)
		}
		if len(res.Replayed) == 0 && next[0].ID != en.ID {
			return res, fmt.Errorf("%w: replay entry %s (event %s at %s) first", ErrOutOfOrder, next[0].ID, next[0].EventID, next[0].Position)
		}
		done, err := l.replayOne(ctx, s, next[0])
		if res, err = l.outcome(res, done, err); err != nil {
			return res, err
		}
	}
}

// outcome adds one replay's outcome to res.
func (l *Lot) outcome(res Result, done Entry, err error) (Result, error) {
	switch {
	case errors.Is(err, ErrReplayFailed):
		res.Failed = &done
	case err != nil:
		return res, err
	default:
		res.Replayed = append(res.Replayed, done)
	}
	if done.ID == res.Entry.ID {
		res.Entry = done
	}
	return res, err
}

// refresh reloads res.Entry.
func (l *Lot) refresh(ctx context.Context, res Result) (Result, error) {
	en, err := l.store.Get(ctx, res.Entry.ID)
	if err == nil {
		res.Entry = en
	}
	return res, err
}

// entry returns the entry with id and its subscriber, which must be one of
// this Lot's.
func (l *Lot) entry(ctx context.Context, id es.UUID) (Entry, Subscriber, error) {
	en, err := l.store.Get(ctx, id)
	if err != nil {
		return Entry{}, Subscriber{}, err
	}
	s, ok := l.subscriber(en.Subscriber)
	if !ok {
		return Entry{}, Subscriber{}, fmt.Errorf("%w: %s belongs to %s, which does not run here", ErrNotFound, id, en.Subscriber)
	}
	return en, s, nil
}

// replayOne reads the entry's event back and runs the handler on it, then
// records the outcome and returns the entry as it now stands.
func (l *Lot) replayOne(ctx context.Context, s Subscriber, en Entry) (Entry, error) {
	events, err := l.events.ReadStream(ctx, en.Stream, es.Forwards, en.Version, 1)
	if err != nil {
		return en, fmt.Errorf("read %s@%d back: %w", en.Stream, en.Version, err)
	}
	if len(events) != 1 || events[0].ID != en.EventID {
		return en, fmt.Errorf("read %s@%d back: it is no longer event %s", en.Stream, en.Version, en.EventID)
	}
	h := s.Replay
	if h == nil {
		h = s.Handle
	}
	attempts, herr := l.try(ctx, s.Name, h, events[0])
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeeping)
	defer cancel()
	now := time.Now().UTC()
	if herr != nil {
		again := en
		again.Error, again.Attempts, again.UpdatedAt = herr.Error(), attempts, now
		if err := l.store.Park(bctx, again); err != nil {
			return en, fmt.Errorf("record the failed replay of %s (%v): %w", en.ID, herr, err)
		}
		l.opts.Log.Error("replay failed; the event stays parked", "subscriber", s.Name, "entry", en.ID.String(),
			"event", en.EventID.String(), "type", en.Type, "stream", en.Stream, "err", herr)
		done, err := l.store.Get(bctx, en.ID)
		if err != nil {
			done = again
		}
		return done, fmt.Errorf("%w: %s: %w", ErrReplayFailed, en.ID, herr)
	}
	if _, err := l.store.MarkReplayed(bctx, en.ID, now); err != nil {
		return en, fmt.Errorf("mark %s replayed (its handler succeeded): %w", en.ID, err)
	}
	l.opts.Log.Info("parked event replayed", "subscriber", s.Name, "entry", en.ID.String(),
		"event", en.EventID.String(), "type", en.Type, "stream", en.Stream)
	return l.store.Get(bctx, en.ID)
}

// List returns the entries of this Lot's subscribers with the given status
// (empty: all), in global order, at most limit (0: all).
func (l *Lot) List(ctx context.Context, status Status, limit int) ([]Entry, error) {
	if l == nil {
		return []Entry{}, nil
	}
	subs := l.Subscribers()
	if len(subs) == 0 {
		return []Entry{}, nil
	}
	return l.store.List(ctx, Query{Subscribers: subs, Status: status, Limit: limit})
}

// Get returns one entry of this Lot's subscribers.
func (l *Lot) Get(ctx context.Context, id es.UUID) (Entry, error) {
	if l == nil {
		return Entry{}, ErrNotFound
	}
	en, _, err := l.entry(ctx, id)
	return en, err
}

// Counts are how many entries a Lot's subscribers have.
type Counts struct {
	Parked   int `json:"parked"`
	Replayed int `json:"replayed"`
	// ParkedSinceStart counts the events this process parked since it
	// started (replay failures excluded).
	ParkedSinceStart int64 `json:"parked_since_start"`
}

// Count returns the Lot's counts.
func (l *Lot) Count(ctx context.Context) (Counts, error) {
	if l == nil {
		return Counts{}, nil
	}
	subs := l.Subscribers()
	c := Counts{ParkedSinceStart: l.ParkedSinceStart()}
	if len(subs) == 0 {
		return c, nil
	}
	n, err := l.store.Count(ctx, subs)
	c.Parked, c.Replayed = n[Parked], n[Replayed]
	return c, err
}
