package projection

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A projection that receives no events still notices that Redis lost its
// key space (a memory-only server restarted empty), and running it again
// rebuilds the model from the store.
func TestRunEndsWhenTheSpaceIsGone(t *testing.T) {
	s := newStore(t)
	r, rdb := newRunner(t, s, Options{SpaceCheck: 10 * time.Millisecond})
	add(t, s, "item-1", 1)
	pos := add(t, s, "item-2", 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	catchUp(t, r, pos)

	var keys []string
	iter := rdb.Scan(ctx, 0, r.opts.Prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil || len(keys) == 0 {
		t.Fatalf("scan the model's keys: %d, %v", len(keys), err)
	}
	if err := rdb.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrSpaceGone) {
			t.Fatalf("Run = %v, want ErrSpaceGone", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not notice that its key space was deleted")
	}

	stop := start(t, r)
	catchUp(t, r, pos)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(expected(t, s), dump(t, rdb, current(t, r))); diff != "" {
		t.Fatalf("rebuilt model (-want +got):\n%s", diff)
	}
}
