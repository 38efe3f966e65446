package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Parked counts the events a process's subscribers parked (see pkg/park).
type Parked struct {
	parked *prometheus.CounterVec
}

// NewParked registers the parked events family on reg.
func NewParked(reg prometheus.Registerer) *Parked {
	m := &Parked{parked: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ordo_parked_events_total",
		Help: "Events a subscriber could not process and parked for an operator to replay, by subscriber.",
	}, []string{"subscriber"})}
	reg.MustRegister(m.parked)
	return m
}

// Observe counts one parked event of subscriber.
func (m *Parked) Observe(subscriber string) { m.parked.WithLabelValues(subscriber).Inc() }

var processParked = sync.OnceValue(func() *Parked { return NewParked(Registry()) })

// ParkObserver registers the parked events family on the process's
// registry, so it is scraped (empty) from the start, and returns the
// function that counts one parked event: park.Options.OnPark's subscriber.
func ParkObserver() func(subscriber string) { return processParked().Observe }
