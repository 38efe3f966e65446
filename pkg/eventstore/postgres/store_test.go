package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/eventstore/storetest"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

// newStore opens a store on a fresh database of its own.
func newStore(t testing.TB) *postgres.Store {
	t.Helper()
	return newStoreWith(t, nil)
}

// newStoreWith is newStore with the pool's configuration changed by
// configure (when not nil).
func newStoreWith(t testing.TB, configure func(*pgxpool.Config)) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := testenv.Database(t)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 40
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	if err := postgres.Migrate(pool); err != nil {
		t.Fatal(err)
	}
	s := postgres.New(pool, postgres.Options{})
	t.Cleanup(func() {
		s.Close()
		pool.Close()
	})
	return s
}

// appendSlow appends inside a transaction held open for delay before it
// commits, so concurrent writers commit out of order.
func appendSlow(ctx context.Context, st es.Store, stream string, exp es.ExpectedVersion, delay time.Duration, events ...es.EventData) (es.AppendResult, error) {
	s := st.(*postgres.Store)
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		return es.AppendResult{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	res, err := s.AppendTx(ctx, tx, stream, exp, events...)
	if err != nil {
		return res, err
	}
	time.Sleep(delay)
	if err := tx.Commit(ctx); err != nil {
		return res, err
	}
	s.Committed()
	return res, nil
}

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New:        func(t *testing.T) es.Store { return newStore(t) },
		AppendSlow: appendSlow,
		GapRounds:  20,
	})
}

// TestSettle: a transaction left open elsewhere on the server hides a later
// commit from ReadAll; Settle waits until it ends and no longer.
func TestSettle(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	other, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := other.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "settle-1", es.NoStream, es.EventData{Type: "settle.tested", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadAll(ctx, es.Start, es.Filter{}, 0); err != nil || len(got) != 0 {
		t.Fatalf("with an older transaction open, ReadAll = %d events, %v; want none yet", len(got), err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := s.Settle(short); err == nil {
		t.Fatal("Settle returned while an older transaction was still open")
	}
	done := make(chan error, 1)
	go func() { done <- s.Settle(ctx) }()
	time.Sleep(50 * time.Millisecond)
	if err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadAll(ctx, es.Start, es.Filter{}, 0); err != nil || len(got) != 1 {
		t.Fatalf("after Settle, ReadAll = %d events, %v; want 1", len(got), err)
	}
}
