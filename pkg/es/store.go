package es

import (
	"context"
	"encoding/json"
	"strings"
	"unicode"
)

// Store is the contract every event store backend keeps. The conformance
// suite in package eventstore/storetest checks it.
type Store interface {
	// Append writes events to the end of a stream if the stream matches
	// expected. The batch is atomic. A mismatch returns a *ConcurrencyError
	// and writes nothing. Re-appending events whose ids are already the
	// stream's next events after expected succeeds without writing again and
	// returns the original result.
	Append(ctx context.Context, stream string, expected ExpectedVersion, events ...EventData) (AppendResult, error)

	// ReadStream reads up to limit events of one stream starting at version
	// from (inclusive), forwards or backwards. Backwards from End starts at the
	// last event. A stream with no events returns ErrStreamNotFound.
	ReadStream(ctx context.Context, stream string, dir Direction, from int64, limit int) ([]Event, error)

	// ReadAll reads up to limit events after position from (exclusive), in
	// global order, keeping those the filter matches. It never returns an
	// event while an earlier one may still commit.
	ReadAll(ctx context.Context, from Position, filter Filter, limit int) ([]Event, error)

	// Subscribe delivers every event after from that the filter matches, in
	// global order, to handle: first the ones already stored (catch-up), then
	// new ones as they commit (live). It returns when ctx ends (with ctx's
	// error) or when handle returns an error (with that error, wrapped).
	Subscribe(ctx context.Context, from Position, filter Filter, handle Handler) error

	// Head returns the position of the last event a reader can see, or Start
	// when the store is empty.
	Head(ctx context.Context) (Position, error)
}

// Handler receives subscribed events one at a time.
type Handler func(ctx context.Context, e Event) error

// AppendResult says where an append's last event landed.
type AppendResult struct {
	// Version is the stream version of the last event appended.
	Version int64
	// Position is the global position of the last event appended.
	Position Position
}

// Direction of a stream read.
type Direction int8

const (
	// Forwards reads from older to newer events.
	Forwards Direction = iota + 1
	// Backwards reads from newer to older events.
	Backwards
)

// End, as ReadStream's from with Backwards, means "the last event".
const End int64 = -1

// Filter selects events in ReadAll and Subscribe. An empty filter matches
// every event; otherwise an event must match one of the categories (when any
// are given) and one of the types (when any are given).
type Filter struct {
	Categories []string
	Types      []string
}

// Matches reports whether e passes the filter.
func (f Filter) Matches(e Event) bool {
	return matchesAny(f.Categories, Category(e.StreamID)) && matchesAny(f.Types, e.Type)
}

func matchesAny(set []string, v string) bool {
	if len(set) == 0 {
		return true
	}
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// Limits bound what a store accepts. Backends check appends with
// ValidateAppend before touching storage.
const (
	// MaxStreamIDLength is the longest stream id accepted, in bytes.
	MaxStreamIDLength = 200
	// MaxTypeLength is the longest event type name accepted, in bytes.
	MaxTypeLength = 200
	// MaxEventSize is the largest event body plus metadata accepted, in bytes.
	MaxEventSize = 1 << 20
	// MaxBatch is the most events one append may carry.
	MaxBatch = 10_000
)

// ValidateStreamID checks a stream id: non-empty, at most MaxStreamIDLength
// bytes, no white space or control characters.
func ValidateStreamID(stream string) error {
	switch {
	case stream == "":
		return invalidf("stream id is empty")
	case len(stream) > MaxStreamIDLength:
		return invalidf("stream id is %d bytes; the limit is %d", len(stream), MaxStreamIDLength)
	case strings.IndexFunc(stream, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return invalidf("stream id %q contains white space or a control character", stream)
	}
	return nil
}

// ValidateAppend checks an append's input and fills in zero event ids. It
// returns an InvalidError naming the first problem found.
func ValidateAppend(stream string, expected ExpectedVersion, events []EventData) error {
	if err := ValidateStreamID(stream); err != nil {
		return err
	}
	if err := expected.Validate(); err != nil {
		return err
	}
	if len(events) == 0 {
		return invalidf("append to %s: no events", stream)
	}
	if len(events) > MaxBatch {
		return invalidf("append to %s: %d events; the limit is %d per append", stream, len(events), MaxBatch)
	}
	seen := make(map[UUID]struct{}, len(events))
	for i := range events {
		if err := validateEvent(&events[i], seen); err != nil {
			return invalidf("append to %s: event %d: %v", stream, i, err)
		}
	}
	return nil
}

func validateEvent(e *EventData, seen map[UUID]struct{}) error {
	if e.ID.IsZero() {
		e.ID = NewUUID()
	}
	if _, dup := seen[e.ID]; dup {
		return invalidf("id %s appears twice in one append", e.ID)
	}
	seen[e.ID] = struct{}{}
	switch {
	case e.Type == "":
		return invalidf("type is empty")
	case len(e.Type) > MaxTypeLength:
		return invalidf("type is %d bytes; the limit is %d", len(e.Type), MaxTypeLength)
	case e.Data == nil:
		return invalidf("data is nil; an event body must be a JSON value")
	case !json.Valid(e.Data):
		return invalidf("data is not valid JSON")
	}
	md, err := json.Marshal(e.Metadata)
	if err != nil {
		return invalidf("metadata: %v", err)
	}
	if size := len(e.Data) + len(md); size > MaxEventSize {
		return invalidf("event is %d bytes with metadata; the limit is %d", size, MaxEventSize)
	}
	return nil
}
