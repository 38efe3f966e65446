package projection

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/es"
)

var errCrash = errors.New("simulated crash")

// crashOnce makes the step fail at stage on its nth call there: "applied"
// drops the queued writes before EXEC; "committed" fails after EXEC, so the
// event is stored but the Runner dies before going on.
func crashOnce(stage string, nth int) func(string, es.Event) error {
	calls := 0
	return func(s string, _ es.Event) error {
		if s != stage {
			return nil
		}
		if calls++; calls == nth {
			return errCrash
		}
		return nil
	}
}

// TestCrashAtRandomPoints interrupts the Runner 120 times, at a random event
// and a random point of the atomic step or by cancelling its context at a
// random moment, restarts it, and checks after every restart that the model
// equals a from-zero fold of the store. At the end it also compares with a
// real Rebuild.
func TestCrashAtRandomPoints(t *testing.T) {
	s := newStore(t)
	r, rdb := newRunner(t, s, Options{RetireAfter: time.Millisecond})
	rng := rand.New(rand.NewPCG(1, 2))
	crashed := map[string]int{}
	var last es.Position
	for round := range 120 {
		m := 1 + rng.IntN(4)
		for range m {
			last = add(t, s, fmt.Sprintf("item-%d", rng.IntN(10)), rng.IntN(100))
		}
		crashed[crash(t, r, rng, m)]++

		r.hook = nil
		stop := start(t, r)
		catchUp(t, r, last)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(expected(t, s), dump(t, rdb, current(t, r))); diff != "" {
			t.Fatalf("round %d: model after crash and restart (-rebuild from zero +got):\n%s", round, diff)
		}
	}
	t.Logf("interruptions by kind: %v", crashed)
	for _, kind := range []string{"applied", "committed"} {
		if crashed[kind] < 20 {
			t.Errorf("only %d crashes at %q; the test did not exercise that point", crashed[kind], kind)
		}
	}
	rebuildMatches(t, r, s)
}

// crash runs r until it is interrupted in one of three ways, chosen at
// random, and returns which way it was.
func crash(t *testing.T, r *Runner, rng *rand.Rand, pending int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kind := []string{"applied", "committed", "cancel"}[rng.IntN(3)]
	r.hook = nil
	if kind == "cancel" {
		time.AfterFunc(time.Duration(rng.IntN(3000))*time.Microsecond, cancel)
	} else {
		r.hook = crashOnce(kind, 1+rng.IntN(pending))
	}
	err := r.Run(ctx)
	switch {
	case kind == "cancel" && errors.Is(err, context.Canceled):
	case kind != "cancel" && errors.Is(err, errCrash):
	default:
		t.Fatalf("%s crash: Run returned %v", kind, err)
	}
	return kind
}

// rebuildMatches rebuilds r from zero and checks the result against the
// model r had built incrementally.
func rebuildMatches(t *testing.T, r *Runner, s es.Store) {
	t.Helper()
	before := dump(t, r.rdb, current(t, r))
	if err := r.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, dump(t, r.rdb, current(t, r))); diff != "" {
		t.Fatalf("incremental model (-) differs from a rebuild (+):\n%s", diff)
	}
}
