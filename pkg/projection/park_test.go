package projection

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

// TestParkedEventPassesAndReplayRebuilds: an event Apply cannot process is
// parked, the projection goes on past it, and replaying it once Apply is
// fixed rebuilds a model that has it in its place.
func TestParkedEventPassesAndReplayRebuilds(t *testing.T) {
	s := newStore(t)
	quiet := slog.New(slog.DiscardHandler)
	lot := park.New(s, park.NewPostgres(s.Pool()), park.Options{Log: quiet, Backoff: time.Millisecond})
	var fixed atomic.Bool
	p := sample()
	apply := p.Apply
	p.Apply = func(ctx context.Context, e es.Event, tx *Tx) error {
		var body struct{ N int64 }
		if err := json.Unmarshal(e.Data, &body); err == nil && body.N < 0 && !fixed.Load() {
			return es.Permanent(errors.New("negative amounts are not supported"))
		}
		return apply(ctx, e, tx)
	}
	rdb, prefix := testenv.Redis(t)
	r, err := New(s, rdb, p, Options{Prefix: prefix, PollInterval: 2 * time.Millisecond, RetireAfter: time.Millisecond, Park: lot})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)

	add(t, s, "item-1", 5)
	poison := add(t, s, "item-2", -3)
	last := add(t, s, "item-1", 7)
	stop := start(t, r)
	t.Cleanup(func() { _ = stop() })
	catchUp(t, r, poison) // the checkpoint moved past the parked event
	catchUp(t, r, last)

	model := dump(t, rdb, current(t, r))
	if model["sum"] != "12" || model["count:item-2"] != "" {
		t.Fatalf("model %v: want sum 12 without the parked event", model)
	}
	entries, err := lot.List(t.Context(), park.Parked, 0)
	if err != nil || len(entries) != 1 || entries[0].Subscriber != ParkName(prefix, "items") || entries[0].Position != poison {
		t.Fatalf("parked entries %+v, %v; want the event at %s", entries, err, poison)
	}

	if _, err := lot.Replay(t.Context(), entries[0].ID); !errors.Is(err, park.ErrReplayFailed) {
		t.Fatalf("replay before the fix: %v, want ErrReplayFailed", err)
	}
	fixed.Store(true)
	res, err := lot.Replay(t.Context(), entries[0].ID)
	if err != nil || res.Entry.Status != park.Replayed {
		t.Fatalf("replay after the fix: %+v, %v", res, err)
	}
	if diff := cmp.Diff(expected(t, s), dump(t, rdb, current(t, r))); diff != "" {
		t.Errorf("model after the replay (-want +got):\n%s", diff)
	}
	if res, err := lot.Replay(t.Context(), entries[0].ID); err != nil || !res.Already {
		t.Errorf("second replay: %+v, %v; want already replayed", res, err)
	}
}
