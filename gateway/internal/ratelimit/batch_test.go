package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/testenv"
)

// Many concurrent decisions on one key share round trips, and the limit is
// exactly what it is one request at a time: a burst of 50 at a rate that
// restores nothing during the test admits exactly 50 of 400.
func TestConcurrentDecisionsShareRoundTripsAndKeepTheLimit(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := New(rdb, prefix)
	p := Policy{Name: "burst", Rate: 0.001, Burst: 50}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 400 {
		wg.Go(func() {
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := l.Allow(ctx, p, "caller")
			if err != nil {
				t.Error(err)
				return
			}
			if res.Allowed {
				admitted.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := admitted.Load(); got != 50 {
		t.Errorf("admitted %d of 400 with a burst of 50", got)
	}
	l.b.mu.Lock()
	pipelines, decisions, inflight := l.b.pipelines, l.b.decisions, l.b.inflight
	l.b.mu.Unlock()
	t.Logf("%d decisions in %d pipelines", decisions, pipelines)
	if decisions != 400 || pipelines >= decisions {
		t.Errorf("%d decisions in %d pipelines: want 400 sharing fewer round trips", decisions, pipelines)
	}
	if inflight != 0 {
		t.Errorf("%d pipelines still counted in flight after every decision returned", inflight)
	}
}

// The script is loaded again when Redis forgot it (restart, SCRIPT FLUSH).
func TestScriptReloadedAfterFlush(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := New(rdb, prefix)
	ctx := context.Background()
	p := Policy{Name: "flush", Rate: 100, Burst: 10}
	for i := range 3 {
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if res, err := l.Allow(ctx, p, "k"); err != nil || !res.Allowed {
			t.Fatalf("call %d after SCRIPT FLUSH: %+v, %v", i, res, err)
		}
	}
}

// A caller whose deadline passes while its decision waits gets the
// deadline's error, and the others are not cut short.
func TestExpiredCallerDoesNotCutOthersShort(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := New(rdb, prefix)
	p := Policy{Name: "ctx", Rate: 1000, Burst: 1000}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Allow(gone, p, "k"); err == nil {
		t.Error("a cancelled caller got a decision")
	}
	if res, err := l.Allow(context.Background(), p, "k"); err != nil || !res.Allowed {
		t.Fatalf("next caller: %+v, %v", res, err)
	}
}

// BenchmarkAllow compares a decision per round trip (the script run on its
// own, as before batching) with batched decisions, and with a policy whose
// burst is large enough for leases, at the gateway's usual concurrency:
// go test -run '^$' -bench Allow -cpu 2 ./gateway/internal/ratelimit/
func BenchmarkAllow(b *testing.B) {
	rdb, prefix := testenv.Redis(b)
	small := Policy{Name: "bench", Rate: 1e9, Burst: minLeaseBurst - 1} // every decision in Redis
	large := Policy{Name: "bench", Rate: 1e9, Burst: 1 << 30}
	iv, capacity := large.micros()
	b.Run("alone", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if err := gcra.Run(ctx, rdb, []string{prefix + "alone"}, iv, capacity, 1, 0).Err(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	for name, p := range map[string]Policy{"batched": small, "leased": large} {
		b.Run(name, func(b *testing.B) {
			l := New(rdb, prefix)
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if _, err := l.Allow(ctx, p, name); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
