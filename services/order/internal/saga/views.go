package saga

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// Entry is one event as the saga and timeline views show it.
type Entry struct {
	Position      string          `json:"position"`
	Stream        string          `json:"stream"`
	Type          string          `json:"type"`
	At            time.Time       `json:"at"`
	CorrelationID string          `json:"correlation_id"`
	CausationID   string          `json:"causation_id"`
	Data          json.RawMessage `json:"data"`
}

func entry(e es.Event) Entry {
	return Entry{Position: e.Position.String(), Stream: e.StreamID, Type: e.Type, At: e.RecordedAt,
		CorrelationID: e.Metadata.CorrelationID, CausationID: e.Metadata.CausationID, Data: e.Data}
}

// Progress is the saga of one order: where it stands and its steps.
type Progress struct {
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	// Status is running, confirmed or cancelled.
	Status string  `json:"status"`
	Reason string  `json:"reason,omitempty"`
	Steps  []Entry `json:"steps"`
}

// ErrNoSaga: no saga runs for the order (unknown order, or not yet seen).
var ErrNoSaga = errors.New("no saga for this order")

// Progress returns the order's saga, read from its stream (the event store
// is the saga's record, so the view is never behind its decisions).
func (r *Runner) Progress(ctx context.Context, orderID string) (Progress, error) {
	events, err := r.readStream(ctx, es.StreamID(flow.Category, orderID))
	if err != nil {
		return Progress{}, err
	}
	if len(events) == 0 {
		return Progress{}, ErrNoSaga
	}
	p := Progress{OrderID: orderID, Status: "running", Steps: make([]Entry, 0, len(events))}
	s := flow.Aggregate.Initial(orderID)
	reg := NewRegistry()
	for _, e := range events {
		p.Steps = append(p.Steps, entry(e))
		if v, err := reg.Decode(e.Type, e.Data); err == nil {
			s = flow.Aggregate.Apply(s, v)
		}
	}
	p.CustomerID = s.CustomerID
	if s.Completed {
		p.Status, p.Reason = string(s.Outcome), s.Reason
	}
	return p, nil
}

// Timeline returns every event of every service that belongs to the
// order, in global order: its order, saga, payment and notification
// streams, and the events of its SKUs' stock streams that name it.
func (r *Runner) Timeline(ctx context.Context, orderID string) ([]Entry, error) {
	streams := []string{es.StreamID(order.Category, orderID), es.StreamID(flow.Category, orderID), "payment-" + orderID,
		"notification-" + orderID + ":order_confirmed", "notification-" + orderID + ":order_cancelled",
		"notification-" + orderID + ":payment_refunded"}
	var all []es.Event
	var skus []string
	for i, stream := range streams {
		events, err := r.readStream(ctx, stream)
		if err != nil {
			return nil, err
		}
		if i == 0 && len(events) == 0 {
			return nil, ErrNoSaga
		}
		if i == 0 {
			var p order.Placed
			if err := json.Unmarshal(events[0].Data, &p); err == nil {
				for _, l := range p.Lines {
					skus = append(skus, l.SKU)
				}
			}
		}
		all = append(all, events...)
	}
	needle := []byte(fmt.Sprintf("%q", orderID))
	for _, sku := range skus {
		events, err := r.readStream(ctx, es.StreamID(inventory.StockCategory, sku))
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			if e.Metadata.CorrelationID == orderID || bytes.Contains(e.Data, needle) {
				all = append(all, e)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Position.Less(all[j].Position) })
	out := make([]Entry, len(all))
	for i, e := range all {
		out[i] = entry(e)
	}
	return out, nil
}

// readStream reads a whole stream; a missing stream is empty.
func (r *Runner) readStream(ctx context.Context, stream string) ([]es.Event, error) {
	var out []es.Event
	for from := int64(0); ; {
		batch, err := r.store.ReadStream(ctx, stream, es.Forwards, from, 500)
		if errors.Is(err, es.ErrStreamNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		out = append(out, batch...)
		if len(batch) < 500 {
			return out, nil
		}
		from = batch[len(batch)-1].Version + 1
	}
}

// Stats are the saga's outcomes: counts by outcome and reason, and the
// durations from placement to outcome.
type Stats struct {
	Started   int            `json:"started"`
	Running   int            `json:"running"`
	Completed int            `json:"completed"`
	Outcomes  map[string]int `json:"outcomes"`
	// DurationMS holds percentiles (p50, p90, p99, max) of completed sagas.
	DurationMS map[string]int64 `json:"duration_ms"`
}

// Stats computes the outcome counts and duration percentiles from the
// saga streams' started and completed events. The first call reads them
// all; later calls read only what was appended since the one before (the
// tally is kept in memory, by process), so an operator page or a load
// generator asking every second costs what the saga did meanwhile, not its
// whole history.
func (r *Runner) Stats(ctx context.Context) (Stats, error) {
	return r.tally.update(ctx, r.store)
}

// tally is Stats kept up to date: the counts and the sorted durations of
// the saga events read so far, and where the next read starts. One update
// runs at a time.
type tally struct {
	mu        sync.Mutex
	from      es.Position
	started   int
	outcomes  map[string]int
	durations []int64 // sorted
}

func (t *tally) update(ctx context.Context, store es.Store) (Stats, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.outcomes == nil {
		t.outcomes = map[string]int{}
	}
	filter := es.Filter{Categories: []string{flow.Category}, Types: []string{flow.TypeStarted, flow.TypeCompleted}}
	var fresh []int64
	for {
		batch, err := store.ReadAll(ctx, t.from, filter, 1000)
		if err != nil {
			t.keep(fresh) // counted up to t.from: the next call goes on from there
			return Stats{}, err
		}
		for _, e := range batch {
			t.from = e.Position
			if e.Type == flow.TypeStarted {
				t.started++
				continue
			}
			var c flow.Completed
			if err := json.Unmarshal(e.Data, &c); err != nil {
				continue
			}
			key := string(c.Outcome)
			if c.Reason != "" {
				key += ":" + c.Reason
			}
			t.outcomes[key]++
			fresh = append(fresh, c.DurationMS)
		}
		if len(batch) < 1000 {
			break
		}
	}
	t.keep(fresh)
	st := Stats{Started: t.started, Completed: len(t.durations), Outcomes: maps.Clone(t.outcomes), DurationMS: map[string]int64{}}
	st.Running = st.Started - st.Completed
	if n := len(t.durations); n > 0 {
		for name, q := range map[string]float64{"p50": 0.50, "p90": 0.90, "p99": 0.99} {
			st.DurationMS[name] = t.durations[min(n-1, int(q*float64(n)))]
		}
		st.DurationMS["max"] = t.durations[n-1]
	}
	return st, nil
}

// keep adds the durations of completions just counted.
func (t *tally) keep(fresh []int64) {
	if len(fresh) > 0 {
		slices.Sort(fresh)
		t.durations = mergeSorted(t.durations, fresh)
	}
}

// mergeSorted merges two sorted slices into a new sorted one.
func mergeSorted(a, b []int64) []int64 {
	out := make([]int64, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0] <= b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}
