package metrics

import (
	"context"
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
	p.mu.Lock()
	names := make([]string, 0, len(p.watched))
	for name := range p.watched {
		names = append(names, name)
	}
	watched := make([]Lagger, len(names))
	slices.Sort(names)
	for i, name := range names {
		watched[i] = p.watched[name]
	}
	p.mu.Unlock()
	for i, r := range watched {
		ctx, cancel := context.WithTimeout(context.Background(), LagTimeout)
		lag, err := r.Lag(ctx)
		cancel()
		if err != nil {
			continue
		}
		age := 0.0
		if lag.Events > 0 && !lag.Oldest.IsZero() {
			age = max(0, time.Since(lag.Oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(p.events, prometheus.GaugeValue, float64(lag.Events), names[i])
		ch <- prometheus.MustNewConstMetric(p.seconds, prometheus.GaugeValue, age, names[i])
	}
}
