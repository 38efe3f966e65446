package es_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
)

// countingStore records where each stream read started.
type countingStore struct {
	*fakeStore
	mu    sync.Mutex
	froms []int64
}

func (c *countingStore) ReadStream(ctx context.Context, stream string, dir es.Direction, from int64, limit int) ([]es.Event, error) {
	c.mu.Lock()
	c.froms = append(c.froms, from)
	c.mu.Unlock()
	return c.fakeStore.ReadStream(ctx, stream, dir, from, limit)
}

func (c *countingStore) lastFrom() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.froms[len(c.froms)-1]
}

func TestRepositoryCacheReadsOnlyNewEventsAndStaysFresh(t *testing.T) {
	store := &countingStore{fakeStore: newFakeStore()}
	repo := es.NewRepository(store, registry(t), counter, 3).WithCache(10)
	other := es.NewRepository(store, registry(t), counter, 0) // a second writer, no cache
	ctx := context.Background()
	add := func(n int) func(int) ([]any, error) {
		return func(int) ([]any, error) { return []any{added{N: n}}, nil }
	}
	for range 5 {
		if _, err := repo.Execute(ctx, "a", add(1)); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := repo.Load(ctx, "a")
	if err != nil || snap.State != 5 || snap.Version != 4 {
		t.Fatalf("Load: %+v, %v", snap, err)
	}
	if from := store.lastFrom(); from != 4 {
		t.Errorf("cached load read from version %d, want 4 (its last known event)", from)
	}
	// Another writer appends behind the cache's back: the next load sees it,
	// and a command decides on it.
	if _, err := other.Execute(ctx, "a", add(10)); err != nil {
		t.Fatal(err)
	}
	if snap, err = repo.Load(ctx, "a"); err != nil || snap.State != 15 || snap.Version != 5 {
		t.Fatalf("Load after another writer: %+v, %v", snap, err)
	}
	if _, err := other.Execute(ctx, "a", add(100)); err != nil {
		t.Fatal(err)
	}
	out, err := repo.Execute(ctx, "a", remove(115))
	if err != nil || out.State != 0 || out.Version != 7 {
		t.Fatalf("command after another writer: %+v, %v", out, err)
	}
	// A conflict (a writer sneaking in between load and append) is retried
	// on the fresh stream, as without the cache.
	store.interfere = 1
	if out, err = repo.Execute(ctx, "a", add(2)); err != nil || out.State != 3 || out.Version != 9 {
		t.Fatalf("after a conflict: %+v, %v", out, err)
	}
}

func TestRepositoryCacheIsBounded(t *testing.T) {
	store := &countingStore{fakeStore: newFakeStore()}
	repo := es.NewRepository(store, registry(t), counter, 0).WithCache(4)
	ctx := context.Background()
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	for _, id := range ids {
		if _, err := repo.Execute(ctx, id, func(int) ([]any, error) { return []any{added{N: 1}, added{N: 1}}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	// The last one saved is cached: its load reads from its last event.
	if _, err := repo.Load(ctx, "j"); err != nil || store.lastFrom() != 1 {
		t.Fatalf("load of the last one saved: from %d, %v; want from 1", store.lastFrom(), err)
	}
	fromZero := 0 // loads that replayed; a cached one reads from version 1
	for _, id := range ids {
		snap, err := repo.Load(ctx, id)
		if err != nil || snap.State != 2 {
			t.Fatalf("Load %s: %+v, %v", id, snap, err)
		}
		if store.lastFrom() == 0 {
			fromZero++
		}
	}
	if fromZero < len(ids)-4 {
		t.Errorf("%d of %d loads replayed from the start; a cache of 4 holds at most 4", fromZero, len(ids))
	}
}
