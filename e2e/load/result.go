package load

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is one phase's measurement.
type Result struct {
	Config      Config    // as run, defaults filled in
	Start       time.Time // due time of the first arrival (warm-up included)
	Interrupted bool      // the run's context ended early
	// Drained is how long after the last arrival the generator waited for
	// the window's orders (at most Config.Drain).
	Drained  time.Duration
	Kinds    []*KindStats // in report order, those that sent anything
	Reads    *KindStats   // the workload's reads together
	Schedule ScheduleStats
	Orders   OrderStats
	Status   StatusStats
	Seconds  []*Second
}

func (r *recorder) result(cfg Config, planned int64, sched *scheduler, drained time.Duration) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg.Progress = nil
	res := &Result{Config: cfg, Start: r.start, Drained: drained, Schedule: r.sched, Orders: r.orders,
		Status: r.status, Seconds: r.seconds, Reads: newKindStats("reads")}
	res.Schedule.Planned = planned
	res.Schedule.PeakFlight = sched.peak.Load()
	res.Schedule.MaxInFlight = cfg.MaxInFlight
	for _, k := range kindOrder {
		ks := r.kinds[k]
		if ks == nil {
			continue
		}
		res.Kinds = append(res.Kinds, ks)
		if k.isRead() {
			res.Reads.add(ks)
		}
	}
	return res
}

// PlacedPerSecond is the orders accepted in the window per second.
func (r *Result) PlacedPerSecond() float64 { return perSecond(r.Orders.Placed, r.Config.Duration) }

// ConfirmedPerSecond is the confirmations the store recorded during the
// window per second.
func (r *Result) ConfirmedPerSecond() float64 {
	return perSecond(r.Orders.ConfirmedInWindow, r.Config.Duration)
}

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Scheduled sums the requests of the arrivals (the generator's own polls
// and samples left out).
func (r *Result) Scheduled() *KindStats {
	all := newKindStats("all")
	for _, ks := range r.Kinds {
		if ks.Kind != KindWatch && ks.Kind != KindStatus {
			all.add(ks)
		}
	}
	return all
}

// Kind is the row of k, or nil.
func (r *Result) Kind(k Kind) *KindStats {
	for _, ks := range r.Kinds {
		if ks.Kind == k {
			return ks
		}
	}
	return nil
}

// q is the latency at percentile p (0..100) of h.
func q(h *hdr.Histogram, p float64) time.Duration {
	if h == nil || h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.ValueAtQuantile(p)) * time.Microsecond
}

func maxOf(h *hdr.Histogram) time.Duration {
	if h == nil || h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.Max()) * time.Microsecond
}
