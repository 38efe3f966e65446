package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres/db"
)

// channel is the LISTEN/NOTIFY channel. A notification's payload says what
// committed (see announcement.payload); an empty one means "anything".
const channel = "ordo_events"

// announcement says what committed appends wrote: the categories and types
// of their events and the highest writing transaction id. A blind one (from
// Committed, an empty payload, a listener that reconnected) says nothing,
// so it wakes every subscriber.
type announcement struct {
	blind bool
	txid  uint64
	cats  map[string]struct{}
	types map[string]struct{}
}

func blind() announcement { return announcement{blind: true} }

// appended announces one append.
func appended(stream string, events []es.EventData, at es.Position) announcement {
	a := announcement{txid: at.Commit, cats: map[string]struct{}{es.Category(stream): {}}, types: map[string]struct{}{}}
	for _, e := range events {
		a.types[e.Type] = struct{}{}
	}
	return a
}

// merge adds b to a.
func (a *announcement) merge(b announcement) {
	if a.blind || b.blind {
		*a = blind()
		return
	}
	a.txid = max(a.txid, b.txid)
	if a.cats == nil {
		a.cats, a.types = map[string]struct{}{}, map[string]struct{}{}
	}
	for c := range b.cats {
		a.cats[c] = struct{}{}
	}
	for t := range b.types {
		a.types[t] = struct{}{}
	}
}

// matches reports whether an event the filter matches may be among those
// announced (categories and types are not paired, so it may wake in vain).
func (a announcement) matches(f es.Filter) bool {
	return a.blind || (anyIn(f.Categories, a.cats) && anyIn(f.Types, a.types))
}

func anyIn(want []string, have map[string]struct{}) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if _, ok := have[w]; ok {
			return true
		}
	}
	return false
}

// maxPayload keeps a payload below PostgreSQL's 8000-byte limit; a longer
// one is sent empty (blind).
const maxPayload = 7000

// payload encodes a as "ordo1 <txid> c=<category>… t=<type>…". Names
// holding white space cannot be encoded; the announcement goes out blind.
func (a announcement) payload() string {
	if a.blind {
		return ""
	}
	var b strings.Builder
	b.WriteString("ordo1 ")
	b.WriteString(strconv.FormatUint(a.txid, 10))
	for _, set := range []struct {
		prefix string
		names  map[string]struct{}
	}{{" c=", a.cats}, {" t=", a.types}} {
		for n := range set.names {
			if strings.ContainsAny(n, " \t\r\n") || b.Len()+len(n)+3 > maxPayload {
				return ""
			}
			b.WriteString(set.prefix)
			b.WriteString(n)
		}
	}
	return b.String()
}

// parseAnnouncement is payload's inverse; anything else is blind.
func parseAnnouncement(p string) announcement {
	fields := strings.Fields(p)
	if len(fields) < 2 || fields[0] != "ordo1" {
		return blind()
	}
	txid, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return blind()
	}
	a := announcement{txid: txid, cats: map[string]struct{}{}, types: map[string]struct{}{}}
	for _, f := range fields[2:] {
		switch {
		case strings.HasPrefix(f, "c="):
			a.cats[f[2:]] = struct{}{}
		case strings.HasPrefix(f, "t="):
			a.types[f[2:]] = struct{}{}
		default:
			return blind()
		}
	}
	return a
}

// waiter is one subscriber as the hub sees it: what it reads and what was
// announced to it since it last looked.
type waiter struct {
	filter es.Filter
	ch     chan struct{}

	mu    sync.Mutex
	txid  uint64 // highest announced transaction id with a matching event
	blind bool   // a blind announcement arrived
}

// take returns and clears what was announced.
func (w *waiter) take() (txid uint64, blind bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	txid, blind, w.txid, w.blind = w.txid, w.blind, 0, false
	return txid, blind
}

// hub wakes this process's subscribers when this Store appends and when a
// notification arrives from any process, each only for announcements that
// may hold an event it reads. One LISTEN connection serves every subscriber
// of the Store; it is opened with the first subscriber.
type hub struct {
	ctx     context.Context
	pool    *pgxpool.Pool
	log     *slog.Logger
	pending chan struct{} // appends waiting to be announced with NOTIFY

	mu        sync.Mutex
	waiters   map[*waiter]struct{}
	out       announcement // what the next NOTIFY announces
	hasOut    bool
	listening bool
	wg        sync.WaitGroup
}

func newHub(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) *hub {
	return &hub{ctx: ctx, pool: pool, log: log, pending: make(chan struct{}, 1), waiters: make(map[*waiter]struct{})}
}

func (h *hub) add(f es.Filter) *waiter {
	w := &waiter{filter: f, ch: make(chan struct{}, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.waiters[w] = struct{}{}
	if !h.listening {
		h.listening = true
		h.wg.Add(1)
		go h.listen()
	}
	return w
}

func (h *hub) remove(w *waiter) {
	h.mu.Lock()
	delete(h.waiters, w)
	h.mu.Unlock()
}

// announce wakes the subscribers a may concern; one already awake stays so
// once, and learns of a when it takes.
func (h *hub) announce(a announcement) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.waiters {
		if !a.matches(w.filter) {
			continue
		}
		w.mu.Lock()
		w.txid, w.blind = max(w.txid, a.txid), w.blind || a.blind
		w.mu.Unlock()
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
}

// queue adds a to the next NOTIFY.
func (h *hub) queue(a announcement) {
	h.mu.Lock()
	if h.hasOut {
		h.out.merge(a)
	} else {
		h.out, h.hasOut = a, true
	}
	h.mu.Unlock()
	select {
	case h.pending <- struct{}{}:
	default:
	}
}

// next takes what the next NOTIFY announces.
func (h *hub) next() (announcement, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a, ok := h.out, h.hasOut
	h.out, h.hasOut = announcement{}, false
	return a, ok
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
		h.announce(blind())
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
	h.announce(blind()) // anything committed while we were not listening
	for {
		n, err := conn.WaitForNotification(h.ctx)
		if err != nil {
			return err
		}
		h.announce(parseAnnouncement(n.Payload))
	}
}

// notifyLoop sends one NOTIFY for however many appends happened while the
// previous one was in flight: under load that is one NOTIFY per round trip,
// not one per append, and no append waits for more than the one in flight.
func (s *Store) notifyLoop(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.hub.pending:
		}
		a, ok := s.hub.next()
		if !ok {
			continue
		}
		nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := s.q.Notify(nctx, a.payload()); err != nil && ctx.Err() == nil {
			s.opts.Log.Warn("event store notify failed; other processes will poll", "err", err)
		}
		cancel()
	}
}

// Re-read delays of a subscriber (see Subscribe).
const (
	heldFirst   = time.Millisecond       // first re-read for an announced event still held back
	heldMax     = 8 * time.Millisecond   // the longest gap between such re-reads at first;
	heldPatient = 250 * time.Millisecond // after this long held back the gap doubles up to the poll interval
	blindMax    = 64 * time.Millisecond  // blind announcement: re-read after 1, 2, 4 … this
)

// Subscribe implements es.Store. It reads in batches from its last position
// and, when a batch is short, remembers the line it read below (every
// matching event under it is behind it), so the next read starts there
// rather than rescanning unmatched events. When caught up it waits (see
// pacer) for an announcement of a matching event or the poll interval.
// Read errors are retried with backoff until ctx ends.
func (s *Store) Subscribe(ctx context.Context, from es.Position, f es.Filter, handle es.Handler) error {
	w := s.hub.add(f)
	defer s.hub.remove(w)
	cursor, pos := from, from // where the next read starts; the last event handled
	p := pacer{poll: s.opts.PollInterval}
	errBackoff := 100 * time.Millisecond
	for {
		batch, line, err := s.readVisible(ctx, cursor, f, s.opts.BatchSize)
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
			pos, cursor = e.Position, e.Position
		}
		if len(batch) == s.opts.BatchSize {
			continue
		}
		if below := belowLine(line); cursor.Less(below) {
			cursor = below
		}
		if err := p.wait(ctx, w, line); err != nil {
			return err
		}
	}
}

// pacer decides when a caught-up subscriber reads again. An announced
// event below the line of the last read was read by it, so its
// announcement costs nothing. One at or above the line is held back behind
// a transaction still running: the pacer re-reads after 1, 2, 4, 8, 8 … ms
// until the line passes it, and after 250 ms held back (a transaction left
// open somewhere on the server) at doubling gaps up to the poll interval.
// After a blind announcement it re-reads after 1, 2, 4 … 64 ms, as nothing
// tells when the events will show. Otherwise it waits for an announcement
// or the poll interval.
type pacer struct {
	poll      time.Duration
	held      uint64 // the highest announced transaction the line has not passed; 0: none
	heldSince time.Time
	heldWait  time.Duration
	blindWait time.Duration // the next re-read after a blind announcement; 0: none
}

// wait returns when the subscriber should read again, line being the line
// of its last read.
func (p *pacer) wait(ctx context.Context, w *waiter, line uint64) error {
	if p.held != 0 && p.held < line {
		p.held = 0
	}
	for {
		wait := p.poll
		switch {
		case p.held != 0:
			wait = p.heldWait
			if time.Since(p.heldSince) < heldPatient {
				p.heldWait = min(2*p.heldWait, heldMax)
			} else {
				p.heldWait = min(2*p.heldWait, max(p.poll, heldMax))
			}
		case p.blindWait > 0 && p.blindWait <= blindMax:
			wait, p.blindWait = p.blindWait, 2*p.blindWait
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
			return nil
		case <-w.ch:
			t.Stop()
		}
		txid, blind := w.take()
		if blind {
			p.blindWait = time.Millisecond
			return nil
		}
		if txid >= line {
			if p.held == 0 {
				p.heldSince, p.heldWait = time.Now(), heldFirst
			}
			p.held = max(p.held, txid)
			return nil
		}
		// Announced events the last read already saw: keep waiting.
	}
}

// belowLine is the position just before the first event a transaction
// line or later can write: reading after it reads from the line on.
func belowLine(line uint64) es.Position {
	if line == 0 {
		return es.Start
	}
	return es.Position{Commit: line - 1, Prepare: 1<<63 - 1}
}

// readVisible is ReadAll that also returns the line it read below.
func (s *Store) readVisible(ctx context.Context, from es.Position, f es.Filter, limit int) ([]es.Event, uint64, error) {
	txid, position := fromPosition(from)
	rows, err := s.q.ReadVisible(ctx, db.ReadVisibleParams{
		AfterTxid:     txid,
		AfterPosition: position,
		Categories:    nonNil(f.Categories),
		Types:         nonNil(f.Types),
		MaxCount:      clampLimit(limit),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read all after %s: %w", from, err)
	}
	var line uint64
	out := make([]es.Event, 0, len(rows))
	for _, r := range rows {
		line = uint64(max(r.Line, 0))
		if r.Position == nil {
			continue // the row that says nothing matched
		}
		var md es.Metadata
		if err := json.Unmarshal(r.Metadata, &md); err != nil {
			return nil, 0, fmt.Errorf("event %d of %s: metadata: %w", deref(r.Version), deref(r.StreamID), err)
		}
		out = append(out, es.Event{
			EventData:  es.EventData{ID: es.UUID(r.EventID.Bytes), Type: deref(r.Type), Data: json.RawMessage(r.Data), Metadata: md},
			StreamID:   deref(r.StreamID),
			Version:    deref(r.Version),
			Position:   toPosition(deref(r.Txid), *r.Position),
			RecordedAt: r.RecordedAt.Time.UTC(),
		})
	}
	return out, line, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
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
