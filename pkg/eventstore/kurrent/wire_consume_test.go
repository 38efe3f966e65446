package kurrent

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/ordo-platform/ordo/pkg/es"
)

// settledFor returns, in order, what the consumer answered for event id.
func settledFor(n *fakeNode, id uuid.UUID) []settlement {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []settlement
	for _, s := range n.settled {
		if s.id == id {
			out = append(out, s)
		}
	}
	return out
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	waitUntilWithin(t, 15*time.Second, what, ok)
}

func consume(t *testing.T, s *Store, group string, f es.Filter, handle es.Handler) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Consume(ctx, group, f, handle) }()
	var err error
	var stopped atomic.Bool
	stop = func() error {
		if stopped.CompareAndSwap(false, true) {
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func TestWireConsume(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{Group: GroupOptions{MaxRetries: 3}})
	r := seedMixed(n)
	poison := r[4].id // the "order" stream's event fails until fixed
	var fixed atomic.Bool
	var handled atomic.Int32
	handle := func(_ context.Context, e es.Event) error {
		if uuid.UUID(e.ID) == poison && !fixed.Load() {
			return errors.New("cannot handle this yet")
		}
		handled.Add(1)
		return nil
	}
	stop := consume(t, s, "notify", es.Filter{Categories: []string{"order"}, Types: []string{"order.placed"}}, handle)
	waitUntil(t, "the last event to be acked", func() bool { return len(settledFor(n, r[7].id)) == 1 })

	checkGroupCreated(t, n)
	checkSettled(t, n, r, poison)
	if parked, err := s.ParkedMessages(testCtx(t), "notify"); err != nil || parked != 1 {
		t.Fatalf("parked messages: %d, %v; want 1", parked, err)
	}

	fixed.Store(true)
	if err := s.ReplayParked(testCtx(t), "notify"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the replayed event to be acked", func() bool { return len(settledFor(n, poison)) == 5 })
	if last := settledFor(n, poison)[4]; !last.ack {
		t.Errorf("replayed event settled %+v, want ack", last)
	}
	n.mu.Lock()
	replay := n.replays[0].GetOptions()
	n.mu.Unlock()
	if replay.GetGroupName() != "notify" || replay.GetAll() == nil {
		t.Errorf("replay request %v, want group notify on $all", replay)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Consume returned %v after cancel, want context.Canceled", err)
	}
	if handled.Load() != 3 {
		t.Errorf("handler succeeded %d times, want 3", handled.Load())
	}

	// Joining the existing group again is fine.
	stop = consume(t, s, "notify", es.Filter{Categories: []string{"order"}}, handle)
	waitUntil(t, "the second create", func() bool { n.mu.Lock(); defer n.mu.Unlock(); return len(n.creates) == 2 })
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("second Consume returned %v, want context.Canceled", err)
	}
}

func TestWireConsumeRejectsEmptyGroup(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{})
	if err := s.Consume(testCtx(t), "", es.Filter{}, nil); !errors.Is(err, es.ErrInvalid) {
		t.Errorf("got %v, want es.ErrInvalid", err)
	}
}

// checkGroupCreated: the group as created on the wire.
func checkGroupCreated(t *testing.T, n *fakeNode) {
	t.Helper()
	n.mu.Lock()
	create := n.creates[0].GetOptions()
	n.mu.Unlock()
	set := create.GetSettings()
	strategy := set.GetNamedConsumerStrategy() //nolint:staticcheck // the v4 client sends the strategy only in this deprecated field
	if create.GetGroupName() != "notify" || create.GetAll().GetStart() == nil {
		t.Errorf("created %v, want group notify on $all from the start", create)
	}
	if set.GetResolveLinks() || strategy != persistent.CreateReq_Pinned || set.GetMaxRetryCount() != 3 || set.GetMessageTimeoutMs() != 30_000 {
		t.Errorf("group settings %v, want no link resolution, Pinned, 3 retries, 30s timeout", set)
	}
	if re := create.GetAll().GetFilter().GetStreamIdentifier().GetRegex(); re != `^(?:order)(?:-|$)` {
		t.Errorf("group filter %v, want the category regex", create.GetAll().GetFilter())
	}
}

// checkSettled: handled events are acked, one the filter rejects here
// (order.placedTwice) is acked unseen, the poison one is retried 3 times,
// then parked by us.
func checkSettled(t *testing.T, n *fakeNode, r []fakeRecord, poison uuid.UUID) {
	t.Helper()
	for _, rec := range []fakeRecord{r[1], r[5], r[7]} {
		if got := settledFor(n, rec.id); len(got) != 1 || !got[0].ack {
			t.Errorf("%s %s: settled %+v, want one ack", rec.stream, rec.typ, got)
		}
	}
	want := []settlement{
		{group: "notify", id: poison, retries: 0, action: persistent.ReadReq_Nack_Retry},
		{group: "notify", id: poison, retries: 1, action: persistent.ReadReq_Nack_Retry},
		{group: "notify", id: poison, retries: 2, action: persistent.ReadReq_Nack_Retry},
		{group: "notify", id: poison, retries: 3, action: persistent.ReadReq_Nack_Park},
	}
	if diff := cmp.Diff(want, settledFor(n, poison), cmp.AllowUnexported(settlement{})); diff != "" {
		t.Errorf("poison event settlements (-want +got):\n%s", diff)
	}
}
