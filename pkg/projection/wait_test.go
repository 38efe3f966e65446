package projection

import (
	"context"
	"errors"
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
