package es

import (
	"encoding/json"
	"strings"
	"time"
)

// Metadata travels with every event. Services set it from the request that
// caused the write; handlers copy it forward so a whole business transaction
// shares one correlation id and each event names its cause.
type Metadata struct {
	// CorrelationID ties together every event of one business transaction
	// (for an order: the order id).
	CorrelationID string `json:"correlation_id,omitempty"`
	// CausationID is the id of the event or request that caused this event.
	CausationID string `json:"causation_id,omitempty"`
	// TraceParent is the W3C traceparent of the request or event that caused
	// this one, so a trace can follow asynchronous hops.
	TraceParent string `json:"traceparent,omitempty"`
	// Actor is who asked for the change: a user name, or a service name for
	// automatic reactions.
	Actor string `json:"actor,omitempty"`
	// SchemaVersion is the version of the event body's schema.
	SchemaVersion int `json:"schema_version,omitempty"`
}

// EventData is an event to be appended.
type EventData struct {
	// ID identifies the event. Re-appending the same ids at the same expected
	// version succeeds without writing twice. A zero ID is replaced by a new
	// random one on append.
	ID UUID
	// Type is the stable, past-tense type name (order.placed).
	Type string
	// Data is the event body: a JSON value.
	Data json.RawMessage
	// Metadata says where the event came from.
	Metadata Metadata
}

// Event is an event as recorded in a stream.
type Event struct {
	EventData
	// StreamID is the stream the event belongs to.
	StreamID string
	// Version is the event's version within its stream, from 0.
	Version int64
	// Position is the event's place in the global order.
	Position Position
	// RecordedAt is when the store recorded the event (UTC).
	RecordedAt time.Time
}

// Category returns the category of a stream id: the part before the first '-',
// or the whole id when it has no '-'.
func Category(streamID string) string {
	if i := strings.IndexByte(streamID, '-'); i >= 0 {
		return streamID[:i]
	}
	return streamID
}

// StreamID joins a category and an id into a stream id.
func StreamID(category, id string) string { return category + "-" + id }
