package projection

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

func TestWaitFor(t *testing.T) {
	s := newStore(t)
	r, _ := newRunner(t, s, Options{})
	pos := add(t, s, "item-1", 1)

	// Nothing runs the projection: the wait must end at the deadline with
	// a typed error.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	err := r.WaitFor(ctx, pos)
	cancel()
	if !errors.Is(err, ErrNotCaughtUp) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor with no runner = %v, want ErrNotCaughtUp and DeadlineExceeded", err)
	}

	stop := start(t, r)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, pos); err != nil {
		t.Fatalf("WaitFor with a runner: %v", err)
	}
	if got := r.Checkpoint(); got.Less(pos) {
		t.Fatalf("WaitFor returned with Checkpoint() = %s < %s", got, pos)
	}

	// A write the projection does not read (another category) never moves
	// its checkpoint; waiting for it must still end once it is visible.
	noise := add(t, s, "noise-1", 1)
	if err := r.WaitFor(ctx, noise); err != nil {
		t.Fatalf("WaitFor a filtered-out event: %v", err)
	}
}

func TestLag(t *testing.T) {
	s := newStore(t)
	r, _ := newRunner(t, s, Options{})
	ctx := context.Background()
	for i := range 5 {
		add(t, s, "item-1", i)
	}
	head := add(t, s, "noise-1", 0)
	visible(t, s, head)

	lag, err := r.Lag(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if lag.Events != 5 || lag.Head != head || !lag.Checkpoint.IsZero() {
		t.Fatalf("Lag before running = %+v, want 5 events, head %s, checkpoint Start", lag, head)
	}
	first, err := s.ReadStream(ctx, "item-1", es.Forwards, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !lag.Oldest.Equal(first[0].RecordedAt) {
		t.Fatalf("Lag before running: oldest %v, want the first pending event's %v", lag.Oldest, first[0].RecordedAt)
	}

	stop := start(t, r)
	catchUp(t, r, head)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if lag, err = r.Lag(ctx); err != nil {
		t.Fatal(err)
	}
	if lag.Events != 0 || lag.Checkpoint != r.Checkpoint() || lag.Head != head || !lag.Oldest.IsZero() {
		t.Fatalf("Lag when caught up = %+v, want 0 events at checkpoint %s, head %s", lag, r.Checkpoint(), head)
	}

	visible(t, s, add(t, s, "item-2", 1))
	if lag, err = r.Lag(ctx); err != nil || lag.Events != 1 {
		t.Fatalf("Lag after one more event = %+v, %v; want 1 event", lag, err)
	}
}

// headCounter counts the store's Head calls made through it: WaitFor's
// full looks (the subscription reads the store underneath).
type headCounter struct {
	es.Store
	heads atomic.Int64
}

func (c *headCounter) Head(ctx context.Context) (es.Position, error) {
	c.heads.Add(1)
	return c.Store.Head(ctx)
}

// TestWaitForCostsLittle: many callers wait while the projection applies
// events one by one. They look at the store on their own clocks, not on
// every event applied, and share their looks: at most one per PollInterval
// in the process, however many wait (before, every waiter looked on every
// event: about waiters × events).
func TestWaitForCostsLittle(t *testing.T) {
	s := newStore(t)
	counted := &headCounter{Store: s}
	r, _ := newRunner(t, counted, Options{})
	stop := start(t, r)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	head := add(t, s, "item-0", 0)
	catchUp(t, r, head)

	// A position some transactions ahead: reached after at most that many
	// appends (other tests' transactions only bring it closer).
	const ahead = 100
	target := es.Position{Commit: head.Commit + ahead}
	const waiters = 50
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before := counted.heads.Load()
	begin := time.Now()
	errs := make(chan error, waiters)
	for range waiters {
		go func() { errs <- r.WaitFor(ctx, target) }()
	}
	events := 0
	for r.Checkpoint().Less(target) && ctx.Err() == nil {
		add(t, s, "item-1", events)
		events++
		time.Sleep(time.Millisecond)
	}
	for range waiters {
		if err := <-errs; err != nil {
			t.Fatalf("WaitFor(%s): %v", target, err)
		}
	}
	elapsed := time.Since(begin)
	looks := counted.heads.Load() - before
	// One look per PollInterval at most, whoever asks.
	bound := 2 + int64(elapsed/r.opts.PollInterval)
	t.Logf("%d waiters, %d events in %v: %d looks at the store's head (bound %d; looking on every event would be about %d)",
		waiters, events, elapsed.Round(time.Millisecond), looks, bound, waiters*events)
	if looks > bound {
		t.Fatalf("%d waiters made %d looks at the head while %d events were applied in %v, want at most %d",
			waiters, looks, events, elapsed, bound)
	}
}
