package projection

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
)

// readLoad is 4 goroutines reading the model through the current key space
// until stopped, counting reads that failed and reads that saw fewer streams
// than before the rebuild (or than the same reader saw earlier).
type readLoad struct {
	reads, failed, shrunk atomic.Int64
	stop                  chan struct{}
	wg                    sync.WaitGroup
}

func startReads(r *Runner, rdb *redis.Client, floor int64) *readLoad {
	l := &readLoad{stop: make(chan struct{})}
	for range 4 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			seen := floor
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				n, err := readStreams(r, rdb)
				l.reads.Add(1)
				switch {
				case err != nil:
					l.failed.Add(1)
				case n < seen:
					l.shrunk.Add(1)
				default:
					seen = n
				}
			}
		}()
	}
	return l
}

func readStreams(r *Runner, rdb *redis.Client) (int64, error) {
	ctx := context.Background()
	sp, err := r.Keys(ctx)
	if err != nil {
		return 0, err
	}
	return rdb.SCard(ctx, sp.Key("streams")).Result()
}

func (l *readLoad) halt() { close(l.stop); l.wg.Wait() }

// appendWhile appends events to new item streams until stop is closed.
func appendWhile(s es.Store, stop <-chan struct{}) <-chan error {
	done := make(chan error, 1)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			data := json.RawMessage(`{"n":1}`)
			if _, err := s.Append(context.Background(), fmt.Sprintf("item-new%d", i), es.Any, es.EventData{Type: "thing.happened", Data: data}); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

func TestRebuildUnderReadLoad(t *testing.T) {
	s := newStore(t)
	r, rdb := newRunner(t, s, Options{RetireAfter: 300 * time.Millisecond, BatchSize: 50})
	var last es.Position
	for i := range 300 {
		last = add(t, s, fmt.Sprintf("item-%d", i%150), i)
	}
	stop := start(t, r)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	catchUp(t, r, last)
	old := current(t, r)
	floor, err := readStreams(r, rdb)
	if err != nil || floor != 150 {
		t.Fatalf("streams before rebuild = %d, %v; want 150", floor, err)
	}

	load := startReads(r, rdb, floor)
	stopAppends := make(chan struct{})
	appendErr := appendWhile(s, stopAppends)
	err = r.Rebuild(context.Background())
	close(stopAppends)
	if err := <-appendErr; err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	catchUp(t, r, add(t, s, "item-last", 1))
	r.Close() // waits until the old space is deleted, readers still running
	load.halt()

	t.Logf("%d reads during the rebuild", load.reads.Load())
	if load.failed.Load() != 0 || load.shrunk.Load() != 0 || load.reads.Load() == 0 {
		t.Fatalf("reads: %d failed, %d saw fewer streams, of %d", load.failed.Load(), load.shrunk.Load(), load.reads.Load())
	}
	checkSwitched(t, r, rdb, s, old)
}

// checkSwitched checks that the pointer moved off old, that the new space
// holds the whole model, and that old was deleted.
func checkSwitched(t *testing.T, r *Runner, rdb *redis.Client, s es.Store, old Space) {
	t.Helper()
	sp := current(t, r)
	if sp.ID() == old.ID() {
		t.Fatalf("current space is still %s after Rebuild", old.ID())
	}
	if diff := cmp.Diff(expected(t, s), dump(t, rdb, sp)); diff != "" {
		t.Fatalf("rebuilt model (-want +got):\n%s", diff)
	}
	if left, err := rdb.Keys(context.Background(), escapeGlob(old.Key())+"*").Result(); err != nil || len(left) != 0 {
		t.Fatalf("old space %s still has keys %v (%v)", old.ID(), left, err)
	}
}

// TestRebuildSwitchRace makes the live Runner apply an event between the
// switch's checkpoint comparison and its EXEC. The switch must abort and
// retry; a switch that went through would lose that event, which the live
// Runner applied to the old space only.
func TestRebuildSwitchRace(t *testing.T) {
	s := newStore(t)
	r, rdb := newRunner(t, s, Options{RetireAfter: time.Millisecond})
	last := add(t, s, "item-1", 1)
	var once sync.Once
	r.hook = func(stage string, _ es.Event) error {
		if stage == "switching" {
			once.Do(func() { last = add(t, s, "item-2", 2); catchUp(t, r, last) })
		}
		return nil
	}
	stop := start(t, r)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	catchUp(t, r, last)
	old := current(t, r)
	if err := r.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	catchUp(t, r, last)
	r.Close()
	checkSwitched(t, r, rdb, s, old)
}
