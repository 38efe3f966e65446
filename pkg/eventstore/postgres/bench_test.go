package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
)

// The benchmarks put each measurement of the store beside a baseline run in
// the same process against the same PostgreSQL: a plain table of the same
// event-shaped rows with nothing but a bigserial key.

const rawTable = `CREATE TABLE IF NOT EXISTS bench_raw (
	id bigserial PRIMARY KEY, event_id uuid NOT NULL, stream_id text NOT NULL,
	type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now())`

const rawInsert = `INSERT INTO bench_raw (event_id, stream_id, type, data, metadata) VALUES ($1, $2, $3, $4, $5)`

// bench_indexed has the events table's columns, defaults and indexes, so the
// difference between it and the store is the store's own work.
const indexedTable = `CREATE TABLE IF NOT EXISTS bench_indexed (LIKE events INCLUDING ALL)`

const indexedInsert = `INSERT INTO bench_indexed (event_id, stream_id, version, category, type, data, metadata)
	VALUES ($1, $2, $3, 'bench', $4, $5, $6)`

var benchData = []byte(`{"order_id":"7f3c0a52-1f61-4d3c-9a53-4f7b8c1e2d11","sku":"SKU-123","quantity":2,"unit_price":{"amount":1999,"currency":"EUR"}}`)

var benchMeta = es.Metadata{CorrelationID: "7f3c0a52-1f61-4d3c-9a53-4f7b8c1e2d11", CausationID: "c0ffee00-0000-4000-8000-000000000000",
	TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Actor: "alice", SchemaVersion: 1}

func benchEvent() es.EventData {
	return es.EventData{ID: es.NewUUID(), Type: "stock.reserved", Data: benchData, Metadata: benchMeta}
}

// concurrently runs n operations on workers goroutines and reports ops/s.
func concurrently(b *testing.B, workers int, unit string, perOp int, op func(worker, i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= b.N; i = int(next.Add(1)) {
				if err := op(w, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N*perOp)/time.Since(start).Seconds(), unit)
}

// BenchmarkAppend measures appends of one event and of 100 events, with
// write combining (the default) and without (-nocombine: one commit per
// append), beside plain INSERTs of the same rows.
func BenchmarkAppend(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	for _, ddl := range []string{rawTable, indexedTable} {
		if _, err := s.Pool().Exec(ctx, ddl); err != nil {
			b.Fatal(err)
		}
	}
	// separate is the same store without write combining: one commit per
	// Append.
	separate := postgres.New(s.Pool(), postgres.Options{NoCombine: true})
	defer separate.Close()
	mdJSON := []byte(`{"correlation_id":"7f3c0a52-1f61-4d3c-9a53-4f7b8c1e2d11","causation_id":"c0ffee00-0000-4000-8000-000000000000","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","actor":"alice","schema_version":1}`)
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("raw-insert/c%d", conc), func(b *testing.B) {
			concurrently(b, conc, "events/s", 1, func(w, _ int) error {
				_, err := s.Pool().Exec(ctx, rawInsert, es.NewUUID(), fmt.Sprintf("bench-%d", w), "stock.reserved", benchData, mdJSON)
				return err
			})
		})
		b.Run(fmt.Sprintf("raw-insert-indexed/c%d", conc), func(b *testing.B) {
			run := es.NewUUID().String()[:8]
			concurrently(b, conc, "events/s", 1, func(w, i int) error {
				_, err := s.Pool().Exec(ctx, indexedInsert, es.NewUUID(), fmt.Sprintf("bench-%s%d", run, w), i, "stock.reserved", benchData, mdJSON)
				return err
			})
		})
		for _, v := range []struct {
			name  string
			store *postgres.Store
		}{{"store-single", s}, {"store-single-nocombine", separate}} {
			b.Run(fmt.Sprintf("%s/c%d", v.name, conc), func(b *testing.B) {
				run := es.NewUUID().String()[:8]
				concurrently(b, conc, "events/s", 1, func(w, _ int) error {
					_, err := v.store.Append(ctx, fmt.Sprintf("bench-%s%d", run, w), es.Any, benchEvent())
					return err
				})
			})
		}
	}
	for _, conc := range []int{1, 16} {
		for _, v := range []struct {
			name  string
			store *postgres.Store
		}{{"store-batch100", s}, {"store-batch100-nocombine", separate}} {
			b.Run(fmt.Sprintf("%s/c%d", v.name, conc), func(b *testing.B) {
				run := es.NewUUID().String()[:8]
				concurrently(b, conc, "events/s", 100, func(w, _ int) error {
					batch := make([]es.EventData, 100)
					for i := range batch {
						batch[i] = benchEvent()
					}
					_, err := v.store.Append(ctx, fmt.Sprintf("batch-%s%d", run, w), es.Any, batch...)
					return err
				})
			})
		}
	}
}

// BenchmarkCatchUp measures a subscription reading a stored history from
// the start, beside paging through the same number of raw rows by key.
func BenchmarkCatchUp(b *testing.B) {
	const total = 50_000
	s := newStore(b)
	ctx := context.Background()
	preload(b, s, total)
	b.Run("raw-paged-select", func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			rawPages(b, s.Pool(), total)
		}
		b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("store-subscribe", func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			catchUp(ctx, b, s, total)
		}
		b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "events/s")
	})
}

func preload(b *testing.B, s *postgres.Store, total int) {
	b.Helper()
	ctx := context.Background()
	if _, err := s.Pool().Exec(ctx, rawTable); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < total/100; i++ {
		batch := make([]es.EventData, 100)
		for j := range batch {
			batch[j] = benchEvent()
		}
		if _, err := s.Append(ctx, fmt.Sprintf("stock-%d", i%50), es.Any, batch...); err != nil {
			b.Fatal(err)
		}
	}
	_, err := s.Pool().Exec(ctx, `INSERT INTO bench_raw (event_id, stream_id, type, data, metadata)
		SELECT event_id, stream_id, type, data, metadata FROM events ORDER BY position`)
	if err != nil {
		b.Fatal(err)
	}
}

func rawPages(b *testing.B, pool *pgxpool.Pool, total int) {
	b.Helper()
	var last int64
	seen := 0
	for {
		rows, err := pool.Query(context.Background(), `SELECT id, event_id, stream_id, type, data, metadata, recorded_at FROM bench_raw WHERE id > $1 ORDER BY id LIMIT 512`, last)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var r struct {
				id       int64
				eid      [16]byte
				stream   string
				typ      string
				data, md []byte
				at       time.Time
			}
			if err := rows.Scan(&r.id, &r.eid, &r.stream, &r.typ, &r.data, &r.md, &r.at); err != nil {
				b.Fatal(err)
			}
			last = r.id
			n++
		}
		rows.Close()
		if rows.Err() != nil {
			b.Fatal(rows.Err())
		}
		seen += n
		if n < 512 {
			break
		}
	}
	if seen < total {
		b.Fatalf("raw pages saw %d rows, want %d", seen, total)
	}
}

var errDone = fmt.Errorf("caught up")

func catchUp(ctx context.Context, b *testing.B, s *postgres.Store, total int) {
	b.Helper()
	seen := 0
	err := s.Subscribe(ctx, es.Start, es.Filter{}, func(context.Context, es.Event) error {
		seen++
		if seen == total {
			return errDone
		}
		return nil
	})
	if seen != total {
		b.Fatalf("catch-up saw %d events, want %d (%v)", seen, total, err)
	}
}

// BenchmarkLiveDelivery measures the time from calling Append to the
// subscriber's handler running, one event at a time, while the subscriber
// is live (caught up and waiting). It reports p50 and p99.
func BenchmarkLiveDelivery(b *testing.B) {
	s := newStore(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	arrived := make(chan time.Time, 1)
	go func() {
		_ = s.Subscribe(ctx, es.Start, es.Filter{Categories: []string{"live"}}, func(context.Context, es.Event) error {
			arrived <- time.Now()
			return nil
		})
	}()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := s.Append(ctx, "live-1", es.Any, benchEvent()); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-arrived:
			lat = append(lat, at.Sub(start))
		case <-time.After(10 * time.Second):
			b.Fatal("event not delivered within 10s")
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
