package park

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres/db"
)

// Postgres keeps entries in the parked_events table of the PostgreSQL
// event store's database; the event store's migrations create it
// (postgres.Open runs them).
type Postgres struct{ q *db.Queries }

var _ Store = Postgres{}

// NewPostgres returns the store on pool, a pool of the event store's
// database.
func NewPostgres(pool *pgxpool.Pool) Postgres { return Postgres{q: db.New(pool)} }

// Park implements Store.
func (p Postgres) Park(ctx context.Context, e Entry) error {
	commit, prepare := fromPosition(e.Position)
	err := p.q.ParkEvent(ctx, db.ParkEventParams{
		ID: pgUUID(e.ID), Subscriber: e.Subscriber, EventID: pgUUID(e.EventID), StreamID: e.Stream,
		Version: e.Version, CommitPos: commit, PreparePos: prepare, Type: e.Type, HoldKey: e.Key,
		Error: e.Error, Attempts: int32(min(e.Attempts, math.MaxInt32)), //nolint:gosec // bounded above
		At: pgTime(e.UpdatedAt),
	})
	if err != nil {
		return fmt.Errorf("park %s: %w", e.ID, err)
	}
	return nil
}

// Get implements Store.
func (p Postgres) Get(ctx context.Context, id es.UUID) (Entry, error) {
	row, err := p.q.GetParked(ctx, pgUUID(id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("get parked %s: %w", id, err)
	}
	return fromRow(row), nil
}

// List implements Store.
func (p Postgres) List(ctx context.Context, q Query) ([]Entry, error) {
	limit := int32(math.MaxInt32)
	if q.Limit > 0 && q.Limit < math.MaxInt32 {
		limit = int32(q.Limit)
	}
	rows, err := p.q.ListParked(ctx, db.ListParkedParams{Subscribers: q.Subscribers, Status: string(q.Status), HoldKey: q.Key, MaxCount: limit})
	if err != nil {
		return nil, fmt.Errorf("list parked events: %w", err)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}

// Count implements Store.
func (p Postgres) Count(ctx context.Context, subscribers []string) (map[Status]int, error) {
	rows, err := p.q.CountParked(ctx, subscribers)
	if err != nil {
		return nil, fmt.Errorf("count parked events: %w", err)
	}
	out := map[Status]int{}
	for _, r := range rows {
		out[Status(r.Status)] = int(r.N)
	}
	return out, nil
}

// MarkReplayed implements Store.
func (p Postgres) MarkReplayed(ctx context.Context, id es.UUID, at time.Time) (bool, error) {
	n, err := p.q.MarkReplayed(ctx, db.MarkReplayedParams{ID: pgUUID(id), At: pgTime(at)})
	if err != nil {
		return false, fmt.Errorf("mark %s replayed: %w", id, err)
	}
	return n == 1, nil
}

func fromRow(r db.ParkedEvent) Entry {
	e := Entry{
		ID: es.UUID(r.ID.Bytes), Subscriber: r.Subscriber, EventID: es.UUID(r.EventID.Bytes), Stream: r.StreamID,
		Version: r.Version, Position: toPosition(r.CommitPos, r.PreparePos), Type: r.Type, Key: r.HoldKey,
		Error: r.Error, Attempts: int(r.Attempts), Status: Status(r.Status),
		ParkedAt: r.ParkedAt.Time.UTC(), UpdatedAt: r.UpdatedAt.Time.UTC(),
	}
	if r.ReplayedAt.Valid {
		t := r.ReplayedAt.Time.UTC()
		e.Replayed = &t
	}
	return e
}

func pgUUID(u es.UUID) pgtype.UUID { return pgtype.UUID{Bytes: u, Valid: true} }

func pgTime(t time.Time) pgtype.Timestamptz { return pgtype.Timestamptz{Time: t, Valid: true} }

// toPosition and fromPosition convert as the event store does: both
// columns are non-negative bigints; larger parts saturate, keeping order.
func toPosition(commit, prepare int64) es.Position {
	return es.Position{Commit: uint64(max(commit, 0)), Prepare: uint64(max(prepare, 0))}
}

func fromPosition(p es.Position) (commit, prepare int64) {
	return int64(min(p.Commit, math.MaxInt64)), int64(min(p.Prepare, math.MaxInt64)) //nolint:gosec // clamped
}
