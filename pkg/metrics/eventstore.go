package metrics

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordo-platform/ordo/pkg/es"
)

// The kinds of a failed append, as the append errors family labels them.
const (
	AppendConflict = "conflict" // the stream was not at the expected version
	AppendInvalid  = "invalid"  // the store rejected the input
	AppendOther    = "other"    // anything else: the database, a deadline
)

// EventStore records the appends of an event store.
type EventStore struct {
	appends  prometheus.Counter
	events   prometheus.Counter
	errors   *prometheus.CounterVec
	duration prometheus.Histogram
}

// NewEventStore registers the event store families on reg.
func NewEventStore(reg prometheus.Registerer) *EventStore {
	m := &EventStore{
		appends: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ordo_eventstore_appends_total",
			Help: "Appends to the event store (one per batch), successful or not.",
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ordo_eventstore_events_appended_total",
			Help: "Events in successful appends.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordo_eventstore_append_errors_total",
			Help: "Failed appends by kind: conflict (wrong expected version), invalid, other.",
		}, []string{"kind"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ordo_eventstore_append_duration_seconds",
			Help:    "Time one append took, successful or not.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	for _, k := range []string{AppendConflict, AppendInvalid, AppendOther} {
		m.errors.WithLabelValues(k) // a series from the start, so rate() sees the first error
	}
	reg.MustRegister(m.appends, m.events, m.errors, m.duration)
	return m
}

var processEventStore = sync.OnceValue(func() *EventStore { return NewEventStore(Registry()) })

// ObserveAppend records one append on the process's registry. Its
// signature is the event store's append observer.
func ObserveAppend(events int, took time.Duration, err error) {
	processEventStore().ObserveAppend(events, took, err)
}

// ObserveAppend records one append of events that took took and failed
// with err (nil: it succeeded).
func (m *EventStore) ObserveAppend(events int, took time.Duration, err error) {
	m.appends.Inc()
	m.duration.Observe(took.Seconds())
	if err != nil {
		m.errors.WithLabelValues(AppendErrorKind(err)).Inc()
		return
	}
	m.events.Add(float64(events))
}

// AppendErrorKind classifies a failed append.
func AppendErrorKind(err error) string {
	switch {
	case errors.Is(err, es.ErrConcurrency):
		return AppendConflict
	case errors.Is(err, es.ErrInvalid):
		return AppendInvalid
	}
	return AppendOther
}
