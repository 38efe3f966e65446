package es_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/es"
)

// A counter aggregate: the smallest thing with a rule (never below zero).
type added struct{ N int }
type removed struct{ N int }

var errBelowZero = errors.New("counter would go below zero")

var counter = es.Aggregate[int]{
	Category: "counter",
	Initial:  func(string) int { return 0 },
	Apply: func(s int, e any) int {
		switch e := e.(type) {
		case added:
			return s + e.N
		case removed:
			return s - e.N
		}
		return s
	},
}

func remove(n int) func(int) ([]any, error) {
	return func(s int) ([]any, error) {
		if s-n < 0 {
			return nil, errBelowZero
		}
		return []any{removed{N: n}}, nil
	}
}

func registry(t *testing.T) *es.Registry {
	t.Helper()
	r := es.NewRegistry()
	es.Register[added](r, "counter.added")
	es.Register[removed](r, "counter.removed")
	return r
}

func TestRegistry(t *testing.T) {
	r := registry(t)
	d, err := r.Encode(es.UUID{}, added{N: 3}, es.Metadata{Actor: "a"})
	if err != nil || d.Type != "counter.added" || string(d.Data) != `{"N":3}` {
		t.Fatalf("Encode: %+v, %v", d, err)
	}
	v, err := r.Decode("counter.added", d.Data)
	if err != nil || v != (added{N: 3}) {
		t.Fatalf("Decode: %#v, %v", v, err)
	}
	if _, err := r.Decode("counter.reset", nil); !errors.Is(err, es.ErrUnknownEventType) {
		t.Fatalf("Decode unknown: %v", err)
	}
	if _, err := r.Name(struct{}{}); !errors.Is(err, es.ErrUnknownEventType) {
		t.Fatalf("Name unregistered: %v", err)
	}
	if diff := cmp.Diff([]string{"counter.added", "counter.removed"}, r.Names()); diff != "" {
		t.Fatal(diff)
	}
	for name, f := range map[string]func(){
		"duplicate name": func() { es.Register[struct{ X int }](r, "counter.added") },
		"duplicate type": func() { es.Register[added](r, "counter.added2") },
		"pointer type":   func() { es.Register[*added](r, "counter.ptr") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

func TestRepositoryExecute(t *testing.T) {
	store := newFakeStore()
	repo := es.NewRepository(store, registry(t), counter, 3)
	ctx := es.WithMetadata(context.Background(), es.Metadata{CorrelationID: "c1", Actor: "alice"})

	out, err := repo.Execute(ctx, "a", func(int) ([]any, error) { return []any{added{N: 5}}, nil })
	if err != nil || out.State != 5 || out.Version != 0 {
		t.Fatalf("first command: %+v, %v", out, err)
	}
	if _, err := repo.Execute(ctx, "a", remove(9)); !errors.Is(err, errBelowZero) {
		t.Fatalf("rule not enforced: %v", err)
	}
	out, err = repo.Execute(ctx, "a", remove(2))
	if err != nil || out.State != 3 || out.Version != 1 {
		t.Fatalf("second command: %+v, %v", out, err)
	}
	snap, err := repo.Load(ctx, "a")
	if err != nil || snap.State != 3 || snap.Version != 1 {
		t.Fatalf("Load: %+v, %v", snap, err)
	}
	got := store.streams["counter-a"]
	if got[1].Metadata.CorrelationID != "c1" || got[1].Metadata.Actor != "alice" || got[1].Metadata.SchemaVersion != 1 {
		t.Fatalf("metadata from context not stamped: %+v", got[1].Metadata)
	}
	// A command that records nothing writes nothing.
	out, err = repo.Execute(ctx, "a", func(int) ([]any, error) { return nil, nil })
	if err != nil || out.Version != 1 || len(store.streams["counter-a"]) != 2 {
		t.Fatalf("no-op command: %+v, %v", out, err)
	}
}

func TestRepositoryRetriesConflicts(t *testing.T) {
	store := newFakeStore()
	repo := es.NewRepository(store, registry(t), counter, 3)
	ctx := context.Background()
	if _, err := repo.Execute(ctx, "b", func(int) ([]any, error) { return []any{added{N: 1}}, nil }); err != nil {
		t.Fatal(err)
	}
	// Another writer sneaks in before each of the first two appends.
	store.interfere = 2
	out, err := repo.Execute(ctx, "b", func(int) ([]any, error) { return []any{added{N: 10}}, nil })
	if err != nil || out.State != 13 {
		t.Fatalf("after retries: %+v, %v", out, err)
	}
	store.interfere = 10
	_, err = repo.Execute(ctx, "b", func(int) ([]any, error) { return []any{added{N: 10}}, nil })
	var ce *es.ConcurrencyError
	if !errors.As(err, &ce) {
		t.Fatalf("retries not bounded: %v", err)
	}
}

func TestRepositoryIdentified(t *testing.T) {
	store := newFakeStore()
	repo := es.NewRepository(store, registry(t), counter, 0)
	id := es.DerivedUUID(es.NewUUID(), "handler")
	if _, err := repo.Save(context.Background(), "c", es.NoStream, es.Identified{ID: id, Event: added{N: 1}}); err != nil {
		t.Fatal(err)
	}
	if got := store.streams["counter-c"][0].ID; got != id {
		t.Fatalf("event id %s, want %s", got, id)
	}
}

// fakeStore is the least of es.Store a repository needs: streams in memory
// with optimistic concurrency. interfere > 0 makes that many appends lose a
// race to a phantom writer.
type fakeStore struct {
	es.Store  // ReadAll, Subscribe and Head are not used by repositories
	mu        sync.Mutex
	streams   map[string][]es.Event
	interfere int
}

func newFakeStore() *fakeStore { return &fakeStore{streams: map[string][]es.Event{}} }

func (f *fakeStore) Append(_ context.Context, stream string, exp es.ExpectedVersion, events ...es.EventData) (es.AppendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := es.ValidateAppend(stream, exp, events); err != nil {
		return es.AppendResult{}, err
	}
	if f.interfere > 0 {
		f.interfere--
		f.streams[stream] = append(f.streams[stream], es.Event{EventData: es.EventData{Type: "counter.added", Data: []byte(`{"N":1}`)}, StreamID: stream, Version: int64(len(f.streams[stream]))})
	}
	cur := int64(len(f.streams[stream])) - 1
	if exp.IsExact() && exp.Version() != cur || exp.IsNoStream() && cur >= 0 {
		return es.AppendResult{}, &es.ConcurrencyError{Stream: stream, Expected: exp, Actual: cur}
	}
	for _, e := range events {
		cur++
		f.streams[stream] = append(f.streams[stream], es.Event{EventData: e, StreamID: stream, Version: cur})
	}
	return es.AppendResult{Version: cur}, nil
}

func (f *fakeStore) ReadStream(_ context.Context, stream string, _ es.Direction, from int64, limit int) ([]es.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.streams[stream]
	if !ok {
		return nil, es.ErrStreamNotFound
	}
	if from >= int64(len(s)) {
		return nil, nil
	}
	s = s[from:]
	if len(s) > limit {
		s = s[:limit]
	}
	return append([]es.Event(nil), s...), nil
}
