package park_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/park"
)

// item is the body of the test events: which group it belongs to and how
// the handler should fail on it.
type item struct {
	Group string `json:"group"`
	Fail  string `json:"fail,omitempty"` // "permanent", "transient:<n>", "panic", "always"
}

// worker is a subscriber like the services': its effect is an event with
// an id derived from the handled one, appended to effect-<group>, so
// running it twice for one event appends once.
type worker struct {
	store *postgres.Store
	fixed atomic.Bool // a fixed handler stops failing permanently

	mu      sync.Mutex
	handled []string         // event ids in the order the handler succeeded
	tries   map[es.UUID]int  // handler runs per event
	after   map[es.UUID]bool // After calls: event → parked
}

func newWorker(s *postgres.Store) *worker {
	return &worker{store: s, tries: map[es.UUID]int{}, after: map[es.UUID]bool{}}
}

func (w *worker) handle(ctx context.Context, e es.Event) error {
	w.mu.Lock()
	w.tries[e.ID]++
	n := w.tries[e.ID]
	w.mu.Unlock()
	var it item
	if err := json.Unmarshal(e.Data, &it); err != nil {
		return fmt.Errorf("decode %s: %w", e.Type, err)
	}
	switch {
	case it.Fail == "permanent" && !w.fixed.Load():
		return es.Permanent(errors.New("cannot process this item"))
	case it.Fail == "panic" && !w.fixed.Load():
		panic("handler bug")
	case it.Fail == "always":
		return errors.New("database unavailable")
	case strings.HasPrefix(it.Fail, "transient:"):
		var k int
		_, _ = fmt.Sscanf(it.Fail, "transient:%d", &k)
		if n <= k {
			return errors.New("redis unavailable")
		}
	}
	data, _ := json.Marshal(map[string]string{"cause": e.ID.String()})
	_, err := w.store.Append(ctx, "effect-"+it.Group, es.Any, es.EventData{ID: es.DerivedUUID(e.ID, "worker"), Type: "effect.done", Data: data})
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.handled = append(w.handled, e.ID.String())
	w.mu.Unlock()
	return nil
}

func (w *worker) afterEvent(_ context.Context, e es.Event, parked bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.after[e.ID] = parked
	return nil
}

func (w *worker) triesOf(id es.UUID) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tries[id]
}

func (w *worker) handledIDs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.handled)
}

// waitAfter waits until After ran for id and returns whether it was parked.
func (w *worker) waitAfter(t *testing.T, id es.UUID) bool {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		parked, ok := w.after[id]
		w.mu.Unlock()
		if ok {
			return parked
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the subscription never finished event %s", id)
	return false
}

// env is a PostgreSQL event store, a Lot on it and a worker.
type env struct {
	store *postgres.Store
	lot   *park.Lot
	w     *worker
}

func newEnv(t *testing.T, group bool) (*env, park.Subscriber) {
	t.Helper()
	s := openStore(t)
	e := &env{store: s, lot: park.New(s, park.NewPostgres(s.Pool()), park.Options{Attempts: 3, Backoff: time.Millisecond, Log: quiet}), w: newWorker(s)}
	sub := park.Subscriber{Name: "worker", Handle: e.w.handle, After: e.w.afterEvent}
	if group {
		sub.Key = func(ev es.Event) string {
			var it item
			_ = json.Unmarshal(ev.Data, &it)
			return it.Group
		}
	}
	return e, sub
}

// subscribe runs the subscription until the test ends; it returns the
// subscription's error channel.
func (e *env) subscribe(t *testing.T, sub park.Subscriber) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	h := e.lot.Handler(sub)
	go func() {
		defer close(finished)
		done <- e.store.Subscribe(ctx, es.Start, es.Filter{Categories: []string{"item"}}, h)
	}()
	t.Cleanup(func() { cancel(); <-finished })
	return done
}

// add appends an item event and returns its id.
func (e *env) add(t *testing.T, stream string, body any) es.UUID {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	id := es.NewUUID()
	if _, err := e.store.Append(t.Context(), stream, es.Any, es.EventData{ID: id, Type: "item.added", Data: data}); err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *env) effects(t *testing.T, group string) int {
	t.Helper()
	events, err := e.store.ReadStream(t.Context(), "effect-"+group, es.Forwards, 0, 100)
	if errors.Is(err, es.ErrStreamNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(events)
}

func TestPermanentFailuresParkAndTheRestFlows(t *testing.T) {
	e, sub := newEnv(t, false)
	var heard atomic.Int32
	e.lot = park.New(e.store, park.NewPostgres(e.store.Pool()), park.Options{Backoff: time.Millisecond, Log: quiet,
		OnPark: func(park.Entry) { heard.Add(1) }})
	e.subscribe(t, sub)
	poison := e.add(t, "item-1", item{Group: "g", Fail: "permanent"})
	undecodable := e.add(t, "item-2", json.RawMessage(`{"group": 42}`))
	panics := e.add(t, "item-3", item{Group: "g", Fail: "panic"})
	fine := e.add(t, "item-4", item{Group: "g"})

	for _, id := range []es.UUID{poison, undecodable, panics} {
		if !e.w.waitAfter(t, id) {
			t.Errorf("event %s was not parked", id)
		}
		if n := e.w.triesOf(id); n != 1 {
			t.Errorf("event %s was tried %d times; a permanent failure is tried once", id, n)
		}
	}
	if e.w.waitAfter(t, fine) {
		t.Error("the good event behind the poison ones was parked")
	}
	if got := e.w.handledIDs(); !slices.Equal(got, []string{fine.String()}) {
		t.Errorf("handled %v, want only %s", got, fine)
	}
	entries, err := e.lot.List(t.Context(), park.Parked, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d entries, want 3: %+v", len(entries), entries)
	}
	wantErr := map[es.UUID]string{poison: "cannot process this item", undecodable: "decode item.added: json: cannot unmarshal", panics: "panic: handler bug"}
	for _, en := range entries {
		want, ok := wantErr[en.EventID]
		if !ok || en.Subscriber != "worker" || en.Type != "item.added" || en.Attempts != 1 || en.Status != park.Parked ||
			len(en.Error) < len(want) || en.Error[:len(want)] != want || en.Position.IsZero() || en.Version != 0 {
			t.Errorf("entry %+v: want subscriber worker, 1 attempt, error starting %q", en, want)
		}
	}
	if c, err := e.lot.Count(t.Context()); err != nil || c.Parked != 3 || c.ParkedSinceStart != 3 || heard.Load() != 3 {
		t.Errorf("Count = %+v, %v, OnPark heard %d; want 3 parked, 3 since start, 3 heard", c, err, heard.Load())
	}
}

func TestTransientFailuresRetryAndNeverPark(t *testing.T) {
	e, sub := newEnv(t, false)
	done := e.subscribe(t, sub)
	flaky := e.add(t, "item-1", item{Group: "g", Fail: "transient:2"})
	if e.w.waitAfter(t, flaky) {
		t.Fatal("an event that failed transiently was parked")
	}
	if n := e.w.triesOf(flaky); n != 3 {
		t.Errorf("tried %d times, want 3 (two failures, then success)", n)
	}
	down := e.add(t, "item-2", item{Group: "g", Fail: "always"})
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "database unavailable") || e.w.triesOf(down) != 3 {
			t.Errorf("subscription ended with %v after %d tries; want the handler's error after 3", err, e.w.triesOf(down))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a handler failing transiently for good did not stop the subscription")
	}
	if c, err := e.lot.Count(t.Context()); err != nil || c.Parked != 0 || c.ParkedSinceStart != 0 {
		t.Errorf("Count = %+v, %v; a transient failure must park nothing", c, err)
	}
}

func TestReplayAfterAFixRunsOnce(t *testing.T) {
	e, sub := newEnv(t, false)
	e.subscribe(t, sub)
	poison := e.add(t, "item-1", item{Group: "p", Fail: "permanent"})
	e.w.waitAfter(t, poison)
	id := park.EntryID("worker", poison)

	// Not fixed yet: the replay fails and the entry stays parked.
	res, err := e.lot.Replay(t.Context(), id)
	if !errors.Is(err, park.ErrReplayFailed) || res.Failed == nil || res.Failed.Attempts != 2 || res.Entry.Status != park.Parked {
		t.Fatalf("replay before the fix: %+v, %v; want ErrReplayFailed, 2 attempts, still parked", res, err)
	}
	if e.effects(t, "p") != 0 {
		t.Fatal("a failed replay had an effect")
	}

	e.w.fixed.Store(true)
	res, err = e.lot.Replay(t.Context(), id)
	if err != nil || len(res.Replayed) != 1 || res.Entry.Status != park.Replayed || res.Entry.Replayed == nil || res.Already {
		t.Fatalf("replay after the fix: %+v, %v", res, err)
	}
	if n := e.effects(t, "p"); n != 1 {
		t.Fatalf("%d effects after the replay, want 1", n)
	}
	tries := e.w.triesOf(poison)
	res, err = e.lot.Replay(t.Context(), id)
	if err != nil || !res.Already || len(res.Replayed) != 0 {
		t.Fatalf("second replay: %+v, %v; want already replayed", res, err)
	}
	if e.w.triesOf(poison) != tries || e.effects(t, "p") != 1 {
		t.Fatal("the second replay ran the handler or had an effect")
	}
	if _, err := e.lot.Replay(t.Context(), es.NewUUID()); !errors.Is(err, park.ErrNotFound) {
		t.Errorf("replay of an unknown id: %v", err)
	}
	if c, err := e.lot.Count(t.Context()); err != nil || c.Parked != 0 || c.Replayed != 1 {
		t.Errorf("Count = %+v, %v; want 1 replayed", c, err)
	}
}

func TestAGroupWaitsBehindItsParkedEvent(t *testing.T) {
	e, sub := newEnv(t, true)
	e.subscribe(t, sub)
	a1 := e.add(t, "item-a1", item{Group: "a", Fail: "permanent"})
	a2 := e.add(t, "item-a2", item{Group: "a"})
	b1 := e.add(t, "item-b1", item{Group: "b"})
	if !e.w.waitAfter(t, a1) || !e.w.waitAfter(t, a2) {
		t.Fatal("the poison event and the one behind it in its group should both be parked")
	}
	if e.w.waitAfter(t, b1) {
		t.Fatal("another group's event was held")
	}
	if e.w.triesOf(a2) != 0 {
		t.Fatal("the handler ran for an event held behind a parked one")
	}
	held, err := e.lot.Get(t.Context(), park.EntryID("worker", a2))
	if err != nil || held.Key != "a" || held.Attempts != 0 {
		t.Fatalf("held entry %+v, %v", held, err)
	}
	if _, err := e.lot.Replay(t.Context(), held.ID); !errors.Is(err, park.ErrOutOfOrder) {
		t.Fatalf("replaying the later event first: %v, want ErrOutOfOrder", err)
	}

	e.w.fixed.Store(true)
	res, err := e.lot.Replay(t.Context(), park.EntryID("worker", a1))
	if err != nil || len(res.Replayed) != 2 || res.Replayed[0].EventID != a1 || res.Replayed[1].EventID != a2 {
		t.Fatalf("replay of the group: %+v, %v; want a1 then a2", res, err)
	}
	a3 := e.add(t, "item-a3", item{Group: "a"})
	if e.w.waitAfter(t, a3) {
		t.Fatal("the group was still held after its parked events were replayed")
	}
	want := []string{b1.String(), a1.String(), a2.String(), a3.String()}
	if got := e.w.handledIDs(); !slices.Equal(got, want) {
		t.Errorf("handled %v, want %v", got, want)
	}
}

func TestNilLotPassesPermanentFailures(t *testing.T) {
	s := openStore(t)
	w := newWorker(s)
	var lot *park.Lot
	h := lot.Handler(park.Subscriber{Name: "worker", Handle: w.handle, After: w.afterEvent})
	ev := es.Event{EventData: es.EventData{ID: es.NewUUID(), Type: "item.added", Data: json.RawMessage(`{"group":"g","fail":"permanent"}`)}, StreamID: "item-1"}
	if err := h(t.Context(), ev); err != nil || !w.after[ev.ID] {
		t.Fatalf("nil Lot: %v, after %v; want the event passed as parked", err, w.after)
	}
	ev.ID, ev.Data = es.NewUUID(), json.RawMessage(`{"group":"g","fail":"always"}`)
	if err := h(t.Context(), ev); err == nil {
		t.Fatal("nil Lot swallowed a transient failure")
	}
}
