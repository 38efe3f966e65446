package upstream

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/ordo-platform/ordo/pkg/metrics"
)

// breakerStates reports every breaker's state when scraped, so a breaker
// whose open period has passed shows half-open without waiting for a call.
// A breaker made later under the same backend name replaces the earlier one
// (tests make many); a disabled breaker has no state to report.
type breakerStates struct {
	desc *prometheus.Desc

	mu     sync.Mutex
	byName map[string]*Breaker
}

var (
	states = &breakerStates{
		desc: prometheus.NewDesc("ordo_gateway_breaker_state",
			"The circuit breaker in front of each upstream: 0 closed, 1 half-open, 2 open.", []string{"upstream"}, nil),
		byName: map[string]*Breaker{},
	}
	transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ordo_gateway_breaker_transitions_total",
		Help: "State changes of the circuit breaker in front of each upstream, by the state entered.",
	}, []string{"upstream", "to"})
	registerBreakerMetrics = sync.OnceFunc(func() { metrics.Registry().MustRegister(states, transitions) })
)

// watch reports b's state and transitions under name.
func (s *breakerStates) watch(name string, b *Breaker) {
	registerBreakerMetrics()
	for _, to := range []gobreaker.State{gobreaker.StateOpen, gobreaker.StateHalfOpen, gobreaker.StateClosed} {
		transitions.WithLabelValues(name, to.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byName[name] = b
}

// Describe implements prometheus.Collector.
func (s *breakerStates) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector.
func (s *breakerStates) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	names := make([]string, 0, len(s.byName))
	for name := range s.byName {
		names = append(names, name)
	}
	slices.Sort(names)
	breakers := make([]*Breaker, len(names))
	for i, name := range names {
		breakers[i] = s.byName[name]
	}
	s.mu.Unlock()
	for i, b := range breakers {
		if b.off {
			continue
		}
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, stateValue(b.cb.State()), names[i])
	}
}

// stateValue is a state as the gauge shows it: the more open, the higher.
func stateValue(s gobreaker.State) float64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}
