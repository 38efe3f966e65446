package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordo-platform/ordo/pkg/es"
)

// channel is the LISTEN/NOTIFY channel; notifications carry no payload.
const channel = "ordo_events"

// hub wakes this process's subscribers: when this Store appends, and when a
// notification arrives from any process. One LISTEN connection serves every
// subscriber of the Store; it is opened with the first subscriber.
type hub struct {
	ctx     context.Context
	pool    *pgxpool.Pool
	log     *slog.Logger
	pending chan struct{} // appends waiting to be announced with NOTIFY

	mu        sync.Mutex
	waiters   map[chan struct{}]struct{}
	listening bool
	wg        sync.WaitGroup
}

func newHub(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) *hub {
	return &hub{ctx: ctx, pool: pool, log: log, pending: make(chan struct{}, 1), waiters: make(map[chan struct{}]struct{})}
}

func (h *hub) add() chan struct{} {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.waiters[ch] = struct{}{}
	if !h.listening {
		h.listening = true
		h.wg.Add(1)
		go h.listen()
	}
	return ch
}

func (h *hub) remove(ch chan struct{}) {
	h.mu.Lock()
	delete(h.waiters, ch)
	h.mu.Unlock()
}

// broadcast wakes every subscriber; a subscriber already awake stays so once.
func (h *hub) broadcast() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (h *hub) wait() { h.wg.Wait() }

// listen holds a LISTEN connection until the store closes, reconnecting
// with backoff. While it is down subscribers still poll.
func (h *hub) listen() {
	defer h.wg.Done()
	backoff := 100 * time.Millisecond
	for h.ctx.Err() == nil {
		err := h.listenOnce()
		if h.ctx.Err() != nil {
			return
		}
		h.log.Warn("event store listener lost; subscribers poll until it is back", "err", err, "retry_in", backoff)
		h.broadcast()
		select {
		case <-h.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (h *hub) listenOnce() error {
	conn, err := pgx.ConnectConfig(h.ctx, h.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(h.ctx, "LISTEN "+channel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	h.broadcast() // anything committed while we were not listening
	for {
		if _, err := conn.WaitForNotification(h.ctx); err != nil {
			return err
		}
		h.broadcast()
	}
}

// notifyGap is the least time between two NOTIFYs from one Store: it caps
// the cost of waking other processes at a few hundred statements a second
// under load, and adds at most that much to their delivery latency.
const notifyGap = 2 * time.Millisecond

// notifyLoop sends one NOTIFY for however many appends happened while the
// previous one was in flight or within notifyGap of it.
func (s *Store) notifyLoop(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.hub.pending:
		}
		nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := s.q.Notify(nctx); err != nil && ctx.Err() == nil {
			s.opts.Log.Warn("event store notify failed; other processes will poll", "err", err)
		}
		cancel()
		if err := sleep(ctx, notifyGap); err != nil {
			return
		}
	}
}

// Subscribe implements es.Store. It reads in batches from its last position;
// when caught up it waits for a wake-up or the poll interval. After a wake-up
// that finds nothing (the new events are held back behind a transaction that
// is still running) it re-reads after 1, 2, 4 … 64 ms before falling back to
// the poll interval. Read errors are retried with backoff until ctx ends.
func (s *Store) Subscribe(ctx context.Context, from es.Position, f es.Filter, handle es.Handler) error {
	wake := s.hub.add()
	defer s.hub.remove(wake)
	pos, quick, errBackoff := from, time.Duration(0), 100*time.Millisecond
	for {
		batch, err := s.ReadAll(ctx, pos, f, s.opts.BatchSize)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.opts.Log.Warn("subscription read failed; retrying", "from", pos, "err", err, "retry_in", errBackoff)
			if err := sleep(ctx, errBackoff); err != nil {
				return err
			}
			errBackoff = min(2*errBackoff, 5*time.Second)
			continue
		}
		errBackoff = 100 * time.Millisecond
		for _, e := range batch {
			if err := handle(ctx, e); err != nil {
				return fmt.Errorf("handle %s %s@%d at %s: %w", e.Type, e.StreamID, e.Version, e.Position, err)
			}
			pos = e.Position
		}
		if len(batch) == s.opts.BatchSize {
			continue
		}
		wait := s.opts.PollInterval
		if quick > 0 && quick <= 64*time.Millisecond {
			wait, quick = quick, 2*quick
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
			quick = time.Millisecond
		case <-time.After(wait):
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
