package projection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

// itemEvent returns the nth event (from 1) of a made-up store for sample.
func itemEvent(n int, stream string) es.Event {
	return es.Event{
		EventData: es.EventData{Type: "thing.happened", Data: json.RawMessage(`{"n":1}`)},
		StreamID:  stream,
		Position:  es.Position{Commit: uint64(n), Prepare: uint64(n)},
	}
}

// A step sends its WATCH in a pipeline go-redis does not track, so it must
// release the watch itself when it ends without EXEC: otherwise the watch
// stays on the pooled connection and aborts the next transaction there.
func TestStepReleasesItsWatch(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	opts := *rdb.Options()
	opts.PoolSize = 1 // every transaction runs on the step's connection
	one := redis.NewClient(&opts)
	t.Cleanup(func() { _ = one.Close() })
	ctx := context.Background()

	failing := sample()
	failing.Apply = func(ctx context.Context, e es.Event, tx *Tx) error {
		if e.StreamID == "item-bad" {
			return errors.New("cannot apply")
		}
		return sample().Apply(ctx, e, tx)
	}
	r, err := New(nil, one, failing, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := r.ensureSpace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.step(ctx, itemEvent(1, "item-1")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		e    es.Event
		fail bool
	}{
		{"skipped replay", itemEvent(1, "item-1"), false},
		{"failed apply", itemEvent(2, "item-bad"), true},
	} {
		if err := r.step(ctx, c.e); (err != nil) != c.fail {
			t.Fatalf("%s: step = %v", c.name, err)
		}
		// Touch every key the step watched, from another connection.
		for _, k := range []string{r.pointerKey(), sp.checkpointKey()} {
			v := rdb.Get(ctx, k).Val()
			if err := rdb.Set(ctx, k, v, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		err := one.Watch(ctx, func(tx *redis.Tx) error {
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				return p.Set(ctx, prefix+"probe", c.name, 0).Err()
			})
			return err
		})
		if err != nil {
			t.Fatalf("after a %s, an unrelated transaction on the connection: %v", c.name, err)
		}
	}
}

// Another replica's rebuild switches the space while this Runner's step
// sits between its reads and its EXEC. The EXEC must abort, and the step
// and every later one must go to the new space, which this Runner learns of
// only from the pointer.
func TestStepFollowsAnotherRunnersSwitch(t *testing.T) {
	s := newStore(t)
	r, rdb := newRunner(t, s, Options{RetireAfter: time.Millisecond})
	other, err := New(s, rdb, sample(), r.opts)
	if err != nil {
		t.Fatal(err)
	}
	var rebuildErr error
	var once sync.Once
	var committed atomic.Bool
	r.hook = func(stage string, e es.Event) error {
		switch {
		case e.StreamID != "item-2":
		case stage == "applied":
			once.Do(func() { rebuildErr = other.Rebuild(context.Background()) })
		case stage == "committed":
			committed.Store(true)
		}
		return nil
	}
	catchUpTo := add(t, s, "item-1", 1)
	stop := start(t, r)
	catchUp(t, r, catchUpTo)
	old := current(t, r)

	catchUp(t, r, add(t, s, "item-2", 2))
	for i := range 5 {
		catchUpTo = add(t, s, fmt.Sprintf("item-%d", 3+i), 3+i)
	}
	catchUp(t, r, catchUpTo)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	other.Close()
	if rebuildErr != nil {
		t.Fatal(rebuildErr)
	}
	if committed.Load() {
		t.Error("the step racing the switch committed to the old space")
	}
	checkSwitched(t, r, rdb, s, old)
}
