package upstream

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerOptions tune a backend's breaker.
type BreakerOptions struct {
	// Failures in a row that open the breaker (default 5).
	Failures uint32
	// OpenFor is how long it stays open before one probe (default 5s).
	OpenFor time.Duration
	// Interval clears the counts while closed (default 60s).
	Interval time.Duration
	// Disabled sends every call straight through: no counting, never open
	// (the gateway's --breakers=false, for benchmarks). State reports
	// "disabled".
	Disabled bool
}

// maxTransitions is how many recent state changes Status reports.
const maxTransitions = 10

// Breaker wraps gobreaker and remembers its transitions for the admin view.
type Breaker struct {
	cb  *gobreaker.CircuitBreaker[*Response]
	off bool

	mu          sync.Mutex
	transitions []Transition
	total       int
}

// Transition is one state change.
type Transition struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	At   time.Time `json:"at"`
}

// BreakerStatus is what /api/v1/admin/status shows per breaker.
type BreakerStatus struct {
	State  string `json:"state"`
	Counts struct {
		Requests             uint32 `json:"requests"`
		TotalSuccesses       uint32 `json:"total_successes"`
		TotalFailures        uint32 `json:"total_failures"`
		ConsecutiveSuccesses uint32 `json:"consecutive_successes"`
		ConsecutiveFailures  uint32 `json:"consecutive_failures"`
	} `json:"counts"`
	TransitionCount int          `json:"transition_count"`
	Transitions     []Transition `json:"transitions"`
}

func newBreaker(name string, o BreakerOptions) *Breaker {
	if o.Failures == 0 {
		o.Failures = 5
	}
	if o.OpenFor <= 0 {
		o.OpenFor = 5 * time.Second
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	b := &Breaker{off: o.Disabled}
	b.cb = gobreaker.NewCircuitBreaker[*Response](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Interval:    o.Interval,
		Timeout:     o.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= o.Failures },
		// A caller that hung up says nothing about the backend.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			transitions.WithLabelValues(name, to.String()).Inc()
			b.record(from, to)
		},
	})
	states.watch(name, b)
	return b
}

func (b *Breaker) record(from, to gobreaker.State) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total++
	b.transitions = append(b.transitions, Transition{From: from.String(), To: to.String(), At: time.Now().UTC()})
	if len(b.transitions) > maxTransitions {
		b.transitions = b.transitions[len(b.transitions)-maxTransitions:]
	}
}

// StateDisabled is the state of a breaker turned off by BreakerOptions.Disabled.
const StateDisabled = "disabled"

// State is the breaker's state: closed, half-open, open or disabled.
func (b *Breaker) State() string {
	if b.off {
		return StateDisabled
	}
	return b.cb.State().String()
}

// execute runs call through the breaker, or directly when it is disabled.
func (b *Breaker) execute(call func() (*Response, error)) (*Response, error) {
	if b.off {
		return call()
	}
	return b.cb.Execute(call)
}

// Status is a snapshot for the admin view.
func (b *Breaker) Status() BreakerStatus {
	var s BreakerStatus
	s.State = b.State()
	c := b.cb.Counts()
	s.Counts.Requests, s.Counts.TotalSuccesses, s.Counts.TotalFailures = c.Requests, c.TotalSuccesses, c.TotalFailures
	s.Counts.ConsecutiveSuccesses, s.Counts.ConsecutiveFailures = c.ConsecutiveSuccesses, c.ConsecutiveFailures
	b.mu.Lock()
	defer b.mu.Unlock()
	s.TransitionCount = b.total
	s.Transitions = append([]Transition{}, b.transitions...)
	return s
}
