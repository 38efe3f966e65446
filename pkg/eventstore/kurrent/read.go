package kurrent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/ordo-platform/ordo/pkg/es"
)

// ReadStream reads one stream. A stream that never existed, was deleted or
// was tombstoned returns es.ErrStreamNotFound.
func (s *Store) ReadStream(ctx context.Context, stream string, dir es.Direction, from int64, limit int) ([]es.Event, error) {
	if err := validateRead(stream, dir, from, limit); err != nil {
		return nil, err
	}
	opts := esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(revisionOf(from))}
	if dir == es.Backwards {
		opts.Direction = esdb.Backwards
		if from == es.End {
			opts.From = esdb.End{}
		}
	}
	ctx, cli, end, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	got, err := s.readStream(ctx, cli, stream, opts, limit)
	if err == nil && len(got) == 0 && dir == es.Backwards && from != es.End {
		// Backwards from past the last event: the server's index may answer
		// with nothing rather than start at the end, so start at the end.
		opts.From = esdb.End{}
		got, err = s.readStream(ctx, cli, stream, opts, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("kurrent: read %s: %w", stream, err)
	}
	return got, nil
}

func validateRead(stream string, dir es.Direction, from int64, limit int) error {
	if err := es.ValidateStreamID(stream); err != nil {
		return err
	}
	switch {
	case dir != es.Forwards && dir != es.Backwards:
		return es.Invalidf("read %s: unknown direction %d", stream, dir)
	case from < 0 && (dir != es.Backwards || from != es.End):
		return es.Invalidf("read %s: from %d: want a version >= 0 (or es.End backwards)", stream, from)
	case limit <= 0:
		return es.Invalidf("read %s: limit %d: want at least 1", stream, limit)
	}
	return nil
}

// readStream reads up to limit events and maps the not-found answers.
func (s *Store) readStream(ctx context.Context, cli *esdb.Client, stream string, opts esdb.ReadStreamOptions, limit int) ([]es.Event, error) {
	rs, err := cli.ReadStream(ctx, stream, opts, count(limit))
	if err != nil {
		s.recover(cli, err)
		return nil, mapNotFound(err)
	}
	defer rs.Close()
	got, err := collect(rs, nil)
	if err != nil {
		return nil, mapNotFound(err)
	}
	return got, nil
}

// mapNotFound turns the server's "stream not found" (never written or soft
// deleted) and "stream deleted" (tombstoned) into es.ErrStreamNotFound.
func mapNotFound(err error) error {
	switch code(err) {
	case esdb.ErrorCodeResourceNotFound, esdb.ErrorCodeStreamDeleted:
		return fmt.Errorf("%w (%v)", es.ErrStreamNotFound, err)
	}
	return err
}

// collect drains a read. keep, when given, drops events it rejects.
func collect(rs *esdb.ReadStream, keep func(es.Event) bool) ([]es.Event, error) {
	var out []es.Event
	for {
		re, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if re.Event == nil {
			continue
		}
		e := toEvent(re.Event)
		if keep == nil || keep(e) {
			out = append(out, e)
		}
	}
}

// toEvent converts a recorded event. Metadata that is not ours (an event
// written by another tool) decodes as far as it matches and is otherwise
// left empty: a foreign event must not stop a reader.
func toEvent(r *esdb.RecordedEvent) es.Event {
	var md es.Metadata
	_ = json.Unmarshal(r.UserMetadata, &md)
	return es.Event{
		EventData: es.EventData{
			ID:       es.UUID(r.EventID),
			Type:     r.EventType,
			Data:     json.RawMessage(r.Data),
			Metadata: md,
		},
		StreamID:   r.StreamID,
		Version:    version(r.EventNumber),
		Position:   es.Position{Commit: r.Position.Commit, Prepare: r.Position.Prepare},
		RecordedAt: r.CreatedDate.UTC(),
	}
}

// isSystem reports whether e is one of the server's own events ($metadata,
// $statsCollected, $> links, ...), which PostgreSQL has no counterpart for.
func isSystem(e es.Event) bool { return strings.HasPrefix(e.Type, "$") }

// ReadAll reads $all after from (exclusive), skipping system events and
// events the filter rejects. The v4 client cannot send a filter with a read
// (only with a subscription), so the filter runs here, page by page.
func (s *Store) ReadAll(ctx context.Context, from es.Position, f es.Filter, limit int) ([]es.Event, error) {
	if limit <= 0 {
		return nil, es.Invalidf("read all: limit %d: want at least 1", limit)
	}
	ctx, cli, end, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	cur := newCursor(from)
	var out []es.Event
	for len(out) < limit {
		n := s.pageSize(f, limit-len(out))
		page, err := s.readAllPage(ctx, cli, cur.allPosition(), esdb.Forwards, n)
		if err != nil {
			return nil, fmt.Errorf("kurrent: read all after %s: %w", cur.pos, err)
		}
		for _, e := range page {
			if cur.take(e.Position) && !isSystem(e) && f.Matches(e) && len(out) < limit {
				out = append(out, e)
			}
		}
		if len(page) < n {
			break // the end of $all
		}
	}
	return out, nil
}

// pageSize asks for what is still wanted, plus one for the event at the
// cursor that the server reads again, when nothing is filtered out here
// except system events; a filtered read asks for a full page.
func (s *Store) pageSize(f es.Filter, want int) int {
	if len(f.Categories) > 0 || len(f.Types) > 0 {
		return s.opts.PageSize
	}
	return min(want+1, s.opts.PageSize)
}

// readAllPage reads raw $all records, system events included.
func (s *Store) readAllPage(ctx context.Context, cli *esdb.Client, from esdb.AllPosition, dir esdb.Direction, n int) ([]es.Event, error) {
	rs, err := cli.ReadAll(ctx, esdb.ReadAllOptions{Direction: dir, From: from}, count(n))
	if err != nil {
		s.recover(cli, err)
		return nil, err
	}
	defer rs.Close()
	page, err := collect(rs, nil)
	if err != nil {
		s.recover(cli, err)
	}
	return page, err
}

// Head returns the position of the last event that is not a system event,
// or es.Start when there is none.
func (s *Store) Head(ctx context.Context) (es.Position, error) {
	ctx, cli, end, err := s.begin(ctx)
	if err != nil {
		return es.Start, err
	}
	defer end()
	var from esdb.AllPosition = esdb.End{}
	const page = 100 // system events are usually few at the tail
	for {
		got, err := s.readAllPage(ctx, cli, from, esdb.Backwards, page)
		if err != nil {
			return es.Start, fmt.Errorf("kurrent: head: %w", err)
		}
		for _, e := range got {
			if !isSystem(e) {
				return e.Position, nil
			}
		}
		if len(got) < page {
			return es.Start, nil
		}
		// Reading backwards from a position returns what is before it.
		last := got[len(got)-1].Position
		from = esdb.Position{Commit: last.Commit, Prepare: last.Prepare}
	}
}

// Our versions are int64 from 0, the server's revisions uint64; KurrentDB
// keeps them below 2^63 (it uses int64 inside), and our inputs are checked
// to be >= 0 before they are converted.

func revisionOf(v int64) uint64 { return uint64(max(v, 0)) }

func count(n int) uint64 { return uint64(max(n, 0)) }

func version(r uint64) int64 { return int64(min(r, math.MaxInt64)) }

// cursor tracks the last $all position handed out or skipped, so reads and
// resubscriptions continue strictly after it.
type cursor struct {
	pos     es.Position
	started bool // false: before every event, nothing to skip yet
}

func newCursor(from es.Position) cursor { return cursor{pos: from, started: !from.IsZero()} }

// allPosition is where to ask the server to start.
func (c cursor) allPosition() esdb.AllPosition {
	if !c.started {
		return esdb.Start{}
	}
	return esdb.Position{Commit: c.pos.Commit, Prepare: c.pos.Prepare}
}

// take advances the cursor to p and reports whether p is new: the server
// reads $all from a position inclusively, and a resubscription may repeat
// what was already seen.
func (c *cursor) take(p es.Position) bool {
	if c.started && p.Compare(c.pos) <= 0 {
		return false
	}
	c.pos, c.started = p, true
	return true
}
