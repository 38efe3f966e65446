package load

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// histMax is the longest latency a histogram holds (µs); longer ones are
// recorded as histMax.
const histMax = int64(10 * time.Minute / time.Microsecond)

// newHist holds microseconds with digits significant decimal digits.
func newHist(digits int) *hdr.Histogram { return hdr.New(1, histMax, digits) }

func record(h *hdr.Histogram, d time.Duration) {
	_ = h.RecordValue(min(max(d.Microseconds(), 1), histMax))
}

// notSentError is the error kind of an arrival refused at the in-flight cap.
const notSentError = "not sent: in-flight cap"

// KindStats is one kind of request over the measured window (the
// generator's own kinds: over the whole run).
type KindStats struct {
	Kind  Kind
	Count int64 // requests, and arrivals of this kind not sent
	OK    int64
	// Errors counts the failures by kind ("HTTP 503 …", "timeout",
	// notSentError).
	Errors map[string]int64
	// Examples holds the first failure of each error kind, shortened.
	Examples map[string]string
	// Latency is µs from the due time to the end of the answer and Service
	// µs from the send to the end of the answer, of the 2xx answers.
	Latency, Service *hdr.Histogram
}

func newKindStats(k Kind) *KindStats {
	return &KindStats{Kind: k, Errors: map[string]int64{}, Examples: map[string]string{}, Latency: newHist(3), Service: newHist(3)}
}

// ErrorCount is the number of failed requests.
func (k *KindStats) ErrorCount() int64 { return k.Count - k.OK }

func (k *KindStats) add(o *KindStats) {
	k.Count += o.Count
	k.OK += o.OK
	for e, n := range o.Errors {
		k.Errors[e] += n
		if _, ok := k.Examples[e]; !ok {
			k.Examples[e] = o.Examples[e]
		}
	}
	k.Latency.Merge(o.Latency)
	k.Service.Merge(o.Service)
}

// Second is one second of the run, by due time, warm-up included.
type Second struct {
	Index                     int
	Warmup                    bool
	Sent, OK, Errors, NotSent int64
	Latency, Service          *hdr.Histogram // as in KindStats, of every scheduled request
	Placed                    int64          // orders accepted, by due time
	Confirmed, Cancelled      int64          // outcomes the store recorded in this second
	Confirm                   *hdr.Histogram // due → confirmed, of the orders due in this second
	Lag, Running              int64          // largest sample taken in this second; -1: none
}

func newSecond(i int, warm bool) *Second {
	return &Second{Index: i, Warmup: warm, Latency: newHist(2), Service: newHist(2), Confirm: newHist(2), Lag: -1, Running: -1}
}

// ScheduleStats says how well the generator kept its timetable in the
// measured window.
type ScheduleStats struct {
	Planned int64 // arrivals due in the window
	Started int64 // arrivals that ran
	Late    int64 // arrivals that began more than LateAfter after their due time
	NotSent int64 // arrivals refused at the in-flight cap
	// StartDelay is µs from due time to the start of the arrival's
	// goroutine: the generator's own lateness.
	StartDelay *hdr.Histogram
	// ConnWait is µs from the start of a request to its connection: time
	// spent in the generator's connection pool (and dialling).
	ConnWait    *hdr.Histogram
	PeakFlight  int64 // most requests in flight at once
	MaxInFlight int   // the cap
}

// OrderStats follows the orders placed in the measured window.
type OrderStats struct {
	Placed int64 // accepted (202)
	// Outcomes of those orders: "confirmed", "cancelled/<reason>", or
	// "unresolved" when still pending at the end of the drain.
	Outcomes map[string]int64
	// ConfirmedInWindow counts the confirmations the store recorded during
	// the window, of any order the generator placed (warm-up's too): the
	// confirmation throughput.
	ConfirmedInWindow int64
	// Confirm is µs from the due time of the placing arrival to the store's
	// order.confirmed; Observed to the poll that saw it.
	Confirm, Observed *hdr.Histogram
}

// recorder collects everything a phase measures.
type recorder struct {
	mu          sync.Mutex
	start       time.Time // due time of the first arrival
	from, to    time.Time // the measured window, by due time
	lateAfter   time.Duration
	kinds       map[Kind]*KindStats
	seconds     []*Second
	sched       ScheduleStats
	orders      OrderStats
	status      StatusStats
	recent      *hdr.Histogram // latencies since the last progress line
	recentSvc   *hdr.Histogram
	totals      progressTotals
	lastLag     int64
	lastRunning int64
}

// progressTotals are the running counts of the progress line, warm-up
// included.
type progressTotals struct {
	sent, ok, errors, placed, confirmed, cancelled int64
}

func newRecorder(start time.Time, warmup, duration, lateAfter time.Duration) *recorder {
	r := &recorder{start: start, from: start.Add(warmup), to: start.Add(warmup + duration), lateAfter: lateAfter,
		kinds: map[Kind]*KindStats{}, recent: newHist(3), recentSvc: newHist(3), lastLag: -1, lastRunning: -1}
	r.sched.StartDelay, r.sched.ConnWait = newHist(3), newHist(3)
	r.orders.Outcomes = map[string]int64{}
	r.orders.Confirm, r.orders.Observed = newHist(3), newHist(3)
	return r
}

func (r *recorder) measured(due time.Time) bool { return !due.Before(r.from) && due.Before(r.to) }

// second is the bucket of t, created on demand; nil before the start.
func (r *recorder) second(t time.Time) *Second {
	i := int(t.Sub(r.start) / time.Second)
	if t.Before(r.start) || i > 100_000 {
		return nil
	}
	for len(r.seconds) <= i {
		n := len(r.seconds)
		r.seconds = append(r.seconds, newSecond(n, r.start.Add(time.Duration(n)*time.Second).Before(r.from)))
	}
	return r.seconds[i]
}

func (r *recorder) kind(k Kind) *KindStats {
	ks := r.kinds[k]
	if ks == nil {
		ks = newKindStats(k)
		r.kinds[k] = ks
	}
	return ks
}

// began records that an arrival's goroutine started.
func (r *recorder) began(due, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.measured(due) {
		return
	}
	r.sched.Started++
	record(r.sched.StartDelay, at.Sub(due))
	if at.Sub(due) > r.lateAfter {
		r.sched.Late++
	}
}

// refused records an arrival the scheduler did not send.
func (r *recorder) refused(k Kind, due time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.totals.errors++
	if s := r.second(due); s != nil {
		s.NotSent++
		s.Errors++
	}
	if r.measured(due) {
		r.sched.NotSent++
		ks := r.kind(k)
		ks.Count++
		ks.Errors[notSentError]++
		ks.Examples[notSentError] = "the cap of requests in flight was reached"
	}
}

// request records one answer of an arrival due at arrival: it counts in
// the window and the second the arrival is due in, and its latency runs
// from due (the arrival's due time, or for a follow-up request the moment
// the request before it answered).
func (r *recorder) request(k Kind, arrival, due time.Time, a answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ok := a.ok()
	r.scheduledRequest(arrival, due, a, ok)
	if !r.measured(arrival) {
		return
	}
	record(r.sched.ConnWait, a.sent.Sub(a.start))
	r.count(k, due, a, ok)
}

// own records one of the generator's own requests (watch, status): they
// always count, only in their kind's row, from their start.
func (r *recorder) own(k Kind, a answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count(k, a.start, a, a.ok())
}

func (r *recorder) count(k Kind, due time.Time, a answer, ok bool) {
	ks := r.kind(k)
	ks.Count++
	if !ok {
		e := errorKind(a)
		ks.Errors[e]++
		if _, seen := ks.Examples[e]; !seen {
			ks.Examples[e] = describe(a)
		}
		return
	}
	ks.OK++
	record(ks.Latency, a.done.Sub(due))
	record(ks.Service, a.service())
}

func (r *recorder) scheduledRequest(arrival, due time.Time, a answer, ok bool) {
	r.totals.sent++
	s := r.second(arrival)
	if s != nil {
		s.Sent++
	}
	if !ok {
		r.totals.errors++
		if s != nil {
			s.Errors++
		}
		return
	}
	r.totals.ok++
	record(r.recent, a.done.Sub(due))
	record(r.recentSvc, a.service())
	if s != nil {
		s.OK++
		record(s.Latency, a.done.Sub(due))
		record(s.Service, a.service())
	}
}

// placed records an accepted order.
func (r *recorder) placed(due time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.totals.placed++
	if s := r.second(due); s != nil {
		s.Placed++
	}
	if r.measured(due) {
		r.orders.Placed++
	}
}

// outcome records an order's end: status and reason as the order list
// shows them, at the store's time of the event, observed by a poll.
func (r *recorder) outcome(due time.Time, status, reason string, at, observed time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	confirmed := status == "confirmed"
	if at.IsZero() || at.Before(due) || at.After(observed) {
		at = observed // a clock that disagrees: fall back to the poll's time
	}
	if s := r.second(at); s != nil {
		if confirmed {
			s.Confirmed++
		} else {
			s.Cancelled++
		}
	}
	if confirmed {
		r.totals.confirmed++
		if !at.Before(r.from) && at.Before(r.to) {
			r.orders.ConfirmedInWindow++
		}
		if s := r.second(due); s != nil {
			record(s.Confirm, at.Sub(due))
		}
	} else {
		r.totals.cancelled++
	}
	if !r.measured(due) {
		return
	}
	key := status
	if reason != "" {
		key += "/" + reason
	}
	r.orders.Outcomes[key]++
	if confirmed {
		record(r.orders.Confirm, at.Sub(due))
		record(r.orders.Observed, observed.Sub(due))
	}
}

// unresolved records orders of the window still pending at the end.
func (r *recorder) unresolved(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > 0 {
		r.orders.Outcomes["unresolved"] += int64(n)
	}
}
