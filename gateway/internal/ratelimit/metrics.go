package ratelimit

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordo-platform/ordo/pkg/metrics"
)

// rejections counts the 429s each policy answered.
var rejections = sync.OnceValue(func() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ordo_gateway_ratelimit_rejections_total",
		Help: "Requests refused with 429 because a rate-limit policy was exhausted, by policy.",
	}, []string{"policy"})
	metrics.Registry().MustRegister(c)
	return c
})
