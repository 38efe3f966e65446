package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
)

// statements counts the statements a pool sends, by sqlc query name (the
// "-- name: X" line that starts every generated query) or "other".
type statements struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	name := "other"
	if rest, ok := strings.CutPrefix(d.SQL, "-- name: "); ok {
		name, _, _ = strings.Cut(rest, " ")
	}
	c.mu.Lock()
	c.n[name]++
	c.mu.Unlock()
	return ctx
}

func (c *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *statements) reset() {
	c.mu.Lock()
	c.n = map[string]int{}
	c.mu.Unlock()
}

// report adds the statements counted since reset, per operation, to b's
// metrics (queries/op) and logs them by name.
func (c *statements) report(b *testing.B) {
	b.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	total := 0
	var parts []string
	for name, n := range c.n {
		total += n
		parts = append(parts, fmt.Sprintf("%s %.2f", name, float64(n)/float64(b.N)))
	}
	sort.Strings(parts)
	b.ReportMetric(float64(total)/float64(b.N), "queries/op")
	b.Logf("N=%d statements/op: %s", b.N, strings.Join(parts, ", "))
}

// newCountingStore is newStore with every statement counted.
func newCountingStore(t testing.TB) (*postgres.Store, *statements) {
	t.Helper()
	c := &statements{n: map[string]int{}}
	s := newStoreWith(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = c })
	return s, c
}

// counts returns the statements counted since reset, by name.
func (c *statements) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// The benchmark aggregate: a counter that each command raises by one.
type benchAdded struct {
	N int `json:"n"`
}

var benchCounter = es.Aggregate[int]{
	Category: "benchcount",
	Initial:  func(string) int { return 0 },
	Apply: func(s int, e any) int {
		if a, ok := e.(benchAdded); ok {
			return s + a.N
		}
		return s
	},
}

func benchRepository(s es.Store, cache bool) *es.Repository[int] {
	reg := es.NewRegistry()
	es.Register[benchAdded](reg, "benchcount.added")
	r := es.NewRepository(s, reg, benchCounter, 0)
	if cache {
		r.WithCache(1024)
	}
	return r
}

func addOne(int) ([]any, error) { return []any{benchAdded{N: 1}}, nil }

// BenchmarkRepositoryCachedExecute measures a command on an aggregate whose
// state the repository has cached: a load of the events since, then an
// append. "existing" repeats the command on one stream; "new" runs it once
// on a stream that has no events yet (the load finds no stream), as each
// new order, payment and saga does.
func BenchmarkRepositoryCachedExecute(b *testing.B) {
	ctx := context.Background()
	b.Run("existing", func(b *testing.B) {
		s, count := newCountingStore(b)
		repo := benchRepository(s, true)
		if _, err := repo.Execute(ctx, "one", addOne); err != nil {
			b.Fatal(err)
		}
		count.reset()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := repo.Execute(ctx, "one", addOne); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		count.report(b)
	})
	b.Run("new", func(b *testing.B) {
		s, count := newCountingStore(b)
		repo := benchRepository(s, true)
		run := es.NewUUID().String()[:8]
		count.reset()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := repo.Execute(ctx, fmt.Sprintf("%s%d", run, i), addOne); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		count.report(b)
	})
}

// BenchmarkReadStream measures one read of a stream: a page of its events,
// its last event (backwards, and forwards from its version as a cached
// repository reads), an empty read past its end and reads of a stream that
// does not exist.
func BenchmarkReadStream(b *testing.B) {
	ctx := context.Background()
	s, count := newCountingStore(b)
	batch := make([]es.EventData, 10)
	for i := range batch {
		batch[i] = benchEvent()
	}
	if _, err := s.Append(ctx, "benchread-1", es.NoStream, batch...); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name     string
		stream   string
		dir      es.Direction
		from     int64
		want     int
		notFound bool
	}{
		{"page-forwards", "benchread-1", es.Forwards, 0, 10, false},
		{"last-backwards", "benchread-1", es.Backwards, es.End, 1, false},
		{"from-last", "benchread-1", es.Forwards, 9, 1, false},
		{"past-end", "benchread-1", es.Forwards, 10, 0, false},
		{"missing", "benchread-2", es.Forwards, 0, 0, true},
		{"missing-backwards", "benchread-2", es.Backwards, es.End, 0, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			count.reset()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				limit := 100
				if tc.dir == es.Backwards {
					limit = 1
				}
				got, err := s.ReadStream(ctx, tc.stream, tc.dir, tc.from, limit)
				if errors.Is(err, es.ErrStreamNotFound) != tc.notFound || (err != nil && !tc.notFound) || len(got) != tc.want {
					b.Fatalf("read %s: %d events, %v", tc.stream, len(got), err)
				}
			}
			b.StopTimer()
			count.report(b)
		})
	}
}

// BenchmarkAppendStatements counts the statements of one Append with an
// exact expectation (the repository's), with the NOTIFYs the notifier
// sends for them (all but the last, which may still be on its way).
func BenchmarkAppendStatements(b *testing.B) {
	ctx := context.Background()
	s, count := newCountingStore(b)
	res, err := s.Append(ctx, "benchappend-1", es.NoStream, benchEvent())
	if err != nil {
		b.Fatal(err)
	}
	count.reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res, err = s.Append(ctx, "benchappend-1", es.Exact(res.Version), benchEvent()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	count.report(b)
}
