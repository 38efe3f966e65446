package park_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

var quiet = slog.New(slog.DiscardHandler)

// openStore opens a PostgreSQL event store in a fresh database; its
// migrations create the parked_events table.
func openStore(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), testenv.Database(t), postgres.Options{Log: quiet, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// backends are the Store implementations; every contract test runs on each.
var backends = map[string]func(t *testing.T) park.Store{
	"postgres": func(t *testing.T) park.Store { return park.NewPostgres(openStore(t).Pool()) },
	"redis": func(t *testing.T) park.Store {
		rdb, prefix := testenv.Redis(t)
		return park.NewRedis(rdb, prefix)
	},
}

func entry(sub string, commit uint64, key string) park.Entry {
	ev := es.NewUUID()
	at := time.Date(2026, 5, 1, 12, 0, int(commit), 0, time.UTC)
	return park.Entry{
		ID: park.EntryID(sub, ev), Subscriber: sub, EventID: ev, Stream: "order-1", Version: int64(commit),
		Position: es.Position{Commit: commit, Prepare: 7}, Type: "order.placed", Key: key,
		Error: "decode: bad", Attempts: 1, Status: park.Parked, ParkedAt: at, UpdatedAt: at,
	}
}

func TestStoreContract(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Run("park, get, list, count", func(t *testing.T) { testParkGetList(t, open(t)) })
			t.Run("park again, mark replayed", func(t *testing.T) { testParkAgain(t, open(t)) })
		})
	}
}

func testParkGetList(t *testing.T, s park.Store) {
	ctx := t.Context()
	a1, b, a2, other := entry("a", 3, "k1"), entry("b", 2, ""), entry("a", 5, "k2"), entry("c", 1, "")
	for _, e := range []park.Entry{a1, b, a2, other} {
		if err := s.Park(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx, a1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a1, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	if _, err := s.Get(ctx, es.NewUUID()); !errors.Is(err, park.ErrNotFound) {
		t.Errorf("Get of an unknown id: %v, want ErrNotFound", err)
	}
	list, err := s.List(ctx, park.Query{Subscribers: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]park.Entry{b, a1, a2}, list); diff != "" {
		t.Errorf("List in position order, subscribers a and b (-want +got):\n%s", diff)
	}
	list, err = s.List(ctx, park.Query{Subscribers: []string{"a"}, Status: park.Parked, Key: "k2", Limit: 5})
	if err != nil || len(list) != 1 || list[0].ID != a2.ID {
		t.Errorf("List of key k2: %v, %v; want a2 alone", list, err)
	}
	list, err = s.List(ctx, park.Query{Subscribers: []string{"a", "b"}, Limit: 1})
	if err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("List with limit 1: %v, %v; want b", list, err)
	}
	counts, err := s.Count(ctx, []string{"a", "b"})
	if err != nil || counts[park.Parked] != 3 || counts[park.Replayed] != 0 {
		t.Errorf("Count = %v, %v; want 3 parked", counts, err)
	}
}

func testParkAgain(t *testing.T, s park.Store) {
	ctx := t.Context()
	e := entry("a", 3, "")
	if err := s.Park(ctx, e); err != nil {
		t.Fatal(err)
	}
	later := e.UpdatedAt.Add(time.Minute)
	if ok, err := s.MarkReplayed(ctx, e.ID, later); err != nil || !ok {
		t.Fatalf("MarkReplayed = %v, %v; want true", ok, err)
	}
	if ok, err := s.MarkReplayed(ctx, e.ID, later); err != nil || ok {
		t.Fatalf("MarkReplayed of a replayed entry = %v, %v; want false", ok, err)
	}
	got, err := s.Get(ctx, e.ID)
	if err != nil || got.Status != park.Replayed || got.Replayed == nil || !got.Replayed.Equal(later) {
		t.Fatalf("after MarkReplayed: %+v, %v", got, err)
	}
	again := e
	again.Error, again.Attempts, again.UpdatedAt = "still bad", 2, later.Add(time.Minute)
	if err := s.Park(ctx, again); err != nil {
		t.Fatal(err)
	}
	got, err = s.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := e
	want.Error, want.Attempts, want.UpdatedAt = "still bad", 3, again.UpdatedAt
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parked again (-want +got):\n%s", diff)
	}
	counts, err := s.Count(ctx, []string{"a"})
	if err != nil || counts[park.Parked] != 1 || counts[park.Replayed] != 0 {
		t.Errorf("Count = %v, %v; want 1 parked", counts, err)
	}
}
