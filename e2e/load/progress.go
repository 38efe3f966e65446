package load

import (
	"context"
	"fmt"
	"time"
)

// snapshot is what one progress line shows.
type snapshot struct {
	totals       progressTotals
	p99, svcP99  time.Duration
	lag, running int64
}

// progressSnapshot reads the running totals and the p99s of the answers
// since the last call.
func (r *recorder) progressSnapshot() snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := snapshot{totals: r.totals, lag: r.lastLag, running: r.lastRunning,
		p99:    time.Duration(r.recent.ValueAtQuantile(99)) * time.Microsecond,
		svcP99: time.Duration(r.recentSvc.ValueAtQuantile(99)) * time.Microsecond}
	r.recent.Reset()
	r.recentSvc.Reset()
	return s
}

// progress writes one line a second to cfg.Progress until ctx ends.
func progress(ctx context.Context, cfg Config, rec *recorder, sched *scheduler) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		stage := "measure"
		switch {
		case now.Before(rec.from):
			stage = "warm-up"
		case !now.Before(rec.to):
			stage = "drain"
		}
		s := rec.progressSnapshot()
		t := s.totals
		_, _ = fmt.Fprintf(cfg.Progress, "%s %s %4.0fs: sent %d ok %d err %d | p99 %s (service %s) | in flight %d | placed %d confirmed %d cancelled %d | lag %s | sagas running %s\n",
			cfg.Label, stage, now.Sub(rec.start).Seconds(), t.sent, t.ok, t.errors, fmtDur(s.p99), fmtDur(s.svcP99),
			sched.inFlight.Load(), t.placed, t.confirmed, t.cancelled, orNA(s.lag), orNA(s.running))
	}
}

func orNA(n int64) string {
	if n < 0 {
		return "n/a"
	}
	return fmt.Sprint(n)
}

// fmtDur is a latency for people: 0.84 ms, 12.3 ms, 1.25 s.
func fmtDur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d <= 0:
		return "-"
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.2f s", ms/1000)
}
