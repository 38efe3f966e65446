package kurrent

import (
	"errors"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/ordo-platform/ordo/pkg/es"
)

func versions(t *testing.T, got []es.Event, err error) []int64 {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var vs []int64
	for _, e := range got {
		vs = append(vs, e.Version)
	}
	return vs
}

func TestWireReadStream(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{})
	for i := range 10 {
		n.seed("stock-A", "stock.moved", `{"n":`+itoa(i)+`}`)
	}
	cases := []struct {
		dir   es.Direction
		from  int64
		limit int
		want  []int64
	}{
		{es.Forwards, 0, 3, []int64{0, 1, 2}},
		{es.Forwards, 8, 5, []int64{8, 9}},
		{es.Forwards, 10, 5, nil},
		{es.Backwards, es.End, 3, []int64{9, 8, 7}},
		{es.Backwards, 2, 5, []int64{2, 1, 0}},
		{es.Backwards, 20, 2, []int64{9, 8}},
	}
	for _, tc := range cases {
		got, err := s.ReadStream(testCtx(t), "stock-A", tc.dir, tc.from, tc.limit)
		if diff := cmp.Diff(tc.want, versions(t, got, err)); diff != "" {
			t.Errorf("dir %d from %d limit %d (-want +got):\n%s", tc.dir, tc.from, tc.limit, diff)
		}
	}
	// What went over the wire for the last two kinds of read.
	reads := n.readRequests()
	end := reads[3].GetOptions()
	if end.GetReadDirection() != streams.ReadReq_Options_Backwards || end.GetStream().GetEnd() == nil || end.GetCount() != 3 {
		t.Errorf("backwards from es.End sent %v", end)
	}
	fwd := reads[1].GetOptions()
	if fwd.GetReadDirection() != streams.ReadReq_Options_Forwards || fwd.GetStream().GetRevision() != 8 || fwd.GetResolveLinks() {
		t.Errorf("forwards from 8 sent %v", fwd)
	}
}

func TestWireReadStreamNotFound(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{})
	n.seed("order-soft", "x", `{}`)
	n.seed("order-tomb", "x", `{}`)
	n.mu.Lock()
	n.softDeleted["order-soft"] = true
	n.tombstoned["order-tomb"] = true
	n.mu.Unlock()
	for _, stream := range []string{"order-never", "order-soft", "order-tomb"} {
		for _, dir := range []es.Direction{es.Forwards, es.Backwards} {
			if _, err := s.ReadStream(testCtx(t), stream, dir, 0, 10); !errors.Is(err, es.ErrStreamNotFound) {
				t.Errorf("%s dir %d: got %v, want es.ErrStreamNotFound", stream, dir, err)
			}
		}
	}
}

// seedMixed writes, in $all order: a system event, order-1 #0, a stats
// event, orders-1 (another category sharing the prefix), order (no id
// part), order-1 #1 of a type sharing a prefix, stock-1, order-2.
func seedMixed(n *fakeNode) []fakeRecord {
	return []fakeRecord{
		n.seed("$$order-1", "$metadata", `{}`),
		n.seed("order-1", "order.placed", `{"n":0}`),
		n.seed("$stats-node", "$statsCollected", `{}`),
		n.seed("orders-1", "order.placed", `{"n":1}`),
		n.seed("order", "order.placed", `{"n":2}`),
		n.seed("order-1", "order.placedTwice", `{"n":3}`),
		n.seed("stock-1", "stock.reserved", `{"n":4}`),
		n.seed("order-2", "order.placed", `{"n":5}`),
	}
}

func ids(got []es.Event) []uuid.UUID {
	var out []uuid.UUID
	for _, e := range got {
		out = append(out, uuid.UUID(e.ID))
	}
	return out
}

func recIDs(recs ...fakeRecord) []uuid.UUID {
	var out []uuid.UUID
	for _, r := range recs {
		out = append(out, r.id)
	}
	return out
}

func TestWireReadAll(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{PageSize: 2}) // many pages, so paging is exercised
	r := seedMixed(n)
	pos := func(i int) es.Position { return es.Position{Commit: r[i].commit, Prepare: r[i].prepare} }
	cases := []struct {
		name  string
		from  es.Position
		f     es.Filter
		limit int
		want  []uuid.UUID
	}{
		{"everything but system events", es.Start, es.Filter{}, 100, recIDs(r[1], r[3], r[4], r[5], r[6], r[7])},
		{"limit", es.Start, es.Filter{}, 2, recIDs(r[1], r[3])},
		{"from is exclusive", pos(3), es.Filter{}, 100, recIDs(r[4], r[5], r[6], r[7])},
		{"from a system event", pos(2), es.Filter{}, 100, recIDs(r[3], r[4], r[5], r[6], r[7])},
		{"category is exact", es.Start, es.Filter{Categories: []string{"order"}}, 100, recIDs(r[1], r[4], r[5], r[7])},
		{"type is exact", es.Start, es.Filter{Types: []string{"order.placed"}}, 100, recIDs(r[1], r[3], r[4], r[7])},
		{"category and type", es.Start, es.Filter{Categories: []string{"order", "stock"}, Types: []string{"order.placed", "stock.reserved"}}, 100, recIDs(r[1], r[4], r[6], r[7])},
		{"filtered limit", pos(1), es.Filter{Categories: []string{"order"}}, 2, recIDs(r[4], r[5])},
		{"after the end", pos(7), es.Filter{}, 100, nil},
	}
	for _, tc := range cases {
		got, err := s.ReadAll(testCtx(t), tc.from, tc.f, tc.limit)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	for _, req := range n.readRequests() {
		if o := req.GetOptions(); o.GetReadDirection() != streams.ReadReq_Options_Forwards || o.GetResolveLinks() {
			t.Fatalf("ReadAll sent %v, want forwards without link resolution", o)
		}
	}
}

func TestWireHead(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{})
	n.seed("$stats-node", "$statsCollected", `{}`)
	if head, err := s.Head(testCtx(t)); err != nil || !head.IsZero() {
		t.Fatalf("head of a store with only system events: %s, %v; want es.Start", head, err)
	}
	res := mustAppend(t, s, "order-h", es.NoStream, event("x", 0))
	for range 150 { // more than one backwards page of system events
		n.seed("$stats-node", "$statsCollected", `{}`)
	}
	head, err := s.Head(testCtx(t))
	if err != nil || head != res.Position {
		t.Fatalf("head %s (%v), want the last user event at %s", head, err, res.Position)
	}
}
