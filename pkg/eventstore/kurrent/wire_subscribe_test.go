package kurrent

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/ordo-platform/ordo/pkg/es"
)

// collector runs Subscribe in the background and keeps what it delivers.
type collector struct {
	mu     sync.Mutex
	got    []es.Event
	cancel context.CancelFunc
	done   chan error
}

func subscribe(t *testing.T, s *Store, from es.Position, f es.Filter) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{cancel: cancel, done: make(chan error, 1)}
	go func() {
		c.done <- s.Subscribe(ctx, from, f, func(_ context.Context, e es.Event) error {
			c.mu.Lock()
			c.got = append(c.got, e)
			c.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-c.done; !errors.Is(err, context.Canceled) && !errors.Is(err, ErrClosed) {
			t.Errorf("Subscribe ended with %v", err)
		}
	})
	return c
}

// waitFor waits until n events arrived, then a little longer so that
// duplicates would show.
func (c *collector) waitFor(t *testing.T, n int) []uuid.UUID {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c.mu.Lock()
		have := len(c.got)
		c.mu.Unlock()
		if have >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber has %d events, want %d", have, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	return ids(c.got)
}

// subscriptions returns the subscription requests the node received.
func subscriptions(n *fakeNode) []*streams.ReadReq_Options {
	var out []*streams.ReadReq_Options
	for _, r := range n.readRequests() {
		if r.GetOptions().GetSubscription() != nil {
			out = append(out, r.GetOptions())
		}
	}
	return out
}

func waitSubscriptions(t *testing.T, n *fakeNode, count int) []*streams.ReadReq_Options {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(subscriptions(n)) < count {
		if time.Now().After(deadline) {
			t.Fatalf("node saw %d subscription requests, want %d", len(subscriptions(n)), count)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return subscriptions(n)
}

func TestWireSubscribeSendsServerFilter(t *testing.T) {
	cases := []struct {
		f      es.Filter
		onType bool
		regex  string
	}{
		{es.Filter{Categories: []string{"order", "stock.v2"}}, false, `^(?:order|stock\.v2)(?:-|$)`},
		{es.Filter{Categories: []string{"order"}, Types: []string{"order.placed"}}, false, `^(?:order)(?:-|$)`},
		{es.Filter{Types: []string{"order.placed", "a+b"}}, true, `^(?:order\.placed|a\+b)$`},
		{es.Filter{}, true, `^[^\$].*`},
	}
	for _, tc := range cases {
		n := startFake(t)
		s := openFake(t, n, Options{})
		subscribe(t, s, es.Start, tc.f)
		o := waitSubscriptions(t, n, 1)[0]
		expr := o.GetFilter().GetStreamIdentifier()
		if tc.onType {
			expr = o.GetFilter().GetEventType()
		}
		if expr.GetRegex() != tc.regex || len(expr.GetPrefix()) != 0 {
			t.Errorf("filter %+v: sent %v, want regex %s on the %s", tc.f, o.GetFilter(), tc.regex, map[bool]string{false: "stream id", true: "event type"}[tc.onType])
		}
		if o.GetAll().GetStart() == nil || o.GetResolveLinks() {
			t.Errorf("filter %+v: sent %v, want $all from the start without link resolution", tc.f, o)
		}
	}
}

func TestWireSubscribeCatchUpLiveAndDrop(t *testing.T) {
	n := startFake(t)
	n.dropAfter = 3 // the server drops the first subscription after 3 events
	s := openFake(t, n, Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	r := seedMixed(n)
	c := subscribe(t, s, es.Start, es.Filter{Categories: []string{"order"}, Types: []string{"order.placed"}})
	live := n.seed("order-3", "order.placed", `{"n":6}`)
	got := c.waitFor(t, 4)
	if diff := cmp.Diff(recIDs(r[1], r[4], r[7], live), got); diff != "" {
		t.Fatalf("delivered (-want +got):\n%s", diff)
	}
	subs := subscriptions(n)
	if len(subs) != 2 {
		t.Fatalf("%d subscription requests, want 2 (one resubscription after the drop)", len(subs))
	}
	// The server sent order-1, order, order-1 (order.placedTwice, filtered
	// here) before dropping: the resubscription starts after that one.
	p := subs[1].GetAll().GetPosition()
	if p == nil || p.GetCommitPosition() != r[5].commit || p.GetPreparePosition() != r[5].prepare {
		t.Errorf("resubscribed from %v, want the last event received (%d/%d)", subs[1].GetAll(), r[5].commit, r[5].prepare)
	}
	more := n.seed("order-4", "order.placed", `{"n":7}`)
	if got := c.waitFor(t, 5); len(got) != 5 || got[4] != more.id {
		t.Errorf("after resubscription: %v, want the new event last", got)
	}
}

func TestWireSubscribeFromIsExclusive(t *testing.T) {
	for _, inclusive := range []bool{false, true} {
		n := startFake(t)
		n.subscribeInclusive = inclusive // a server that sends the event at from again
		s := openFake(t, n, Options{})
		r := seedMixed(n)
		from := es.Position{Commit: r[4].commit, Prepare: r[4].prepare}
		c := subscribe(t, s, from, es.Filter{})
		if diff := cmp.Diff(recIDs(r[5], r[6], r[7]), c.waitFor(t, 3)); diff != "" {
			t.Errorf("inclusive server %v: delivered (-want +got):\n%s", inclusive, diff)
		}
		o := subscriptions(n)[0].GetAll().GetPosition()
		if o.GetCommitPosition() != r[4].commit || o.GetPreparePosition() != r[4].prepare {
			t.Errorf("subscribed from %v, want %d/%d", o, r[4].commit, r[4].prepare)
		}
	}
}

func TestWireSubscribeEnds(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{})
	seedMixed(n)
	boom := errors.New("boom")
	err := s.Subscribe(testCtx(t), es.Start, es.Filter{}, func(context.Context, es.Event) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("handler error: Subscribe returned %v, want it wrapped", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(ctx, es.Start, es.Filter{}, func(context.Context, es.Event) error { return nil })
	}()
	waitSubscriptions(t, n, 2)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancel: Subscribe returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe did not return after cancel")
	}

	done = make(chan error, 1)
	go func() {
		done <- s.Subscribe(context.Background(), es.Start, es.Filter{}, func(context.Context, es.Event) error { return nil })
	}()
	waitSubscriptions(t, n, 3)
	_ = s.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("close: Subscribe returned %v, want ErrClosed", err)
	}
}

// TestWireSubscribeSurvivesRestart takes the node away long enough for the
// client to give up rediscovery for good, then brings it back on the same
// address: the store replaces the client and the subscription carries on.
func TestWireSubscribeSurvivesRestart(t *testing.T) {
	n := startFake(t)
	s, err := Open(testCtx(t), n.url()+"&maxDiscoverAttempts=2&discoveryInterval=20", Options{
		Logger: quiet(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	first := s.current()
	before := n.seed("order-1", "order.placed", `{"n":0}`)
	c := subscribe(t, s, es.Start, es.Filter{Categories: []string{"order"}})
	c.waitFor(t, 1)

	n.stop()
	time.Sleep(600 * time.Millisecond)
	n.listen(t, n.addr)
	after := n.seed("order-2", "order.placed", `{"n":1}`)

	if diff := cmp.Diff(recIDs(before, after), c.waitFor(t, 2)); diff != "" {
		t.Errorf("delivered across the restart (-want +got):\n%s", diff)
	}
	if s.current() == first {
		t.Errorf("the client that gave up is still in use")
	}
	if _, err := s.Append(testCtx(t), "order-3", es.NoStream, event("x", 0)); err != nil {
		t.Errorf("append after the restart: %v", err)
	}
}
