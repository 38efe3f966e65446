package projection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

// ErrNotCaughtUp means the projection did not reach the wanted position
// before the caller's deadline. HTTP handlers map it to "try again".
var ErrNotCaughtUp = errors.New("projection has not caught up")

// MaxLagCount caps how many pending events Lag counts, so a projection far
// behind costs one bounded read to measure.
const MaxLagCount = 10_000

// LagReport says how far a projection is behind its store.
type LagReport struct {
	// Checkpoint is the current key space's checkpoint.
	Checkpoint es.Position
	// Head is the store's last visible event.
	Head es.Position
	// Events is how many events the projection still has to apply: those
	// after Checkpoint that its filter matches, counted up to MaxLagCount.
	// It is 0 when caught up even if Head is past Checkpoint, because
	// events the filter drops never move the checkpoint.
	Events int
	// Oldest is the earliest time one of those events was recorded (zero
	// when there are none): now minus Oldest is how stale the model is.
	Oldest time.Time
}

// Lag measures how far the projection is behind the store. It reads the
// checkpoint from Redis, so it also reports on Runners in other processes.
func (r *Runner) Lag(ctx context.Context) (LagReport, error) {
	cp, err := r.liveCheckpoint(ctx)
	if err != nil {
		return LagReport{}, err
	}
	head, err := r.store.Head(ctx)
	if err != nil {
		return LagReport{}, fmt.Errorf("lag of %s: %w", r.proj.Name, err)
	}
	rep := LagReport{Checkpoint: cp, Head: head}
	if c, ok := r.store.(lagCounter); ok {
		rep.Events, rep.Oldest, err = c.CountAll(ctx, cp, r.proj.Filter, MaxLagCount)
		if err != nil {
			return LagReport{}, fmt.Errorf("lag of %s: %w", r.proj.Name, err)
		}
		return rep, nil
	}
	pending, err := r.store.ReadAll(ctx, cp, r.proj.Filter, MaxLagCount)
	if err != nil {
		return LagReport{}, fmt.Errorf("lag of %s: %w", r.proj.Name, err)
	}
	rep.Events = len(pending)
	if len(pending) > 0 {
		rep.Oldest = pending[0].RecordedAt
	}
	return rep, nil
}

// lagCounter is a store that counts the events after a position without
// reading them (the PostgreSQL store): a projection far behind then costs
// one count to measure, not a read of thousands of events.
type lagCounter interface {
	CountAll(ctx context.Context, from es.Position, f es.Filter, limit int) (int, time.Time, error)
}

// WaitFor blocks until the model readers see reflects every event up to pos
// (a position a write returned), or ctx ends; then it returns an error that
// is both ErrNotCaughtUp and ctx's error. Give ctx a short deadline: it is
// how long a read is willing to wait for its own write.
//
// Waiting costs little however many wait at once and however fast events
// arrive. A caller looks when it starts, and then on its own clock: after
// PollInterval, then at doubling gaps up to maxWaitPoll. A look (see look)
// reads Redis and the store at most once per PollInterval in this process,
// shared by every caller. In between a caller wakes on every checkpoint
// this process sees move but checks only in memory; when that checkpoint
// has reached pos it asks Redis once to confirm (the model readers see is
// the truth: a key space that was replaced or lost does not count). Before,
// every caller read Redis and the store on every event applied: under load
// the waiters' reads grew with the lag they waited out and starved the
// projection they were waiting for.
func (r *Runner) WaitFor(ctx context.Context, pos es.Position) error {
	gap := r.opts.PollInterval
	poll := time.NewTimer(gap)
	defer poll.Stop()
	var last sight
	full := true
	for {
		wake := r.wake()
		switch {
		case full:
			if last = r.look(ctx); last.reached(pos) {
				return nil
			}
		case pos.Compare(r.Checkpoint()) <= 0:
			cp, err := r.liveCheckpoint(ctx)
			if err == nil && pos.Compare(cp) <= 0 {
				return nil
			}
		}
		full = false
		select {
		case <-ctx.Done():
			if last.err != nil {
				return fmt.Errorf("%w: want %s: %w (last error: %v)", ErrNotCaughtUp, pos, ctx.Err(), last.err)
			}
			return fmt.Errorf("%w: at %s, want %s: %w", ErrNotCaughtUp, last.cp, pos, ctx.Err())
		case <-wake:
		case <-poll.C:
			full = true
			gap = min(2*gap, max(maxWaitPoll, r.opts.PollInterval))
			poll.Reset(gap)
		}
	}
}

// maxWaitPoll is the longest gap between a waiter's own looks.
const maxWaitPoll = 160 * time.Millisecond

// sight is what a look saw: the live checkpoint, the store's head and the
// first event the projection has yet to apply (none: Start).
type sight struct {
	at   time.Time
	cp   es.Position
	head es.Position
	next es.Position
	err  error
}

// reached reports whether the model seen reflects everything up to pos. The
// checkpoint only moves on events the filter matches, so it may stay below
// pos for good when pos's own event is not one of them; then the model has
// reached pos once pos is visible and no matching event lies in (cp, pos].
func (s sight) reached(pos es.Position) bool {
	if s.err != nil {
		return false
	}
	if pos.Compare(s.cp) <= 0 {
		return true
	}
	return !s.head.Less(pos) && (s.next.IsZero() || pos.Less(s.next))
}

// look reads the live checkpoint from Redis and, when the model is behind
// the store's head, the projection's next event from the store; a look
// less than PollInterval old is shared instead. One look runs at a time.
func (r *Runner) look(ctx context.Context) sight {
	r.lookMu.Lock()
	defer r.lookMu.Unlock()
	if !r.last.at.IsZero() && time.Since(r.last.at) < r.opts.PollInterval {
		return r.last
	}
	s := sight{}
	s.cp, s.err = r.liveCheckpoint(ctx)
	if s.err == nil {
		s.head, s.err = r.store.Head(ctx)
	}
	if s.err == nil && s.cp.Less(s.head) {
		var next []es.Event
		if next, s.err = r.store.ReadAll(ctx, s.cp, r.proj.Filter, 1); s.err == nil && len(next) > 0 {
			s.next = next[0].Position
		}
	}
	if s.err != nil {
		s.err = fmt.Errorf("wait for %s: %w", r.proj.Name, s.err)
		return s // not shared: the next caller tries again
	}
	s.at = time.Now()
	r.last = s
	return s
}

// liveCheckpoint reads the checkpoint of the space readers currently see.
func (r *Runner) liveCheckpoint(ctx context.Context) (es.Position, error) {
	sp, err := r.Keys(ctx)
	if err != nil {
		return es.Start, err
	}
	cp, err := loadCheckpoint(ctx, r.rdb, sp)
	if err == nil {
		r.observe(cp)
	}
	return cp, err
}
