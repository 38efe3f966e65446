package projection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/es/estest"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

// The sample projection counts events per "item" stream, keeps the set of
// item streams, and sums the events' n with a read-modify-write, so a
// double-applied event shows in every one of its keys.
func sample() Projection {
	return Projection{
		Name:   "items",
		Filter: es.Filter{Categories: []string{"item"}},
		Apply: func(ctx context.Context, e es.Event, tx *Tx) error {
			var body struct{ N int64 }
			if err := json.Unmarshal(e.Data, &body); err != nil {
				return err
			}
			sum, err := tx.Reader().Get(ctx, tx.Key("sum")).Int64()
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			tx.Pipe().Incr(ctx, tx.Key("count", e.StreamID))
			tx.Pipe().SAdd(ctx, tx.Key("streams"), e.StreamID)
			tx.Pipe().Set(ctx, tx.Key("sum"), sum+body.N, 0)
			return nil
		},
	}
}

// expected folds every stored event the way sample does, in plain Go: the
// model a rebuild from zero must produce.
func expected(t *testing.T, s es.Store) map[string]string {
	t.Helper()
	events := estest.ReadAll(t, s, es.Start, sample().Filter)
	model, counts, streams, sum := map[string]string{}, map[string]int{}, []string{}, int64(0)
	for _, e := range events {
		var body struct{ N int64 }
		if err := json.Unmarshal(e.Data, &body); err != nil {
			t.Fatal(err)
		}
		if counts[e.StreamID]++; counts[e.StreamID] == 1 {
			streams = append(streams, e.StreamID)
		}
		sum += body.N
	}
	for s, n := range counts {
		model["count:"+s] = strconv.Itoa(n)
	}
	if len(events) > 0 {
		sort.Strings(streams)
		model["streams"] = strings.Join(streams, ",")
		model["sum"] = strconv.FormatInt(sum, 10)
	}
	return model
}

// dump reads every model key of sp (not the checkpoint) as a string: a set
// as its sorted members joined by commas.
func dump(t *testing.T, rdb *redis.Client, sp Space) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, escapeGlob(sp.Key())+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		rel := strings.TrimPrefix(k, sp.Key())
		if rel == checkpointPart {
			continue
		}
		out[rel] = readValue(t, rdb, k)
	}
	return out
}

func readValue(t *testing.T, rdb *redis.Client, key string) string {
	t.Helper()
	ctx := context.Background()
	typ, err := rdb.Type(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if typ == "set" {
		members, err := rdb.SMembers(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(members)
		return strings.Join(members, ",")
	}
	v, err := rdb.Get(ctx, key).Result()
	if err != nil {
		t.Fatalf("get %s (%s): %v", key, typ, err)
	}
	return v
}

// newStore opens a PostgreSQL store on a fresh database of its own.
func newStore(t *testing.T) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(pool); err != nil {
		t.Fatal(err)
	}
	s := postgres.New(pool, postgres.Options{PollInterval: 50 * time.Millisecond})
	t.Cleanup(func() {
		s.Close()
		pool.Close()
	})
	return s
}

// newRunner returns a Runner of sample on s, with a Redis key prefix of its own.
func newRunner(t *testing.T, s es.Store, opts Options) (*Runner, *redis.Client) {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	opts.Prefix = prefix
	if opts.PollInterval == 0 {
		opts.PollInterval = 2 * time.Millisecond
	}
	r, err := New(s, rdb, sample(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r, rdb
}

// add appends one item event with body {"n": n} and returns its position.
func add(t *testing.T, s es.Store, stream string, n int) es.Position {
	t.Helper()
	data := json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))
	res, err := s.Append(context.Background(), stream, es.Any, es.EventData{Type: "thing.happened", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

// start runs r until the returned stop is called; stop returns Run's error
// unless it is the cancellation stop caused.
func start(t *testing.T, r *Runner) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return func() error {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}
}

// catchUp waits until r has applied everything up to pos. Tests wait for
// the last position they appended, not the store's head: the head can lag
// behind a committed append while any transaction on the server (another
// test's, in another database) is older than it.
func catchUp(t *testing.T, r *Runner, pos es.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, pos); err != nil {
		t.Fatal(err)
	}
}

// visible waits until the store's head has reached pos (see catchUp).
func visible(t *testing.T, s es.Store, pos es.Position) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		head, err := s.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !head.Less(pos) {
			return
		}
	}
	t.Fatalf("event at %s did not become visible", pos)
}

func current(t *testing.T, r *Runner) Space {
	t.Helper()
	sp, err := r.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestApplyCheckpointAndReplay(t *testing.T) {
	s := newStore(t)
	r, rdb := newRunner(t, s, Options{})
	var last, noise es.Position
	for i := range 20 {
		last = add(t, s, fmt.Sprintf("item-%d", i%7), i)
		noise = add(t, s, "noise-1", i) // filtered out: must not show in the model
	}
	stop := start(t, r)
	catchUp(t, r, noise)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	sp := current(t, r)
	want := expected(t, s)
	if diff := cmp.Diff(want, dump(t, rdb, sp)); diff != "" {
		t.Fatalf("model (-want +got):\n%s", diff)
	}
	if got := r.Checkpoint(); got != last {
		t.Errorf("Checkpoint() = %s, want the last item event %s", got, last)
	}
	if got, _ := loadCheckpoint(context.Background(), rdb, sp); got != last {
		t.Errorf("stored checkpoint = %s, want %s", got, last)
	}

	// Replay: deliver every event again from Start, as a subscription from
	// an older checkpoint would. The stored checkpoint makes each a no-op.
	events := estest.ReadAll(t, s, es.Start, sample().Filter)
	for _, e := range events {
		if err := r.step(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(want, dump(t, rdb, sp)); diff != "" {
		t.Fatalf("model changed by a replay (-before +after):\n%s", diff)
	}
}

func TestReaderBeforeFirstRun(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	key, err := NewReader(rdb, prefix, "items").Key(context.Background(), "streams")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.SCard(context.Background(), key).Result(); err != nil || n != 0 {
		t.Fatalf("SCARD %s = %d, %v; want an empty model, no error", key, n, err)
	}
}

// A step never re-creates a deleted pointer: the space's checkpoint went
// with it, so it fails and says what is gone.
func TestStepFailsWhenThePointerIsGone(t *testing.T) {
	s := newStore(t)
	r, rdb := newRunner(t, s, Options{})
	pos := add(t, s, "item-1", 1)
	visible(t, s, pos)
	ctx := context.Background()
	if _, err := r.ensureSpace(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, r.pointerKey()).Err(); err != nil {
		t.Fatal(err)
	}
	events, err := s.ReadAll(ctx, es.Start, sample().Filter, 0)
	if err != nil || len(events) == 0 {
		t.Fatalf("ReadAll = %d events, %v", len(events), err)
	}
	err = r.step(ctx, events[0])
	if !errors.Is(err, redis.Nil) || !strings.Contains(err.Error(), r.pointerKey()+" is gone") {
		t.Fatalf("step = %v, want an error naming the missing pointer", err)
	}
	if n := rdb.Exists(ctx, r.pointerKey()).Val(); n != 0 {
		t.Errorf("step re-created the pointer")
	}
}
