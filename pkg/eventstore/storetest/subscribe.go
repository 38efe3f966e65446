package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

// subscriber collects what a subscription delivers.
type subscriber struct {
	mu     sync.Mutex
	events []es.Event
	cancel context.CancelFunc
	done   chan error
}

func subscribe(t *testing.T, s es.Store, from es.Position, f es.Filter) *subscriber {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub := &subscriber{cancel: cancel, done: make(chan error, 1)}
	go func() {
		sub.done <- s.Subscribe(ctx, from, f, func(_ context.Context, e es.Event) error {
			sub.mu.Lock()
			sub.events = append(sub.events, e)
			sub.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(sub.stop)
	return sub
}

func (sub *subscriber) stop() {
	sub.cancel()
	err := <-sub.done
	sub.done <- err // let a second stop return too
}

func (sub *subscriber) snapshot() []es.Event {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return append([]es.Event(nil), sub.events...)
}

// waitFor waits until the subscriber has at least n events.
func (sub *subscriber) waitFor(t *testing.T, n int, within time.Duration) []es.Event {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := sub.snapshot()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber has %d events after %s, want %d", len(got), within, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testSubscribe(t *testing.T, h Harness) {
	s := h.New(t)
	cat := category(t)
	for i := 0; i < 20; i++ {
		mustAppend(t, s, fmt.Sprintf("%s-%d", cat, i%3), es.Any, ev("x.happened", i))
	}
	sub := subscribe(t, s, es.Start, es.Filter{Categories: []string{cat}})
	sub.waitFor(t, 20, 10*time.Second)
	for i := 20; i < 40; i++ { // live
		mustAppend(t, s, fmt.Sprintf("%s-%d", cat, i%3), es.Any, ev("x.happened", i))
	}
	sub.waitFor(t, 40, 10*time.Second)
	time.Sleep(50 * time.Millisecond) // anything extra would show up now
	got := sub.snapshot()
	if len(got) != 40 {
		t.Fatalf("subscriber got %d events, want 40", len(got))
	}
	for i, e := range got {
		if num(t, e) != i {
			t.Fatalf("event %d delivered out of order (n=%d)", i, num(t, e))
		}
	}

	t.Run("handler error stops it", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.Subscribe(ctxT(t), es.Start, es.Filter{Categories: []string{cat}}, func(context.Context, es.Event) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("Subscribe returned %v, want the handler's error", err)
		}
	})
	t.Run("cancel stops it", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- s.Subscribe(ctx, es.Start, es.Filter{Categories: []string{category(t)}}, func(context.Context, es.Event) error { return nil })
		}()
		time.Sleep(20 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Subscribe returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Subscribe did not return after cancel")
		}
	})
}

// testResume stops a subscriber part-way, appends more, and resumes it from
// the position of the last event it handled: nothing lost, nothing repeated.
func testResume(t *testing.T, h Harness) {
	s := h.New(t)
	cat := category(t)
	stream := cat + "-x"
	mustAppend(t, s, stream, es.NoStream, evs("x.happened", 0, 10)...)

	var checkpoint es.Position
	seen := 0
	stopAt := errors.New("stop")
	handle := func(_ context.Context, e es.Event) error {
		if num(t, e) != seen {
			return fmt.Errorf("got n=%d, want %d", num(t, e), seen)
		}
		seen++
		checkpoint = e.Position
		if seen == 6 {
			return stopAt
		}
		return nil
	}
	f := es.Filter{Categories: []string{cat}}
	if err := s.Subscribe(ctxT(t), es.Start, f, handle); !errors.Is(err, stopAt) {
		t.Fatalf("first run: %v", err)
	}
	mustAppend(t, s, stream, es.Exact(9), evs("x.happened", 10, 5)...)
	sub := subscribe(t, s, checkpoint, f)
	sub.waitFor(t, 9, 10*time.Second)
	time.Sleep(50 * time.Millisecond) // anything extra would show up now
	got := sub.snapshot()
	if len(got) != 9 {
		t.Fatalf("resumed subscriber got %d events, want 9", len(got))
	}
	for i, e := range got {
		if num(t, e) != 6+i {
			t.Fatalf("resumed event %d has n=%d, want %d", i, num(t, e), 6+i)
		}
	}
}

// testRacingWriters: many writers append at the same exact version; exactly
// one wins each round.
func testRacingWriters(t *testing.T, h Harness) {
	s := h.New(t)
	stream := category(t) + "-race"
	mustAppend(t, s, stream, es.NoStream, ev("x.happened", 0))
	for round := int64(0); round < 5; round++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Append(context.Background(), stream, es.Exact(round), ev("x.happened", w))
				switch {
				case err == nil:
					mu.Lock()
					wins++
					mu.Unlock()
				case !errors.Is(err, es.ErrConcurrency):
					t.Errorf("writer %d: %v", w, err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1", round, wins)
		}
	}
	wantVersions(t, s, stream, 6)
}

// testGap runs concurrent writers whose commits land out of order (each holds
// its write open for a random time) while a subscriber runs from the start.
// The subscriber must see every event exactly once, in position order.
func testGap(t *testing.T, h Harness) {
	rounds, writers, per := h.GapRounds, h.GapWriters, h.GapEventsPerWriter
	if rounds == 0 {
		rounds = 5
	}
	if writers == 0 {
		writers = 16
	}
	if per == 0 {
		per = 25
	}
	s := h.New(t)
	for r := 0; r < rounds; r++ {
		t.Run(fmt.Sprintf("round%d", r), func(t *testing.T) { gapRound(t, h, s, writers, per) })
	}
}

func gapRound(t *testing.T, h Harness, s es.Store, writers, per int) {
	cat := category(t)
	sub := subscribe(t, s, es.Start, es.Filter{Categories: []string{cat}})
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano()))) //nolint:gosec // commit delays, not secrets
			for i := 0; i < per; i++ {
				delay := time.Duration(rng.IntN(3000)) * time.Microsecond
				stream := fmt.Sprintf("%s-w%d", cat, w)
				e := ev("x.happened", w*per+i)
				var err error
				if h.AppendSlow != nil {
					_, err = h.AppendSlow(context.Background(), s, stream, es.Any, delay, e)
				} else {
					time.Sleep(delay)
					_, err = s.Append(context.Background(), stream, es.Any, e)
				}
				if err != nil {
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := writers * per
	sub.waitFor(t, total, 30*time.Second)
	time.Sleep(50 * time.Millisecond)
	got := sub.snapshot()
	seen := make(map[int]bool, total)
	for i, e := range got {
		n := num(t, e)
		if seen[n] {
			t.Fatalf("event n=%d delivered twice", n)
		}
		seen[n] = true
		if i > 0 && !got[i-1].Position.Less(e.Position) {
			t.Fatalf("delivery %d out of position order: %s then %s", i, got[i-1].Position, e.Position)
		}
	}
	if len(got) != total {
		t.Fatalf("subscriber saw %d events, want %d", len(got), total)
	}
	// Every event the store holds for the category, read back, is what the
	// subscriber saw, in the same order.
	all := readAllCat(t, s, cat, 1000)
	if len(all) != total {
		t.Fatalf("store holds %d events, want %d", len(all), total)
	}
	for i := range all {
		if all[i].ID != got[i].ID {
			t.Fatalf("delivery %d is %s, store order has %s", i, got[i].ID, all[i].ID)
		}
	}
}
