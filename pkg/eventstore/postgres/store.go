// Package postgres is ordo's default event store: the es.Store contract on
// PostgreSQL, through pgx and sqlc-generated queries.
//
// An append is one statement (one round trip, so a batch is atomic) that
// takes no stream or global lock: the unique (stream_id, version) key settles
// races. The global order is (writing transaction id, sequence position);
// readers stop below the oldest transaction still running, so a subscriber
// never skips an event that commits out of order, and writers never wait for
// a global lock. Appends made while another is in flight are combined into
// one statement (see combine.go), so under load a commit carries many.
//
// Live subscribers are woken by LISTEN/NOTIFY. NOTIFY is sent outside the
// append (a NOTIFY inside a transaction serialises every commit on one lock),
// coalesced by one notifier goroutine per Store: under load that is one
// NOTIFY per round trip, not one per event. A NOTIFY names the categories
// and types it announces, so a process wakes only the subscribers that read
// them. Polling backs it up.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres/db"
)

// Options tune a Store. The zero value works.
type Options struct {
	// PollInterval is how often an idle subscriber polls when no
	// notification arrives (default 500ms).
	PollInterval time.Duration
	// BatchSize is how many events a subscriber reads per query (default 512).
	BatchSize int
	// Log receives the store's warnings (default slog.Default()).
	Log *slog.Logger
	// OnAppend, when set, learns of every append (Append and AppendTx):
	// how many events it carried, how long it took and its error (nil on
	// success). It is how metrics see appends without this package
	// knowing a metrics library.
	OnAppend func(events int, took time.Duration, err error)
	// NoCombine turns write combining off (see combine.go): each Append
	// is then its own statement and its own commit. Combining is on by
	// default; it sends Appends that arrive while an earlier one is in
	// flight together, as one statement and one commit.
	NoCombine bool
}

func (o Options) withDefaults() Options {
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 512
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// Store is the PostgreSQL event store. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	q    *db.Queries
	opts Options
	hub  *hub
	comb *combiner // nil when Options.NoCombine
	stop context.CancelFunc
	done chan struct{}
	// ownPool is set when Open made the pool, so Close closes it.
	ownPool bool
}

var _ es.Store = (*Store)(nil)

// New returns a store on pool, whose schema Migrate has created. Close stops
// its background goroutines; the caller closes the pool.
func New(pool *pgxpool.Pool, opts Options) *Store {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{pool: pool, q: db.New(pool), opts: opts, stop: cancel, done: make(chan struct{})}
	s.hub = newHub(ctx, pool, opts.Log)
	if !opts.NoCombine {
		s.comb = newCombiner(pool, s.q)
	}
	go s.notifyLoop(ctx)
	return s
}

// Open connects to url, migrates the schema and returns the store with its
// pool. Close closes both.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	// The pool is pgx's default size (the CPU count, at least 4) unless
	// url sets pool_max_conns (platform.WithPoolSize): a service's handlers
	// mostly wait for round trips, so a busy service on a small machine
	// gains from a few more (the order service takes 8), but every process
	// and replica holds that many, against the server's max_connections.
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect event store: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect event store: %w", err)
	}
	if err := Migrate(pool); err != nil {
		pool.Close()
		return nil, err
	}
	s := New(pool, opts)
	s.ownPool = true
	return s, nil
}

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close stops the notifier and listener; it closes the pool if Open made it.
func (s *Store) Close() {
	s.stop()
	<-s.done
	s.hub.wait()
	if s.ownPool {
		s.pool.Close()
	}
}

// Append implements es.Store. Unless Options.NoCombine is set, appends
// made while an earlier one is in flight are sent together, as one
// statement (see combine.go); each caller's result and error are those
// it would get alone. A caller whose ctx ends while its append is in
// flight gets ctx's error at once, though the events may still be written;
// re-sending them (same ids, same expectation) is idempotent.
func (s *Store) Append(ctx context.Context, stream string, expected es.ExpectedVersion, events ...es.EventData) (es.AppendResult, error) {
	res, err := s.append(ctx, s.q, stream, expected, events, true)
	if err == nil {
		a := appended(stream, events, res.Position)
		s.hub.announce(a)
		s.hub.queue(a)
	}
	return res, err
}

// AppendTx appends inside the caller's transaction, so a handler can store
// its events together with its checkpoint or other effects. Call Committed
// after the commit to wake subscribers at once (they poll otherwise).
func (s *Store) AppendTx(ctx context.Context, tx pgx.Tx, stream string, expected es.ExpectedVersion, events ...es.EventData) (es.AppendResult, error) {
	return s.append(ctx, s.q.WithTx(tx), stream, expected, events, false)
}

// Committed tells subscribers, in this process and others, that new events
// may be visible.
func (s *Store) Committed() {
	s.hub.announce(blind())
	s.hub.queue(blind())
}

// maxRaces bounds how often an append with expectation Any retries after
// losing a race for the same version to another writer.
const maxRaces = 10

func (s *Store) append(ctx context.Context, q *db.Queries, stream string, expected es.ExpectedVersion, events []es.EventData, standalone bool) (es.AppendResult, error) {
	if s.opts.OnAppend == nil {
		return s.appendOnce(ctx, q, stream, expected, events, standalone)
	}
	start := time.Now()
	res, err := s.appendOnce(ctx, q, stream, expected, events, standalone)
	s.opts.OnAppend(len(events), time.Since(start), err)
	return res, err
}

func (s *Store) appendOnce(ctx context.Context, q *db.Queries, stream string, expected es.ExpectedVersion, events []es.EventData, standalone bool) (es.AppendResult, error) {
	events = append([]es.EventData(nil), events...) // ValidateAppend fills in ids
	if err := es.ValidateAppend(stream, expected, events); err != nil {
		return es.AppendResult{}, err
	}
	p, err := appendParams(stream, expected, events)
	if err != nil {
		return es.AppendResult{}, err
	}
	for race := 0; ; race++ {
		row, err := s.appendEvents(ctx, q, p, standalone && race == 0)
		switch {
		case err == nil && row.LastVersion >= 0:
			return result(row.LastVersion, row.LastTxid, row.LastPosition), nil
		case err == nil, standalone && isUniqueViolation(err):
			// The expectation failed, or a write raced this one. It may be a
			// replay of events already stored; ordo_replay says.
			res, rerr := q.ReplayEvents(ctx, db.ReplayEventsParams{Stream: p.Stream, Kind: p.Kind, Expected: p.Expected, Ids: p.Ids})
			if rerr == nil {
				return result(res.LastVersion, res.LastTxid, res.LastPosition), nil
			}
			if expected.IsAny() && err != nil && race < maxRaces {
				continue // lost a race for the next version: read it again
			}
			return es.AppendResult{}, appendError(stream, expected, rerr)
		default:
			return es.AppendResult{}, appendError(stream, expected, err)
		}
	}
}

// appendEvents runs the AppendEvents statement, combined with concurrent
// ones when combine is set and the store combines. Retries after a lost
// race go alone, so that a writer that keeps losing cannot fail batches.
func (s *Store) appendEvents(ctx context.Context, q *db.Queries, p db.AppendEventsParams, combine bool) (db.AppendEventsRow, error) {
	if combine && s.comb != nil {
		return s.comb.appendEvents(ctx, p)
	}
	return q.AppendEvents(ctx, p)
}

func result(version, txid, position int64) es.AppendResult {
	return es.AppendResult{Version: version, Position: toPosition(txid, position)}
}

// toPosition makes a Position of the (txid, position) columns, both
// non-negative bigints.
func toPosition(txid, position int64) es.Position {
	return es.Position{Commit: uint64(txid), Prepare: uint64(position)} //nolint:gosec // columns are never negative
}

// fromPosition is toPosition's inverse; parts beyond the bigint range (no
// PostgreSQL position has them) saturate, which keeps the order.
func fromPosition(p es.Position) (txid, position int64) {
	const maxInt = 1<<63 - 1
	return int64(min(p.Commit, maxInt)), int64(min(p.Prepare, maxInt)) //nolint:gosec // clamped above
}

func appendParams(stream string, expected es.ExpectedVersion, events []es.EventData) (db.AppendEventsParams, error) {
	p := db.AppendEventsParams{
		Stream:   stream,
		Kind:     kindOf(expected),
		Expected: expected.Version(),
		Ids:      make([]pgtype.UUID, len(events)),
		Types:    make([]string, len(events)),
		Data:     make([][]byte, len(events)),
		Metadata: make([][]byte, len(events)),
	}
	for i, e := range events {
		md, err := json.Marshal(e.Metadata)
		if err != nil {
			return p, es.Invalidf("append to %s: event %d metadata: %v", stream, i, err)
		}
		p.Ids[i] = pgtype.UUID{Bytes: e.ID, Valid: true}
		p.Types[i], p.Data[i], p.Metadata[i] = e.Type, e.Data, md
	}
	return p, nil
}

func kindOf(e es.ExpectedVersion) int16 {
	switch {
	case e.IsAny():
		return 1
	case e.IsNoStream():
		return 2
	case e.IsStreamExists():
		return 3
	}
	return 4
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func appendError(stream string, expected es.ExpectedVersion, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "OR001":
			actual, _ := strconv.ParseInt(pe.Detail, 10, 64)
			return &es.ConcurrencyError{Stream: stream, Expected: expected, Actual: actual}
		case "23505":
			// Inside a caller's transaction the unique key is the only check
			// left (the transaction is aborted, so the version is unknown).
			return &es.ConcurrencyError{Stream: stream, Expected: expected, Actual: -1}
		case "22P05", "22P02", "54000":
			// Untranslatable character or bad JSON text that json.Valid
			// accepted (PostgreSQL rejects \u0000 in jsonb), or too large.
			return es.Invalidf("append to %s: %s", stream, pe.Message)
		}
	}
	return fmt.Errorf("append to %s: %w", stream, err)
}
