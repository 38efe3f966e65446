package es_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

// feed is the least of es.Store that Concurrent needs: Subscribe hands out
// a fixed list of events, then waits for ctx like a caught-up subscription.
type feed struct {
	es.Store
	events []es.Event
}

func (f feed) Subscribe(ctx context.Context, from es.Position, _ es.Filter, handle es.Handler) error {
	for _, e := range f.events {
		if !from.Less(e.Position) {
			continue
		}
		if err := handle(ctx, e); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

// memCheckpoints keeps checkpoints in memory and remembers every save.
type memCheckpoints struct {
	mu    sync.Mutex
	saved []es.Position
}

func (m *memCheckpoints) Load(context.Context, string) (es.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.saved) == 0 {
		return es.Start, nil
	}
	return m.saved[len(m.saved)-1], nil
}

func (m *memCheckpoints) Save(_ context.Context, _ string, p es.Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saved = append(m.saved, p)
	return nil
}

func (m *memCheckpoints) all() []es.Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]es.Position(nil), m.saved...)
}

// keyed makes n events at positions 1..n; event i belongs to key keys[i%len(keys)].
func keyed(n int, keys ...string) []es.Event {
	out := make([]es.Event, n)
	for i := range out {
		out[i] = es.Event{EventData: es.EventData{Type: "t", Data: []byte(`{}`)}, StreamID: "s-" + keys[i%len(keys)],
			Version: int64(i), Position: es.Position{Commit: uint64(i + 1)}} //nolint:gosec // small
	}
	return out
}

func byStream(e es.Event) string { return e.StreamID }

func TestConcurrentKeepsEachKeyInOrderAndOverlapsKeys(t *testing.T) {
	events := keyed(200, "a", "b", "c", "d", "e")
	cps := &memCheckpoints{}
	c := es.Concurrent{Name: "n", Checkpoints: cps, Key: byStream, Workers: 4, SaveEvery: time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	var mu sync.Mutex
	last := map[string]int64{}
	handled, inFlight, most := 0, 0, 0
	errc := make(chan error, 1)
	go func() {
		errc <- c.Run(ctx, feed{events: events}, es.Filter{}, func(_ context.Context, e es.Event) error {
			mu.Lock()
			if v, ok := last[e.StreamID]; ok && v >= e.Version {
				mu.Unlock()
				return fmt.Errorf("%s: version %d after %d", e.StreamID, e.Version, v)
			}
			last[e.StreamID] = e.Version
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			time.Sleep(100 * time.Microsecond) // give the other workers a chance to overlap
			mu.Lock()
			inFlight--
			handled++
			if handled == len(events) {
				cancel()
			}
			mu.Unlock()
			return nil
		})
	}()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if handled != len(events) {
		t.Fatalf("handled %d of %d events", handled, len(events))
	}
	if most < 2 {
		t.Errorf("at most %d events were handled at once; want overlap", most)
	}
	saved := cps.all()
	if len(saved) == 0 || saved[len(saved)-1] != events[len(events)-1].Position {
		t.Fatalf("checkpoints %v, want the last one at %s", saved, events[len(events)-1].Position)
	}
	for i := 1; i < len(saved); i++ {
		if saved[i].Less(saved[i-1]) {
			t.Fatalf("checkpoint went back from %s to %s", saved[i-1], saved[i])
		}
	}
}

func TestConcurrentCheckpointWaitsForEventsInFlight(t *testing.T) {
	events := keyed(40, "slow", "b", "c", "d")
	cps := &memCheckpoints{}
	c := es.Concurrent{Name: "n", Checkpoints: cps, Key: byStream, Workers: 4, SaveEvery: time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	release := make(chan struct{})
	othersDone := make(chan struct{})
	var mu sync.Mutex
	others := 0
	errc := make(chan error, 1)
	go func() {
		errc <- c.Run(ctx, feed{events: events}, es.Filter{}, func(ctx context.Context, e es.Event) error {
			if e.StreamID == "s-slow" {
				if e.Version == 4 { // the second "slow" event blocks
					select {
					case <-release:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			if others++; others == 30 {
				close(othersDone)
			}
			return nil
		})
	}()
	select {
	case <-othersDone:
	case err := <-errc:
		t.Fatalf("Run ended early: %v", err)
	}
	// Every event of the other keys is handled; event 4 (position 5) is
	// not, so the checkpoint stops at event 3 however long it waits.
	for !slices.Contains(cps.all(), events[3].Position) {
		select {
		case err := <-errc:
			t.Fatalf("Run ended early: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	time.Sleep(20 * time.Millisecond) // twenty more chances to save
	for _, p := range cps.all() {
		if !p.Less(events[4].Position) {
			t.Fatalf("checkpoint %s passed the event in flight at %s", p, events[4].Position)
		}
	}
	close(release)
	for !slices.Contains(cps.all(), events[len(events)-1].Position) {
		select {
		case err := <-errc:
			t.Fatalf("Run ended early: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
}

func TestConcurrentStopsAtAFailureWithTheCheckpointBeforeIt(t *testing.T) {
	events := keyed(20, "a")
	cps := &memCheckpoints{}
	boom := errors.New("boom")
	c := es.Concurrent{Name: "n", Checkpoints: cps, Key: byStream, Workers: 3}
	err := c.Run(t.Context(), feed{events: events}, es.Filter{}, func(_ context.Context, e es.Event) error {
		if e.Version == 7 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Run: %v, want %v", err, boom)
	}
	saved := cps.all()
	if len(saved) == 0 || saved[len(saved)-1] != events[6].Position {
		t.Fatalf("checkpoints %v, want the last at %s (the event before the failure)", saved, events[6].Position)
	}
	// A restart resumes from the checkpoint: the failed event comes again.
	var first es.Event
	ctx, cancel := context.WithCancel(t.Context())
	err = c.Run(ctx, feed{events: events}, es.Filter{}, func(_ context.Context, e es.Event) error {
		if first.Type == "" {
			first = e
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || first.Position != events[7].Position {
		t.Fatalf("restart: err %v, first event at %s, want %s", err, first.Position, events[7].Position)
	}
}
