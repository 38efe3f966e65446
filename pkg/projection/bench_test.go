package projection

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

// counter is a go-redis hook that counts what a client sends: round trips
// (a command or a pipeline) and commands (MULTI and EXEC included), by name.
type counter struct {
	mu    sync.Mutex
	trips int
	cmds  map[string]int
}

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd)
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.add(cmds...)
		return next(ctx, cmds)
	}
}

func (c *counter) add(cmds ...redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trips++
	for _, cmd := range cmds {
		c.cmds[strings.ToUpper(cmd.Name())]++
	}
}

// reset zeroes the counts and returns what they were.
func (c *counter) reset() (trips int, cmds map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	trips, cmds, c.trips, c.cmds = c.trips, c.cmds, 0, map[string]int{}
	return trips, cmds
}

// BenchmarkStep applies one event per iteration to a live key space with
// the sample projection (one read through Tx.Reader, three writes), as Run
// does for every event it receives, and reports the Redis round trips and
// commands each event costs.
func BenchmarkStep(b *testing.B) {
	rdb, prefix := testenv.Redis(b)
	r, err := New(nil, rdb, sample(), Options{Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.ensureSpace(ctx); err != nil {
		b.Fatal(err)
	}
	count := &counter{}
	rdb.AddHook(count)
	events := make([]es.Event, b.N)
	for i := range events {
		events[i] = itemEvent(i+1, fmt.Sprintf("item-%d", i%16))
	}
	count.reset()
	before := cpuTime(b)
	b.ResetTimer()
	for _, e := range events {
		if err := r.step(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/event")
	trips, cmds := count.reset()
	total := 0
	for _, n := range cmds {
		total += n
	}
	b.ReportMetric(float64(trips)/float64(b.N), "trips/event")
	b.ReportMetric(float64(total)/float64(b.N), "cmds/event")
	if b.N >= 100 {
		b.Logf("commands for %d events: %v", b.N, cmds)
	}
	sp, err := r.Keys(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if sum := rdb.Get(ctx, sp.Key("sum")).Val(); sum != fmt.Sprint(b.N) {
		b.Fatalf("sum = %s after %d events", sum, b.N)
	}
}

// cpuTime is the CPU time (user and system) the process has used: what a
// step costs the service, unlike ns/op, which is mostly waiting for Redis.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
