package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
)

// TestBatchIsOneTransaction: pgx sends a batch without BEGIN with one Sync,
// so PostgreSQL runs it as one implicit transaction: one transaction id for
// every statement, and an error in any statement rolls them all back.
// Write combining does not use such a batch of statements but one
// statement (see combine.go): the later statements of a transaction read
// after it got its id, which would break the stream order of ReadAll.
func TestBatchIsOneTransaction(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Pool().Exec(ctx, `CREATE TABLE implicit_tx (id int PRIMARY KEY, txid bigint NOT NULL DEFAULT pg_current_xact_id()::text::bigint)`); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	for id := 1; id <= 3; id++ {
		b.Queue(`INSERT INTO implicit_tx (id) VALUES ($1)`, id)
	}
	if err := s.Pool().SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	var rows, txids int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT txid) FROM implicit_tx`).Scan(&rows, &txids); err != nil {
		t.Fatal(err)
	}
	if rows != 3 || txids != 1 {
		t.Fatalf("batch wrote %d rows in %d transactions, want 3 in 1", rows, txids)
	}

	b = &pgx.Batch{}
	b.Queue(`INSERT INTO implicit_tx (id) VALUES (4)`)
	b.Queue(`INSERT INTO implicit_tx (id) VALUES (5)`)
	b.Queue(`INSERT INTO implicit_tx (id) VALUES (1)`) // duplicate key
	b.Queue(`INSERT INTO implicit_tx (id) VALUES (6)`)
	br := s.Pool().SendBatch(ctx, b)
	for i := 0; i < 2; i++ {
		if _, err := br.Exec(); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
	}
	if _, err := br.Exec(); err == nil {
		t.Fatal("duplicate key: no error")
	}
	if err := br.Close(); err == nil {
		t.Fatal("batch with a failed statement: Close returned no error")
	}
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM implicit_tx`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 3 {
		t.Fatalf("after a failed batch the table has %d rows, want 3 (its earlier statements rolled back)", rows)
	}
}

// combining returns a store whose appends combine through one slot.
func combining(t *testing.T) *postgres.Store {
	t.Helper()
	s := newStore(t)
	postgres.SetCombineSlots(s, 1)
	return s
}

// queueAll starts each append while the combiner's slot is held, waits
// until all of them have queued, then lets them go as one batch and
// returns their outcomes in order.
func queueAll(t *testing.T, s *postgres.Store, appends ...func() (es.AppendResult, error)) ([]es.AppendResult, []error) {
	t.Helper()
	release := postgres.HoldCombiner(s)
	res := make([]es.AppendResult, len(appends))
	errs := make([]error, len(appends))
	var wg sync.WaitGroup
	for i, f := range appends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = f()
		}()
		// One at a time, so that they queue in order.
		waitFor(t, func() bool { return postgres.Queued(s) == i+1 })
	}
	release()
	wg.Wait()
	return res, errs
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func appendOf(s es.Store, stream string, exp es.ExpectedVersion, events ...es.EventData) func() (es.AppendResult, error) {
	return func() (es.AppendResult, error) { return s.Append(context.Background(), stream, exp, events...) }
}

func combineEvent(typ string) es.EventData {
	return es.EventData{ID: es.NewUUID(), Type: typ, Data: []byte(`{}`)}
}

// TestCombinedOutcomes: in one batch each append gets what it would get
// alone, whatever its neighbours do.
func TestCombinedOutcomes(t *testing.T) {
	s := combining(t)
	ctx := context.Background()
	stored := combineEvent("c.happened")
	first, err := s.Append(ctx, "c-replayed", es.NoStream, stored)
	if err != nil {
		t.Fatal(err)
	}
	mustAppendN(t, s, "c-existing", 3)

	res, errs := queueAll(t, s,
		appendOf(s, "c-new", es.NoStream, combineEvent("c.happened"), combineEvent("c.happened")), // 0
		appendOf(s, "c-existing", es.Exact(1), combineEvent("c.happened")),                        // 1: wrong expectation
		appendOf(s, "c-new", es.Exact(1), combineEvent("c.happened")),                             // 2: sees 0's events
		appendOf(s, "c-replayed", es.NoStream, stored),                                            // 3: idempotent replay
		appendOf(s, "c-existing", es.StreamExists, combineEvent("c.happened")),                    // 4
		appendOf(s, "c-new", es.NoStream, combineEvent("c.happened")),                             // 5: stream exists by now
		appendOf(s, "c-other", es.Any, combineEvent("c.happened")),                                // 6
	)
	// c-new and c-existing appear more than once: later appends to them go
	// in the next batch (the last, alone, is no batch).
	if batches, failed := postgres.CombineStats(s); batches != 2 || failed != 0 {
		t.Fatalf("%d batches sent, %d failed; want 2 sent, none failed", batches, failed)
	}
	wantOK := map[int]int64{0: 1, 2: 2, 3: 0, 4: 3, 6: 0}
	for i, v := range wantOK {
		if errs[i] != nil || res[i].Version != v {
			t.Errorf("append %d: version %d, %v; want version %d", i, res[i].Version, errs[i], v)
		}
	}
	// The version a failed append reports is the stream's when the error
	// was made (for append 1, before or after append 4 committed).
	wantConflict := map[int][]int64{1: {2, 3}, 5: {2}}
	for i, actual := range wantConflict {
		var ce *es.ConcurrencyError
		if !errors.As(errs[i], &ce) || !slices.Contains(actual, ce.Actual) {
			t.Errorf("append %d: %v; want a concurrency error with actual version in %v", i, errs[i], actual)
		}
	}
	if res[3].Position != first.Position {
		t.Errorf("replay: position %s, want the stored event's %s", res[3].Position, first.Position)
	}
	checkStreams(t, s, map[string]int{"c-new": 3, "c-existing": 4, "c-replayed": 1, "c-other": 1})
	// One statement: the batch's appends share their transaction.
	if res[0].Position.Commit != res[6].Position.Commit {
		t.Errorf("positions %s and %s: not one transaction", res[0].Position, res[6].Position)
	}
}

// TestCombinedFailureFallsBack: an append that fails its batch as a whole
// (here a duplicate event id under expectation Any: a unique violation)
// sends everyone's statement again alone, so the others still succeed.
func TestCombinedFailureFallsBack(t *testing.T) {
	s := combining(t)
	ctx := context.Background()
	dup := combineEvent("f.happened")
	if _, err := s.Append(ctx, "f-taken", es.NoStream, dup); err != nil {
		t.Fatal(err)
	}
	changed := dup
	changed.Type = "f.changed"
	res, errs := queueAll(t, s,
		appendOf(s, "f-a", es.NoStream, combineEvent("f.happened")),
		appendOf(s, "f-b", es.Any, changed), // an id stored in another stream
		appendOf(s, "f-d", es.Any, combineEvent("f.happened")),
		appendOf(s, "f-c", es.Exact(5), combineEvent("f.happened")), // wrong expectation
	)
	if batches, failed := postgres.CombineStats(s); batches != 1 || failed != 1 {
		t.Fatalf("%d batches sent, %d failed; want 1 sent and failed", batches, failed)
	}
	if errs[0] != nil || errs[2] != nil || res[0].Version != 0 || res[2].Version != 0 {
		t.Errorf("f-a, f-d: %d, %v and %d, %v; want version 0 for both", res[0].Version, errs[0], res[2].Version, errs[2])
	}
	if !errors.Is(errs[1], es.ErrConcurrency) {
		t.Errorf("duplicate id: %v, want a concurrency error", errs[1])
	}
	var ce *es.ConcurrencyError
	if !errors.As(errs[3], &ce) || ce.Actual != -1 {
		t.Errorf("f-c: %v, want a concurrency error with actual version -1", errs[3])
	}
	checkStreams(t, s, map[string]int{"f-a": 1, "f-d": 1, "f-taken": 1, "f-b": 0, "f-c": 0})
}

// TestCombinedCancelled: an append whose context ends while it waits is
// dropped from the batch and gets its context's error.
func TestCombinedCancelled(t *testing.T) {
	s := combining(t)
	cctx, cancel := context.WithCancel(context.Background())
	_, errs := queueAll(t, s,
		appendOf(s, "x-kept", es.NoStream, combineEvent("x.happened")),
		func() (es.AppendResult, error) {
			go func() {
				for postgres.Queued(s) < 2 {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			res, err := s.Append(cctx, "x-dropped", es.NoStream, combineEvent("x.happened"))
			return res, err
		},
		appendOf(s, "x-kept", es.Exact(0), combineEvent("x.happened")),
	)
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], context.Canceled) {
		t.Fatalf("errors %v; want nil, context.Canceled, nil", errs)
	}
	checkStreams(t, s, map[string]int{"x-kept": 2, "x-dropped": 0})
}

// TestCombinedConcurrent: many writers on distinct and on shared streams
// get contiguous versions and the positions of their events, and every
// event is stored once: with one slot (the default), and with two, whose
// batches race each other for the shared streams and fall back.
func TestCombinedConcurrent(t *testing.T) {
	for _, slots := range []int{1, 2} {
		t.Run(fmt.Sprintf("slots%d", slots), func(t *testing.T) {
			s := newStore(t)
			postgres.SetCombineSlots(s, slots)
			const writers, each = 24, 30
			type written struct {
				stream string
				id     es.UUID
				res    es.AppendResult
			}
			var mu sync.Mutex
			var all []written
			var wg sync.WaitGroup
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					own := es.NoStream
					for i := 0; i < each; i++ {
						stream, exp := fmt.Sprintf("own-%d", w), own
						if i%2 == 1 {
							stream, exp = fmt.Sprintf("shared-%d", (w+i)%8), es.Any
						}
						e := combineEvent("w.happened")
						res, err := s.Append(context.Background(), stream, exp, e)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						all = append(all, written{stream, e.ID, res})
						mu.Unlock()
						if i%2 == 0 {
							own = es.Exact(res.Version)
						}
					}
				}()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			batches, failed := postgres.CombineStats(s)
			t.Logf("%d appends, %d combined batches, %d failed as a whole", len(all), batches, failed)
			if err := s.Settle(context.Background()); err != nil {
				t.Fatal(err)
			}
			events, err := s.ReadAll(context.Background(), es.Start, es.Filter{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			byID := map[es.UUID]es.Event{}
			next := map[string]int64{}
			for _, e := range events {
				if _, dup := byID[e.ID]; dup {
					t.Fatalf("event %s read twice", e.ID)
				}
				byID[e.ID] = e
				if e.Version != next[e.StreamID] {
					t.Fatalf("%s: version %d after %d", e.StreamID, e.Version, next[e.StreamID]-1)
				}
				next[e.StreamID]++
			}
			if len(events) != len(all) {
				t.Fatalf("%d events stored, %d appended", len(events), len(all))
			}
			for _, w := range all {
				e, ok := byID[w.id]
				if !ok || e.StreamID != w.stream || e.Version != w.res.Version || e.Position != w.res.Position {
					t.Fatalf("append to %s returned %d at %s; stored: %+v", w.stream, w.res.Version, w.res.Position, e)
				}
			}
		})
	}
}

func mustAppendN(t *testing.T, s es.Store, stream string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := s.Append(context.Background(), stream, es.Any, combineEvent("c.happened")); err != nil {
			t.Fatal(err)
		}
	}
}

// checkStreams checks that each stream holds the given number of events,
// versions 0 on.
func checkStreams(t *testing.T, s es.Store, want map[string]int) {
	t.Helper()
	for stream, n := range want {
		got, err := s.ReadStream(context.Background(), stream, es.Forwards, 0, 1000)
		if n == 0 {
			if !errors.Is(err, es.ErrStreamNotFound) {
				t.Errorf("%s: %d events, %v; want none", stream, len(got), err)
			}
			continue
		}
		if err != nil || len(got) != n {
			t.Errorf("%s: %d events, %v; want %d", stream, len(got), err, n)
			continue
		}
		for i, e := range got {
			if e.Version != int64(i) {
				t.Errorf("%s: event %d has version %d", stream, i, e.Version)
			}
		}
	}
}
