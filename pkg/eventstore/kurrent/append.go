package kurrent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Append writes events with the server's optimistic concurrency check.
//
// Re-sending the same event ids succeeds without writing twice when the
// expectation is NoStream or Exact: the server compares the ids with the
// events already after the expected revision, as the PostgreSQL backend
// does, and answers with where the originals landed. A batch that repeats
// only some of them is a *es.ConcurrencyError.
//
// The server does not refuse ids the stream already holds when the append
// lands at the end (Exact(v) with the stream at v): it writes them again.
// PostgreSQL refuses them, so before an Exact append this looks for the
// batch's ids among the stream's last Options.ReplayWindow events and
// answers a *es.ConcurrencyError when it finds one.
//
// With Any or StreamExists the server only recognises ids it still
// remembers (its idempotency window), so an old replay with Any writes the
// events again; PostgreSQL would not.
func (s *Store) Append(ctx context.Context, stream string, expected es.ExpectedVersion, events ...es.EventData) (es.AppendResult, error) {
	if err := es.ValidateAppend(stream, expected, events); err != nil {
		return es.AppendResult{}, err
	}
	data := make([]esdb.EventData, len(events))
	for i, e := range events {
		data[i] = toEventData(e)
	}
	ctx, cli, end, err := s.begin(ctx)
	if err != nil {
		return es.AppendResult{}, err
	}
	defer end()
	if expected.IsExact() && s.opts.ReplayWindow > 0 {
		if err := s.refuseReused(ctx, cli, stream, expected, events); err != nil {
			return es.AppendResult{}, err
		}
	}
	opts := esdb.AppendToStreamOptions{ExpectedRevision: revision(expected)}
	res, err := cli.AppendToStream(ctx, stream, opts, data...)
	if err != nil {
		s.recover(cli, err)
		return es.AppendResult{}, s.appendError(ctx, cli, stream, expected, err)
	}
	out := es.AppendResult{
		Version:  version(res.NextExpectedVersion),
		Position: es.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition},
	}
	if out.Position.IsZero() {
		// An idempotent replay on a server that does not say where the
		// original events landed (older versions do not): look it up.
		return s.lookup(ctx, cli, stream, out.Version)
	}
	return out, nil
}

// revision maps our expectation to the client's.
func revision(e es.ExpectedVersion) esdb.ExpectedRevision {
	switch {
	case e.IsNoStream():
		return esdb.NoStream{}
	case e.IsStreamExists():
		return esdb.StreamExists{}
	case e.IsExact():
		return esdb.Revision(revisionOf(e.Version()))
	}
	return esdb.Any{}
}

// toEventData carries our event as it is: our id (so the server can spot a
// replay), our type, the JSON body and our metadata as JSON user metadata.
func toEventData(e es.EventData) esdb.EventData {
	md, _ := json.Marshal(e.Metadata) // ValidateAppend marshalled it already
	return esdb.EventData{
		EventID:     uuid.UUID(e.ID),
		EventType:   e.Type,
		ContentType: esdb.ContentTypeJson,
		Data:        e.Data,
		Metadata:    md,
	}
}

// refuseReused fails an Exact append that would land at the end of the
// stream with ids the stream already holds. Whether the append lands at the
// end is known from the same read; otherwise the server decides (a replay of
// the events after the expectation, or a conflict).
func (s *Store) refuseReused(ctx context.Context, cli *esdb.Client, stream string, expected es.ExpectedVersion, events []es.EventData) error {
	tail, err := s.readStream(ctx, cli, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, s.opts.ReplayWindow)
	switch {
	case errors.Is(err, es.ErrStreamNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("kurrent: append to %s: check for replayed ids: %w", stream, err)
	case len(tail) == 0 || tail[0].Version != expected.Version():
		return nil
	}
	batch := make(map[es.UUID]bool, len(events))
	for _, e := range events {
		batch[e.ID] = true
	}
	for _, e := range tail {
		if batch[e.ID] {
			return &es.ConcurrencyError{Stream: stream, Expected: expected, Actual: tail[0].Version}
		}
	}
	return nil
}

// lookup returns where event version of stream sits.
func (s *Store) lookup(ctx context.Context, cli *esdb.Client, stream string, version int64) (es.AppendResult, error) {
	got, err := s.readStream(ctx, cli, stream, esdb.ReadStreamOptions{From: esdb.Revision(revisionOf(version))}, 1)
	if err != nil {
		return es.AppendResult{}, fmt.Errorf("kurrent: append to %s: find replayed version %d: %w", stream, version, err)
	}
	if len(got) == 0 {
		return es.AppendResult{}, fmt.Errorf("kurrent: append to %s: replayed version %d is gone", stream, version)
	}
	return es.AppendResult{Version: version, Position: got[0].Position}, nil
}

// gotRevision reads the current revision out of the client's
// wrong-expected-version message, the only place the client keeps it:
// "expecting '...' but got 'no_stream'" or "... but got '7'".
var gotRevision = regexp.MustCompile(`but got '([^']*)'`)

// appendError maps the client's errors. A wrong expected version becomes a
// *es.ConcurrencyError with the stream's actual version (-1: no stream).
func (s *Store) appendError(ctx context.Context, cli *esdb.Client, stream string, expected es.ExpectedVersion, err error) error {
	if code(err) != esdb.ErrorCodeWrongExpectedVersion {
		return fmt.Errorf("kurrent: append to %s: %w", stream, err)
	}
	ce := &es.ConcurrencyError{Stream: stream, Expected: expected, Actual: -1}
	if m := gotRevision.FindStringSubmatch(err.Error()); m != nil {
		if m[1] == "no_stream" {
			return ce
		}
		if v, perr := strconv.ParseInt(m[1], 10, 64); perr == nil {
			ce.Actual = v
			return ce
		}
	}
	// The message changed shape: ask the stream itself.
	last, rerr := s.readStream(ctx, cli, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if rerr == nil && len(last) == 1 {
		ce.Actual = last[0].Version
	} else if rerr != nil && !errors.Is(rerr, es.ErrStreamNotFound) {
		return fmt.Errorf("kurrent: append to %s: %w (and reading its version: %v)", stream, ce, rerr)
	}
	return ce
}
