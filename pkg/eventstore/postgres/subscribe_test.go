package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

// twoStores opens two stores on one fresh database, as two processes would:
// what one appends reaches the other's subscribers only by notification.
// Neither polls within a test's lifetime.
func twoStores(t *testing.T) (sub, writer *postgres.Store) {
	t.Helper()
	url := testenv.Database(t)
	open := func() *postgres.Store {
		pool, err := pgxpool.New(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		if err := postgres.Migrate(pool); err != nil {
			t.Fatal(err)
		}
		s := postgres.New(pool, postgres.Options{PollInterval: time.Hour})
		t.Cleanup(func() { s.Close(); pool.Close() })
		return s
	}
	return open(), open()
}

// deliver subscribes to sub with f and returns the events it hands over.
func deliver(t *testing.T, sub *postgres.Store, f es.Filter) <-chan es.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan es.Event, 100)
	done := make(chan error, 1)
	go func() {
		done <- sub.Subscribe(ctx, es.Start, f, func(_ context.Context, e es.Event) error { got <- e; return nil })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Subscribe: %v, want it cancelled", err)
		}
	})
	return got
}

// quiet waits out the re-reads a subscriber makes after it starts (its
// listener's first announcement says nothing): from then on only
// announcements, and re-reads for announced events held back, make it read.
func quiet() { time.Sleep(300 * time.Millisecond) }

func next(t *testing.T, got <-chan es.Event, what string) es.Event {
	t.Helper()
	select {
	case e := <-got:
		return e
	case <-time.After(15 * time.Second):
		t.Fatalf("%s was not delivered", what)
		return es.Event{}
	}
}

func event(typ string) es.EventData { return es.EventData{Type: typ, Data: []byte(`{}`)} }

// A notification names what was appended: a subscriber in another process
// is woken for events it reads, and only the ones it reads are handed over.
func TestNotificationWakesOtherProcess(t *testing.T) {
	sub, writer := twoStores(t)
	ctx := context.Background()
	got := deliver(t, sub, es.Filter{Categories: []string{"wanted"}, Types: []string{"wanted.happened"}})
	quiet()
	for i := range 20 {
		if _, err := writer.Append(ctx, es.StreamID("unwanted", string(rune('a'+i))), es.NoStream, event("unwanted.happened")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := writer.Append(ctx, "wanted-1", es.NoStream, event("unwanted.happened"), event("wanted.happened")); err != nil {
		t.Fatal(err)
	}
	e := next(t, got, "the wanted event")
	if e.StreamID != "wanted-1" || e.Type != "wanted.happened" {
		t.Fatalf("delivered %s %s", e.Type, e.StreamID)
	}
	if _, err := writer.Append(ctx, "wanted-2", es.NoStream, event("wanted.happened")); err != nil {
		t.Fatal(err)
	}
	if e := next(t, got, "the second wanted event"); e.StreamID != "wanted-2" {
		t.Fatalf("delivered %s %s", e.Type, e.StreamID)
	}
}

// An event announced while an older transaction is still open is held back
// (see docs/event-store.md). That transaction's end is not announced, yet
// the subscriber reads again until the event shows.
func TestHeldBackEventIsReadWhenTheLinePasses(t *testing.T) {
	sub, writer := twoStores(t)
	ctx := context.Background()
	got := deliver(t, sub, es.Filter{Categories: []string{"held"}})
	if _, err := writer.Append(ctx, "held-0", es.NoStream, event("held.happened")); err != nil {
		t.Fatal(err)
	}
	next(t, got, "the first event") // the subscription is live
	quiet()
	other, err := writer.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := other.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Append(ctx, "held-1", es.NoStream, event("held.happened")); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		t.Fatalf("%s %s delivered while an older transaction was open", e.Type, e.StreamID)
	case <-time.After(100 * time.Millisecond):
	}
	if err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if e := next(t, got, "the held-back event"); e.StreamID != "held-1" {
		t.Fatalf("delivered %s %s", e.Type, e.StreamID)
	}
}
