package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres/db"
)

// maxRead caps one read, whatever limit the caller asks for.
const maxRead = 10_000

func clampLimit(limit int) int32 {
	if limit <= 0 || limit > maxRead {
		return maxRead
	}
	return int32(limit)
}

// ReadStream implements es.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, dir es.Direction, from int64, limit int) ([]es.Event, error) {
	if err := es.ValidateStreamID(stream); err != nil {
		return nil, err
	}
	limit32 := clampLimit(limit)
	var rows []db.Event
	var err error
	switch {
	case dir == es.Forwards && from > 0:
		rows, err = s.q.ReadStreamForwardsOrMissing(ctx, db.ReadStreamForwardsOrMissingParams{Stream: stream, FromVersion: from, MaxCount: limit32})
		if err == nil && len(rows) == 1 && rows[0].Version < 0 {
			return nil, fmt.Errorf("read %s: %w", stream, es.ErrStreamNotFound)
		}
	case dir == es.Forwards:
		rows, err = embedded(s.q.ReadStreamForwards(ctx, db.ReadStreamForwardsParams{Stream: stream, FromVersion: from, MaxCount: limit32}))
	case dir == es.Backwards:
		if from < 0 {
			from = 1<<63 - 1
		}
		rows, err = embedded(s.q.ReadStreamBackwards(ctx, db.ReadStreamBackwardsParams{Stream: stream, FromVersion: from, MaxCount: limit32}))
	default:
		return nil, es.Invalidf("read %s: unknown direction %d", stream, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(rows) == 0 && (dir == es.Backwards || from <= 0) {
		// The read covered version 0, which every stream with events has.
		return nil, fmt.Errorf("read %s: %w", stream, es.ErrStreamNotFound)
	}
	return toEvents(rows)
}

// ReadAll implements es.Store.
func (s *Store) ReadAll(ctx context.Context, from es.Position, f es.Filter, limit int) ([]es.Event, error) {
	txid, position := fromPosition(from)
	rows, err := embedded(s.q.ReadAll(ctx, db.ReadAllParams{
		AfterTxid:     txid,
		AfterPosition: position,
		Categories:    nonNil(f.Categories),
		Types:         nonNil(f.Types),
		MaxCount:      clampLimit(limit),
	}))
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", from, err)
	}
	return toEvents(rows)
}

// CountAll counts, up to limit, the events ReadAll(from, f, limit) would
// return, without reading them, and gives the earliest time one of them
// was recorded (zero when there are none). Projections measure their lag
// with it.
func (s *Store) CountAll(ctx context.Context, from es.Position, f es.Filter, limit int) (int, time.Time, error) {
	txid, position := fromPosition(from)
	row, err := s.q.CountAll(ctx, db.CountAllParams{
		AfterTxid:     txid,
		AfterPosition: position,
		Categories:    nonNil(f.Categories),
		Types:         nonNil(f.Types),
		MaxCount:      clampLimit(limit),
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count all after %s: %w", from, err)
	}
	var oldest time.Time
	if row.Oldest.Valid {
		oldest = row.Oldest.Time
	}
	return int(row.Events), oldest, nil
}

// Head implements es.Store.
func (s *Store) Head(ctx context.Context) (es.Position, error) {
	row, err := s.q.Head(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		return es.Start, nil
	}
	if err != nil {
		return es.Start, fmt.Errorf("read head: %w", err)
	}
	return toPosition(row.Txid, row.Position), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// embedded unwraps sqlc's one-field row structs, which all hold a db.Event.
func embedded[R interface{ ~struct{ Event db.Event } }](rows []R, err error) ([]db.Event, error) {
	if err != nil {
		return nil, err
	}
	out := make([]db.Event, len(rows))
	for i, r := range rows {
		out[i] = struct{ Event db.Event }(r).Event
	}
	return out, nil
}

func toEvents(rows []db.Event) ([]es.Event, error) {
	out := make([]es.Event, len(rows))
	for i, r := range rows {
		var md es.Metadata
		if err := json.Unmarshal(r.Metadata, &md); err != nil {
			return nil, fmt.Errorf("event %d of %s: metadata: %w", r.Version, r.StreamID, err)
		}
		out[i] = es.Event{
			EventData: es.EventData{
				ID:       es.UUID(r.EventID.Bytes),
				Type:     r.Type,
				Data:     json.RawMessage(r.Data),
				Metadata: md,
			},
			StreamID:   r.StreamID,
			Version:    r.Version,
			Position:   toPosition(r.Txid, r.Position),
			RecordedAt: r.RecordedAt.Time.UTC(),
		}
	}
	return out, nil
}

// Settle waits until every transaction that committed before the call —
// on the whole PostgreSQL server, not only this store's — is below the line
// that ReadAll, Head and subscriptions read to, so that they return
// everything written so far. It is what a caller that has just appended and
// wants to read all events back needs; see docs/event-store.md for why the
// line exists. It returns ctx's error if a transaction started before the
// call stays open longer than ctx allows.
func (s *Store) Settle(ctx context.Context) error {
	next, err := s.q.NextTxid(ctx)
	if err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	wait := time.Millisecond
	for {
		line, err := s.q.VisibleBelow(ctx)
		if err != nil {
			return fmt.Errorf("settle: %w", err)
		}
		if line >= next {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("settle: transactions older than %d still open: %w", next, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}
