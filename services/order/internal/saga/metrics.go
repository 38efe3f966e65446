package saga

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/services/order"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// sagaMetrics count the sagas this process completed: the replica that
// records fulfilment.completed counts it, and a replayed event records
// nothing, so each saga counts once.
type sagaMetrics struct {
	outcomes *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// reasons are the cancellation reasons the outcome family labels; any
// other reason is counted as "other", so a label never takes a free value.
var reasons = []order.Reason{order.ReasonOutOfStock, order.ReasonPaymentDeclined, order.ReasonCustomerCancelled, order.ReasonPaymentTimeout}

var processMetrics = sync.OnceValue(func() *sagaMetrics { return newSagaMetrics(metrics.Registry()) })

func newSagaMetrics(reg prometheus.Registerer) *sagaMetrics {
	m := &sagaMetrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordo_saga_outcomes_total",
			Help: "Order-fulfilment sagas completed, by outcome (confirmed, cancelled) and cancellation reason.",
		}, []string{"outcome", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ordo_saga_duration_seconds",
			Help:    "Time from an order's placement to its saga's outcome, by outcome.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"outcome"}),
	}
	// Every series from the start, so rate() sees the first of each.
	m.outcomes.WithLabelValues(string(flow.Confirmed), "")
	m.duration.WithLabelValues(string(flow.Confirmed))
	m.duration.WithLabelValues(string(flow.Cancelled))
	for _, r := range reasons {
		m.outcomes.WithLabelValues(string(flow.Cancelled), string(r))
	}
	reg.MustRegister(m.outcomes, m.duration)
	return m
}

// observe counts the completions among events, the new events of one
// decision.
func (m *sagaMetrics) observe(events []any) {
	for _, ev := range events {
		if id, ok := ev.(es.Identified); ok {
			ev = id.Event
		}
		c, ok := ev.(flow.Completed)
		if !ok {
			continue
		}
		m.outcomes.WithLabelValues(string(c.Outcome), reasonLabel(c)).Inc()
		m.duration.WithLabelValues(string(c.Outcome)).Observe((time.Duration(c.DurationMS) * time.Millisecond).Seconds())
	}
}

func reasonLabel(c flow.Completed) string {
	if c.Outcome == flow.Confirmed {
		return ""
	}
	for _, r := range reasons {
		if c.Reason == string(r) {
			return c.Reason
		}
	}
	return "other"
}
