package providersim

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordo-platform/ordo/pkg/money"
)

// Faults are the simulator's knobs. Rates are probabilities from 0 to 1,
// rolled once per provider request (charge, refund, lookup).
type Faults struct {
	// DeclineRate is the share of new charges that are declined.
	DeclineRate float64 `json:"decline_rate"`
	// ErrorRate is the share of requests answered 500 or 503 without
	// charging or refunding anything.
	ErrorRate float64 `json:"error_rate"`
	// LatencyMS delays every provider answer by this many milliseconds.
	LatencyMS int `json:"latency_ms"`
	// LostResponseRate is the share of charges and refunds that are made
	// and whose answer is then lost: the connection hangs until the client
	// gives up, or is dropped.
	LostResponseRate float64 `json:"lost_response_rate"`
}

// MaxLatencyMS bounds Faults.LatencyMS.
const MaxLatencyMS = 60_000

// Validate checks the rates and the latency.
func (f Faults) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"decline_rate", f.DeclineRate}, {"error_rate", f.ErrorRate}, {"lost_response_rate", f.LostResponseRate}} {
		if !(r.v >= 0 && r.v <= 1) { // also rejects NaN
			return fmt.Errorf("%s is %v; it must be from 0 to 1", r.name, r.v)
		}
	}
	if f.LatencyMS < 0 || f.LatencyMS > MaxLatencyMS {
		return fmt.Errorf("latency_ms is %d; it must be from 0 to %d", f.LatencyMS, MaxLatencyMS)
	}
	return nil
}

// Options configure New.
type Options struct {
	// Seed seeds the fault dice: the same seed and the same sequence of
	// requests give the same faults.
	Seed uint64
	// Faults are the initial knobs (default: none).
	Faults Faults
	// MaxHang bounds how long a lost response keeps its connection hanging
	// when the client never gives up (default 30s).
	MaxHang time.Duration
}

// Sim is the simulator: ledger, knobs and dice. Its methods are safe for
// concurrent use.
type Sim struct {
	mu     sync.Mutex
	led    *ledger
	faults Faults
	rng    *rand.Rand

	maxHang  time.Duration
	requests atomic.Int64
	done     chan struct{}
	close    sync.Once
}

// New returns a simulator with an empty ledger.
func New(opts Options) (*Sim, error) {
	if err := opts.Faults.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxHang <= 0 {
		opts.MaxHang = 30 * time.Second
	}
	return &Sim{
		led:     newLedger(),
		faults:  opts.Faults,
		rng:     rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)), //nolint:gosec // G404: the simulator's fault dice must replay from a seed, not be unpredictable
		maxHang: opts.MaxHang,
		done:    make(chan struct{}),
	}, nil
}

// Faults returns the current knobs.
func (s *Sim) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetFaults replaces the knobs.
func (s *Sim) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	return nil
}

// Ledger returns every charge and refund, oldest first.
func (s *Sim) Ledger() Ledger {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.led.snapshot()
}

// Requests returns how many provider requests (charges, refunds, lookups)
// reached the simulator, so tests can see retries and an open breaker.
func (s *Sim) Requests() int64 { return s.requests.Load() }

// Close releases hanging lost responses (their connections are dropped) and
// makes delayed answers come at once, so a server can shut down promptly.
func (s *Sim) Close() {
	s.close.Do(func() { close(s.done) })
}

// dice is one request's roll. Every request draws the same number of
// values, so a seed reproduces the faults of a sequence of requests.
type dice struct {
	latency       time.Duration
	errStatus     int    // 0, 500 or 503
	declineReason string // "" captures
	lost          bool
	hang          bool // lost by hanging rather than by dropping the connection
}

var declineReasons = []string{"card_declined", "insufficient_funds", "do_not_honor"}

func (s *Sim) roll() dice {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	errRoll, status, decRoll, reason := s.rng.Float64(), s.rng.IntN(2), s.rng.Float64(), s.rng.IntN(len(declineReasons))
	lostRoll, hang := s.rng.Float64(), s.rng.IntN(2) == 0
	d := dice{latency: time.Duration(f.LatencyMS) * time.Millisecond, lost: lostRoll < f.LostResponseRate, hang: hang}
	if errRoll < f.ErrorRate {
		d.errStatus = []int{500, 503}[status]
	}
	if decRoll < f.DeclineRate {
		d.declineReason = declineReasons[reason]
	}
	return d
}

// delay waits out the latency. It ignores the client going away on purpose:
// a real provider keeps processing a request whose caller timed out, which is
// exactly how a charge lands after the client has given up.
func (s *Sim) delay(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
	}
}

// Charge charges amount under key (see the HTTP API): an existing charge of
// the key is returned as is (replayed), or mismatch when its amount differs.
func (s *Sim) charge(key string, amount money.Money, d dice) (Charge, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.led.charge(key, amount, time.Now().UTC(), func() string { return d.declineReason })
}

func (s *Sim) refund(key, chargeID string) (Refund, bool, refundError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.led.refund(key, chargeID, time.Now().UTC())
}

func (s *Sim) lookup(key string) (Charge, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.led.lookup(key)
}
