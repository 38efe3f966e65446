package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

func TestAnnouncementPayload(t *testing.T) {
	a := appended("order-1", []es.EventData{{Type: "order.placed"}, {Type: "order.confirmed"}}, es.Position{Commit: 42, Prepare: 7})
	a.merge(appended("stock-SKU", []es.EventData{{Type: "stock.reserved"}}, es.Position{Commit: 40}))
	got := parseAnnouncement(a.payload())
	if got.blind || got.txid != 42 || len(got.cats) != 2 || len(got.types) != 3 {
		t.Fatalf("round trip of %q: %+v", a.payload(), got)
	}
	for _, tc := range []struct {
		f    es.Filter
		want bool
	}{
		{es.Filter{}, true},
		{es.Filter{Categories: []string{"order"}}, true},
		{es.Filter{Categories: []string{"payment"}}, false},
		{es.Filter{Types: []string{"stock.reserved", "x.y"}}, true},
		{es.Filter{Types: []string{"stock.released"}}, false},
		{es.Filter{Categories: []string{"order"}, Types: []string{"order.confirmed"}}, true},
		{es.Filter{Categories: []string{"payment"}, Types: []string{"order.confirmed"}}, false},
	} {
		if m := got.matches(tc.f); m != tc.want {
			t.Errorf("matches(%+v) = %v, want %v", tc.f, m, tc.want)
		}
	}
	for name, p := range map[string]string{
		"empty":         "",
		"other format":  "something else",
		"bad txid":      "ordo1 x c=order",
		"unknown field": "ordo1 1 z=order",
	} {
		if b := parseAnnouncement(p); !b.blind || !b.matches(es.Filter{Categories: []string{"any"}}) {
			t.Errorf("%s payload %q: %+v, want blind", name, p, b)
		}
	}
	spaced := appended("order-1", []es.EventData{{Type: "order placed"}}, es.Position{Commit: 1})
	long := appended("order-1", []es.EventData{{Type: strings.Repeat("x", maxPayload)}}, es.Position{Commit: 1})
	for _, a := range []announcement{spaced, long, blind()} {
		if p := a.payload(); p != "" {
			t.Errorf("payload %.40q…, want empty (blind)", p)
		}
	}
	b := appended("order-1", []es.EventData{{Type: "order.placed"}}, es.Position{Commit: 1})
	b.merge(blind())
	if !b.blind {
		t.Error("merged with a blind announcement: not blind")
	}
}

// readVisible says the line it read below: a subscriber whose filter
// matched nothing there resumes from the line, past the unmatched events.
func TestReadVisibleReturnsTheLine(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, testenv.Database(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	var last es.AppendResult
	for i := range 3 {
		if last, err = s.Append(ctx, fmt.Sprintf("seen-%d", i), es.NoStream, es.EventData{Type: "seen.happened", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	got, line, err := s.readVisible(ctx, es.Start, es.Filter{Categories: []string{"other"}}, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("read of another category: %d events, %v", len(got), err)
	}
	if line <= last.Position.Commit {
		t.Fatalf("line %d, want above the last append's transaction %d", line, last.Position.Commit)
	}
	if got, _, err := s.readVisible(ctx, belowLine(line), es.Filter{}, 10); err != nil || len(got) != 0 {
		t.Fatalf("read from below the line: %d events, %v; want none (all are under it)", len(got), err)
	}
	if got, _, err := s.readVisible(ctx, es.Start, es.Filter{}, 10); err != nil || len(got) != 3 {
		t.Fatalf("read from the start: %d events, %v; want 3", len(got), err)
	}
}
