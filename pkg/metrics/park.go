package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Parked counts the events a process's subscribers parked (see pkg/park).
// Which subscriber parked what is in each service's /admin/parked.
type Parked struct {
	parked prometheus.Counter
}

// NewParked registers the parked events family on reg.
func NewParked(reg prometheus.Registerer) *Parked {
	m := &Parked{parked: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ordo_parked_events_total",
		Help: "Events this process's subscribers could not process and parked for an operator to replay.",
	})}
	reg.MustRegister(m.parked)
	return m
}

// Observe counts one parked event.
func (m *Parked) Observe() { m.parked.Inc() }

var processParked = sync.OnceValue(func() *Parked { return NewParked(Registry()) })

// ParkObserver registers the parked events family on the process's
// registry, so it is scraped (at zero) from the start, and returns the
// function that counts one parked event.
func ParkObserver() func() { return processParked().Observe }
