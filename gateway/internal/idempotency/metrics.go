package idempotency

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordo-platform/ordo/pkg/metrics"
)

// replays counts answers sent again from a finished record.
var replays = sync.OnceValue(func() prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ordo_gateway_idempotency_replays_total",
		Help: "Answers replayed from an idempotency record (a retried request with a known Idempotency-Key).",
	})
	metrics.Registry().MustRegister(c)
	return c
})
