package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordo-platform/ordo/pkg/projection"
)

// LagTimeout bounds how long one scrape waits for one projection's lag.
const LagTimeout = 2 * time.Second

// Lagger is what the projection families measure: *projection.Runner.
type Lagger interface {
	Name() string
	Lag(ctx context.Context) (projection.LagReport, error)
}

// Projections reports the lag of the projections it watches, measured when
// scraped (Runner.Lag reads the checkpoint from Redis and the pending events
// from the store, so it sees replicas in other processes too). A projection
// whose lag cannot be measured is left out of that scrape.
type Projections struct {
	events, seconds *prometheus.Desc

	mu      sync.Mutex
	watched map[string]Lagger
}

// NewProjections registers the projection families on reg.
func NewProjections(reg prometheus.Registerer) *Projections {
	p := &Projections{
		events: prometheus.NewDesc("ordo_projection_lag_events",
			"Events the projection has still to apply (counted up to 10000).", []string{"projection"}, nil),
		seconds: prometheus.NewDesc("ordo_projection_lag_seconds",
			"Age of the oldest event the projection has still to apply; 0 when caught up.", []string{"projection"}, nil),
		watched: map[string]Lagger{},
	}
	reg.MustRegister(p)
	return p
}

var processProjections = sync.OnceValue(func() *Projections { return NewProjections(Registry()) })

// WatchProjection reports r's lag on the process's registry until the
// returned func is called.
func WatchProjection(r Lagger) (unwatch func()) { return processProjections().Watch(r) }

// Watch reports r's lag, under r.Name(), until the returned func is called.
// A later Watch of the same name replaces r.
func (p *Projections) Watch(r Lagger) (unwatch func()) {
	name := r.Name()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.watched[name] = r
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.watched[name] == r {
			delete(p.watched, name)
		}
	}
}

// Describe implements prometheus.Collector.
func (p *Projections) Describe(ch chan<- *prometheus.Desc) {
	ch <- p.events
	ch <- p.seconds
}

// Collect implements prometheus.Collector.
func (p *Projections) Collect(ch chan<- prometheus.Metric) {
	for _, l := range p.measure(context.Background()) {
		if l.Error != "" {
			continue
		}
		ch <- prometheus.MustNewConstMetric(p.events, prometheus.GaugeValue, float64(l.Events), l.Name)
		ch <- prometheus.MustNewConstMetric(p.seconds, prometheus.GaugeValue, l.Seconds, l.Name)
	}
}

// ProjectionLag is one projection's lag as the admin API reports it.
type ProjectionLag struct {
	Name string `json:"-"`
	// Events the projection has still to apply, counted up to
	// projection.MaxLagCount.
	Events int `json:"events"`
	// Seconds is the age of the oldest of those events; 0 when caught up.
	Seconds    float64 `json:"seconds"`
	Checkpoint string  `json:"checkpoint,omitempty"`
	Head       string  `json:"head,omitempty"`
	// Error says why the lag could not be measured (the other fields are
	// then zero).
	Error string `json:"error,omitempty"`
}

// Report measures every watched projection, each within LagTimeout of ctx.
func (p *Projections) Report(ctx context.Context) []ProjectionLag { return p.measure(ctx) }

// measure reads each watched projection's lag, in name order.
func (p *Projections) measure(ctx context.Context) []ProjectionLag {
	p.mu.Lock()
	names := make([]string, 0, len(p.watched))
	for name := range p.watched {
		names = append(names, name)
	}
	slices.Sort(names)
	watched := make([]Lagger, len(names))
	for i, name := range names {
		watched[i] = p.watched[name]
	}
	p.mu.Unlock()
	out := make([]ProjectionLag, len(watched))
	for i, r := range watched {
		out[i] = ProjectionLag{Name: names[i]}
		lctx, cancel := context.WithTimeout(ctx, LagTimeout)
		lag, err := r.Lag(lctx)
		cancel()
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		out[i].Events, out[i].Checkpoint, out[i].Head = lag.Events, lag.Checkpoint.String(), lag.Head.String()
		if lag.Events > 0 && !lag.Oldest.IsZero() {
			out[i].Seconds = max(0, time.Since(lag.Oldest).Seconds())
		}
	}
	return out
}

// ProjectionsHandler answers with the lag of the process's watched
// projections as a JSON object keyed by projection name (the gateway's
// operator status gathers it from every service):
//
//	{"orders": {"events": 0, "seconds": 0, "checkpoint": "812.3", "head": "812.3"}, ...}
func ProjectionsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lags := processProjections().Report(r.Context())
		out := make(map[string]ProjectionLag, len(lags))
		for _, l := range lags {
			out[l.Name] = l
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}
