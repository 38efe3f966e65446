package load

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// timetable is the open model's clock: arrival i is due at start + i/rate,
// for the n arrivals due before start + length.
type timetable struct {
	start time.Time
	rate  float64
	n     int
}

func newTimetable(start time.Time, rate float64, length time.Duration) timetable {
	n := int(math.Ceil(rate * length.Seconds()))
	// An arrival due exactly at start+length belongs to the next window.
	for n > 0 && !start.Add(offset(n-1, rate)).Before(start.Add(length)) {
		n--
	}
	return timetable{start: start, rate: rate, n: n}
}

func offset(i int, rate float64) time.Duration {
	return time.Duration(float64(i) * float64(time.Second) / rate)
}

// due is when arrival i should start.
func (t timetable) due(i int) time.Time { return t.start.Add(offset(i, t.rate)) }

// scheduler fires the timetable's arrivals, each in a goroutine of its own,
// and never waits for an answer before firing the next: when it wakes late
// it fires every arrival already due at once (they will show as late), and
// when maxInFlight arrivals are still running it refuses the next one
// instead of waiting for a free slot, which would turn it into a closed
// loop.
type scheduler struct {
	maxInFlight int64
	inFlight    atomic.Int64
	peak        atomic.Int64
	wg          sync.WaitGroup
}

// arrival is one planned arrival: run is called in its goroutine with the
// time the goroutine began.
type arrival struct {
	kind Kind
	run  func(began time.Time)
}

// run plans arrival i in the calling goroutine (so that a seeded plan does
// not depend on goroutine timing), then fires it. refused hears of the
// arrivals not sent. It returns once every arrival was fired or refused, or
// ctx ended; wait then waits for the fired ones.
func (s *scheduler) run(ctx context.Context, tt timetable, plan func(i int, due time.Time) arrival, refused func(k Kind, due time.Time)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := 0; i < tt.n; {
		if wait := time.Until(tt.due(i)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		now := time.Now()
		for ; i < tt.n && !tt.due(i).After(now); i++ {
			due := tt.due(i)
			a := plan(i, due)
			if s.inFlight.Load() >= s.maxInFlight {
				refused(a.kind, due)
				continue
			}
			s.fire(a.run)
		}
	}
}

func (s *scheduler) fire(run func(time.Time)) {
	n := s.inFlight.Add(1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	s.wg.Go(func() {
		defer s.inFlight.Add(-1)
		run(time.Now())
	})
}

// wait waits for every fired arrival to finish.
func (s *scheduler) wait() { s.wg.Wait() }
