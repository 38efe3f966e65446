package park

import (
	"context"
	"errors"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Status is where a parked event stands.
type Status string

// The statuses.
const (
	// Parked: the handler could not process the event; it waits for a replay.
	Parked Status = "parked"
	// Replayed: a replay through the handler succeeded.
	Replayed Status = "replayed"
)

// Entry is one parked event of one subscriber.
type Entry struct {
	// ID identifies the entry: derived from the subscriber and the event
	// id, so parking the same event again finds the same entry.
	ID         es.UUID     `json:"id"`
	Subscriber string      `json:"subscriber"`
	EventID    es.UUID     `json:"event_id"`
	Stream     string      `json:"stream"`
	Version    int64       `json:"version"`
	Position   es.Position `json:"position"`
	Type       string      `json:"type"`
	// Key is the group of events the subscriber handles in order (see
	// Subscriber.Key), or empty.
	Key string `json:"key,omitempty"`
	// Error is the last failure's text.
	Error string `json:"error"`
	// Attempts counts the handler runs that failed, replays included; 0
	// for an event parked behind an earlier one of its group.
	Attempts  int        `json:"attempts"`
	Status    Status     `json:"status"`
	ParkedAt  time.Time  `json:"parked_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	Replayed  *time.Time `json:"replayed_at,omitempty"`
}

// EntryID is the id of the entry of subscriber's event.
func EntryID(subscriber string, event es.UUID) es.UUID {
	return es.DerivedUUID(event, "ordo/park/"+subscriber)
}

// ErrNotFound means no entry has the id (in this service).
var ErrNotFound = errors.New("parked event not found")

// Query selects entries for List.
type Query struct {
	// Subscribers lists whose entries to return (required).
	Subscribers []string
	// Status keeps entries of one status; empty keeps all.
	Status Status
	// Key keeps entries of one group; empty keeps all.
	Key string
	// Limit bounds how many entries come back (0: no bound).
	Limit int
}

// Store keeps entries durably. NewPostgres and NewRedis make one; tests
// run the same contract against both.
type Store interface {
	// Park records e with status Parked. When e.ID is already recorded its
	// error, updated time and status are replaced and its attempts grow by
	// e.Attempts.
	Park(ctx context.Context, e Entry) error
	// Get returns the entry with id, or ErrNotFound.
	Get(ctx context.Context, id es.UUID) (Entry, error)
	// List returns the entries q selects, in global (position) order.
	List(ctx context.Context, q Query) ([]Entry, error)
	// Count returns how many entries of the subscribers have each status.
	Count(ctx context.Context, subscribers []string) (map[Status]int, error)
	// MarkReplayed moves a parked entry to Replayed at the given time. It
	// reports false, changing nothing, when the entry is not parked.
	MarkReplayed(ctx context.Context, id es.UUID, at time.Time) (bool, error)
}
