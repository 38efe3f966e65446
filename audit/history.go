package audit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ordo-platform/ordo/pkg/es"

	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/payment"
)

// readBatch is how many events one ReadAll asks for.
const readBatch = 5_000

// history is the whole store, grouped by stream, each stream in version
// order (a gap or a duplicate is left in for the streams check to see).
type history struct {
	all     []es.Event
	streams map[string][]es.Event
}

// readHistory reads every event of the store in global order.
func readHistory(ctx context.Context, store es.Store) (history, error) {
	h := history{streams: map[string][]es.Event{}}
	from := es.Start
	for {
		batch, err := store.ReadAll(ctx, from, es.Filter{}, readBatch)
		if err != nil {
			return history{}, fmt.Errorf("read the store after %s: %w", from, err)
		}
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			h.streams[e.StreamID] = append(h.streams[e.StreamID], e)
		}
		h.all = append(h.all, batch...)
		from = batch[len(batch)-1].Position
	}
	for _, events := range h.streams {
		slices.SortStableFunc(events, func(a, b es.Event) int { return int(a.Version - b.Version) })
	}
	return h, nil
}

// checkComplete compares each stream's last version as ReadAll showed it
// with ReadStream's, which reads past the global read horizon. A stream
// that grew beyond it means a transaction (anywhere on the database server)
// holds readers back or writers are still busy: the history is not settled
// and the audit would judge a partial one.
func checkComplete(ctx context.Context, store es.Store, h history, f *findings) error {
	behind := 0
	var example string
	for _, stream := range slices.Sorted(maps.Keys(h.streams)) {
		last, err := store.ReadStream(ctx, stream, es.Backwards, es.End, 1)
		if err != nil {
			return fmt.Errorf("read the last event of %s: %w", stream, err)
		}
		seen := h.streams[stream]
		if len(last) == 1 && last[0].Version > seen[len(seen)-1].Version {
			if behind++; example == "" {
				example = fmt.Sprintf("%s is at version %d, the global read shows %d", stream, last[0].Version, seen[len(seen)-1].Version)
			}
		}
	}
	if behind > 0 {
		f.violate(CheckQuiet, "store", "not settled: %d stream(s) have events the global read cannot see yet (a long transaction or a busy writer): %s", behind, example)
	}
	return nil
}

// streamIDs returns the ids of the streams of one category, sorted.
func (h history) streamIDs(category string) []string {
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(h.streams)) {
		if es.Category(id) == category {
			ids = append(ids, id)
		}
	}
	return ids
}

// idOf returns the aggregate id of a stream: the part after the category.
func idOf(stream string) string {
	_, id, _ := strings.Cut(stream, "-")
	return id
}

// registry knows every event the audited domains publish. Other events
// (the saga's, future ones) are read for the streams check and otherwise
// passed over.
func registry() *es.Registry {
	r := es.NewRegistry()
	order.Register(r)
	inventory.Register(r)
	payment.Register(r)
	notify.Register(r)
	return r
}

// decoder decodes events and reports, once each, those that do not decode.
type decoder struct {
	reg   *es.Registry
	known map[string]bool
	f     *findings
}

func newDecoder(f *findings) decoder {
	reg := registry()
	known := map[string]bool{}
	for _, n := range reg.Names() {
		known[n] = true
	}
	return decoder{reg: reg, known: known, f: f}
}

// decode returns the event's Go value, or nil for an unknown type or a body
// that does not decode (a streams violation).
func (d decoder) decode(e es.Event) any {
	if !d.known[e.Type] {
		return nil
	}
	v, err := d.reg.Decode(e.Type, e.Data)
	if err != nil {
		d.f.violate(CheckStreams, e.StreamID, "event %s (version %d) does not decode: %v", e.ID, e.Version, err)
		return nil
	}
	return v
}
