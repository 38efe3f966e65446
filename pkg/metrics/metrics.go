// Package metrics is the Prometheus side of every ordo process: one registry
// per process, the HTTP request families recorded by an echo middleware, the
// GET /metrics handler, and the families of the shared building blocks (event
// store appends, projection lag). Families a single service owns (the saga's
// outcomes, the gateway's breakers and limits) live in that service and
// register with Registry.
//
// Every family is named ordo_* and its labels take few values: a route
// template, never a raw URL; a status code; a projection or upstream name.
// docs/observability.md lists them all, and a test keeps that list and the
// code in step.
//
// Each family is registered on first use, so a process exposes only what it
// runs: the gateway has no event store families, provider-sim only the HTTP
// ones. Tests that want their own numbers build a set on a registry of their
// own with NewHTTP, NewEventStore and NewProjections.
package metrics

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where every ordo process serves its metrics.
const Path = "/metrics"

var registry = sync.OnceValue(func() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
})

// Registry is the process's registry: the Go runtime and process
// collectors, and every ordo_ family the process has used.
func Registry() *prometheus.Registry { return registry() }

// Handler serves the process's registry in the Prometheus text format (or
// OpenMetrics when the scraper asks for it).
func Handler() http.Handler { return HandlerFor(Registry()) }

// HandlerFor serves g. A collector that fails is reported in the answer's
// body and the rest is still served.
func HandlerFor(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}
