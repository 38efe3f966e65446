package load

import (
	"bytes"
	"context"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTimetable(t *testing.T) {
	start := time.Unix(1000, 0)
	for _, tc := range []struct {
		rate   float64
		length time.Duration
		n      int
	}{{10, time.Second, 10}, {3, time.Second, 3}, {2.5, 2 * time.Second, 5}, {100, 1500 * time.Millisecond, 150}, {1, 500 * time.Millisecond, 1}} {
		tt := newTimetable(start, tc.rate, tc.length)
		if tt.n != tc.n {
			t.Errorf("rate %g for %v: %d arrivals, want %d", tc.rate, tc.length, tt.n, tc.n)
		}
		if tt.n > 0 && !tt.due(tt.n-1).Before(start.Add(tc.length)) {
			t.Errorf("rate %g: last arrival at %v, not before the end", tc.rate, tt.due(tt.n-1).Sub(start))
		}
	}
	tt := newTimetable(start, 4, time.Second)
	if got := tt.due(3).Sub(tt.due(2)); got != 250*time.Millisecond {
		t.Errorf("spacing at 4/s: %v", got)
	}
}

// TestSchedulerDoesNotWaitForAnswers: with every answer held back, the
// scheduler still fires the arrivals it can and refuses the rest at the
// cap instead of waiting for a free slot as a closed loop would.
func TestSchedulerDoesNotWaitForAnswers(t *testing.T) {
	release := make(chan struct{})
	var fired, refused atomic.Int64
	s := &scheduler{maxInFlight: 3}
	tt := newTimetable(time.Now(), 200, 100*time.Millisecond) // 20 arrivals
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.run(t.Context(), tt, func(int, time.Time) arrival {
			return arrival{kind: KindCatalog, run: func(time.Time) { fired.Add(1); <-release }}
		}, func(Kind, time.Time) { refused.Add(1) })
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the scheduler waited for answers that never came")
	}
	close(release)
	s.wait()
	if fired.Load() != 3 || refused.Load() != 17 || s.peak.Load() != 3 {
		t.Fatalf("fired %d, refused %d, peak %d; want 3, 17, 3", fired.Load(), refused.Load(), s.peak.Load())
	}
}

// TestSchedulerFiresOverdueArrivalsAndCountsThemLate: a timetable that
// began a second ago is behind from the start; the overdue arrivals are
// all sent at once and the recorder counts them as late, not as on time.
func TestSchedulerFiresOverdueArrivalsAndCountsThemLate(t *testing.T) {
	start := time.Now().Add(-time.Second)
	rec := newRecorder(start, 0, 2*time.Second, 10*time.Millisecond)
	s := &scheduler{maxInFlight: 1000}
	var mu sync.Mutex
	order := []int{}
	s.run(t.Context(), newTimetable(start, 50, 1200*time.Millisecond), func(i int, due time.Time) arrival {
		return arrival{kind: KindCatalog, run: func(began time.Time) {
			rec.began(due, began)
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}}
	}, rec.refused)
	s.wait()
	if len(order) != 60 {
		t.Fatalf("%d arrivals ran, want 60", len(order))
	}
	if rec.sched.Started != 60 || rec.sched.Late < 45 {
		t.Fatalf("started %d, late %d: the ~50 overdue arrivals must count as late", rec.sched.Started, rec.sched.Late)
	}
}

func quickConfig(g *testGateway, w Workload) Config {
	return Config{GatewayURL: g.URL, Workload: w, Rate: 100, Duration: time.Second, Customers: 4,
		Logins: []string{"alice", "bob"}, Seed: 7, Drain: 20 * time.Second, StatusInterval: -1, Timeout: time.Minute}
}

// TestRunCountsQueueingFromTheDueTime sends 100 reads in one second over a
// single connection to a gateway that takes 30 ms for each: they queue in
// the connection pool. The service time stays near 30 ms; the latency from
// the due time must include the queueing (the last read waits about two
// seconds), which a closed loop measuring from the send would omit.
func TestRunCountsQueueingFromTheDueTime(t *testing.T) {
	g := newTestGateway(t, 30*time.Millisecond, 0)
	cfg := quickConfig(g, BrowseHeavy)
	cfg.MaxConns = 1
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	reads := res.Reads
	if res.Schedule.Planned != 100 || res.Schedule.Started != 100 || res.Schedule.NotSent != 0 || reads.OK != 100 {
		t.Fatalf("planned %d, started %d, not sent %d, reads ok %d (errors %v); want 100 each and none refused",
			res.Schedule.Planned, res.Schedule.Started, res.Schedule.NotSent, reads.OK, reads.Errors)
	}
	for _, ks := range res.Kinds {
		for _, p := range []float64{50, 99, 100} {
			if lat, svc := q(ks.Latency, p), q(ks.Service, p); lat < svc {
				t.Errorf("%s p%g: latency %v below service time %v", ks.Kind, p, lat, svc)
			}
		}
	}
	// Serialised, the last read ends after the 100 service times (each at
	// least 30 ms) less the one second the arrivals were spread over.
	maxLat, svc99 := maxOf(reads.Latency), q(reads.Service, 99)
	if svc99 < 30*time.Millisecond || maxLat < 2*svc99 || maxLat < 1500*time.Millisecond {
		t.Fatalf("max latency %v, service p99 %v: the queueing does not show", maxLat, svc99)
	}
	if q(res.Schedule.ConnWait, 99) < time.Second {
		t.Errorf("connection wait p99 %v: the pool's queue does not show", q(res.Schedule.ConnWait, 99))
	}
}

// TestRunFollowsOrdersToTheirOutcome places orders that the gateway
// confirms 200 ms later and checks what the run makes of them.
func TestRunFollowsOrdersToTheirOutcome(t *testing.T) {
	g := newTestGateway(t, 0, 200*time.Millisecond)
	cfg := quickConfig(g, CheckoutHeavy)
	cfg.Rate, cfg.Warmup, cfg.Duration, cfg.Restock = 20, 500*time.Millisecond, time.Second, 50
	cfg.StatusInterval, cfg.WatchInterval = 100*time.Millisecond, 50*time.Millisecond
	var progressOut bytes.Buffer
	cfg.Progress = &syncWriter{w: &progressOut}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := res.Orders
	if o.Placed != 20 || o.Outcomes["confirmed"] != 20 || len(o.Outcomes) != 1 {
		t.Fatalf("placed %d, outcomes %v; want 20 placed and confirmed", o.Placed, o.Outcomes)
	}
	if p50 := q(o.Confirm, 50); p50 < 200*time.Millisecond {
		t.Errorf("place → confirmed p50 %v, below the 200 ms the gateway takes", p50)
	}
	if q(o.Observed, 50) < q(o.Confirm, 50) {
		t.Errorf("seen confirmed (p50 %v) before confirmed (p50 %v)", q(o.Observed, 50), q(o.Confirm, 50))
	}
	if own := res.Kind(KindOwn); own == nil || own.OK != 20 {
		t.Fatalf("read-your-writes reads: %+v", own)
	}
	if res.ConfirmedPerSecond() <= 0 || res.PlacedPerSecond() != 20 {
		t.Errorf("placed %.1f/s, confirmed %.1f/s", res.PlacedPerSecond(), res.ConfirmedPerSecond())
	}
	g.mu.Lock()
	restocks := g.restocks
	g.mu.Unlock()
	if restocks != 3 {
		t.Errorf("%d restocks, want one per SKU (3)", restocks)
	}
	if st := res.Status; st.LagSamples == 0 || st.LagMax != 3 || st.RunningMax != 2 {
		t.Errorf("status samples: %+v; want lag 3 and 2 sagas running", st)
	}
	if !regexp.MustCompile(`(?m)^checkout-heavy (warm-up|measure|drain) +\d+s: sent \d+ ok \d+ err \d+ \| p99 `).MatchString(progressOut.String()) {
		t.Errorf("progress:\n%s", progressOut.String())
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no gateway":    {Workload: Mixed, Rate: 1, Duration: time.Second},
		"bad workload":  {GatewayURL: "http://127.0.0.1:1", Workload: "heavy", Rate: 1, Duration: time.Second},
		"zero rate":     {GatewayURL: "http://127.0.0.1:1", Workload: Mixed, Duration: time.Second},
		"no duration":   {GatewayURL: "http://127.0.0.1:1", Workload: Mixed, Rate: 1},
		"too many runs": {GatewayURL: "http://127.0.0.1:1", Workload: Mixed, Rate: 100_000, Duration: time.Hour},
	} {
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// syncWriter lets the progress goroutine and the test share a buffer.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
