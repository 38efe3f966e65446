package storetest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
)

func testInvalid(t *testing.T, h Harness) {
	s := h.New(t)
	stream := category(t) + "-bad"
	good := ev("x.happened", 0)
	withData := func(d []byte) es.EventData { e := ev("x.happened", 0); e.Data = d; return e }
	withType := func(typ string) es.EventData { e := ev("x.happened", 0); e.Type = typ; return e }
	dup := ev("x.happened", 1)
	cases := []struct {
		name     string
		stream   string
		expected es.ExpectedVersion
		events   []es.EventData
	}{
		{"empty stream id", "", es.Any, []es.EventData{good}},
		{"stream id with space", "a b", es.Any, []es.EventData{good}},
		{"stream id too long", strings.Repeat("s", es.MaxStreamIDLength+1), es.Any, []es.EventData{good}},
		{"unknown expected version", stream, es.ExpectedVersion{}, []es.EventData{good}},
		{"negative exact version", stream, es.Exact(-3), []es.EventData{good}},
		{"no events", stream, es.Any, nil},
		{"nil data", stream, es.Any, []es.EventData{withData(nil)}},
		{"non-JSON data", stream, es.Any, []es.EventData{withData([]byte("{not json"))}},
		{"oversize event", stream, es.Any, []es.EventData{withData(json.RawMessage(`"` + strings.Repeat("x", es.MaxEventSize) + `"`))}},
		{"empty type", stream, es.Any, []es.EventData{withType("")}},
		{"duplicate id in batch", stream, es.Any, []es.EventData{dup, dup}},
		{"bad event after good one", stream, es.Any, []es.EventData{good, withData([]byte("nope"))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(ctxT(t), tc.stream, tc.expected, tc.events...)
			var ie *es.InvalidError
			if !errors.Is(err, es.ErrInvalid) || !errors.As(err, &ie) {
				t.Fatalf("got %v, want *es.InvalidError", err)
			}
		})
	}
	if _, err := s.ReadStream(ctxT(t), stream, es.Forwards, 0, 10); !errors.Is(err, es.ErrStreamNotFound) {
		t.Fatalf("after rejected appends, read %s: got %v, want ErrStreamNotFound (nothing written)", stream, err)
	}
	if _, err := s.ReadStream(ctxT(t), "", es.Forwards, 0, 10); !errors.Is(err, es.ErrInvalid) {
		t.Fatalf("read empty stream id: got %v, want ErrInvalid", err)
	}
}

func testReadStream(t *testing.T, h Harness) {
	s := h.New(t)
	stream := category(t) + "-r"
	if _, err := s.ReadStream(ctxT(t), stream, es.Forwards, 0, 10); !errors.Is(err, es.ErrStreamNotFound) {
		t.Fatalf("missing stream: got %v, want ErrStreamNotFound", err)
	}
	mustAppend(t, s, stream, es.NoStream, evs("x.happened", 0, 10)...)
	check := func(dir es.Direction, from int64, limit int, want ...int) {
		t.Helper()
		got, err := s.ReadStream(ctxT(t), stream, dir, from, limit)
		if err != nil {
			t.Fatalf("read dir %d from %d limit %d: %v", dir, from, limit, err)
		}
		var ns []int
		for _, e := range got {
			ns = append(ns, num(t, e))
		}
		if !equalInts(ns, want) {
			t.Fatalf("read dir %d from %d limit %d: got %v, want %v", dir, from, limit, ns, want)
		}
	}
	check(es.Forwards, 0, 3, 0, 1, 2)
	check(es.Forwards, 8, 5, 8, 9)
	check(es.Forwards, 10, 5)
	check(es.Backwards, es.End, 3, 9, 8, 7)
	check(es.Backwards, 2, 5, 2, 1, 0)
	check(es.Backwards, 20, 2, 9, 8)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testReadAll(t *testing.T, h Harness) {
	s := h.New(t)
	cat, other := category(t), category(t)
	for i := 0; i < 5; i++ {
		mustAppend(t, s, cat+"-1", es.Any, ev("a.done", 2*i))
		mustAppend(t, s, cat+"-2", es.Any, ev("b.done", 2*i+1))
		mustAppend(t, s, other+"-1", es.Any, ev("a.done", 100+i))
	}
	all := readAllCat(t, s, cat, 3)
	if len(all) != 10 {
		t.Fatalf("read all of %s: %d events, want 10", cat, len(all))
	}
	for i, e := range all {
		if num(t, e) != i {
			t.Fatalf("event %d out of order: n=%d", i, num(t, e))
		}
		if i > 0 && !all[i-1].Position.Less(e.Position) {
			t.Fatalf("positions not increasing at %d: %s then %s", i, all[i-1].Position, e.Position)
		}
	}
	// from is exclusive
	rest, err := s.ReadAll(ctxT(t), all[4].Position, es.Filter{Categories: []string{cat}}, 100)
	if err != nil || len(rest) != 5 || num(t, rest[0]) != 5 {
		t.Fatalf("read after %s: %d events (err %v), want 5 starting at n=5", all[4].Position, len(rest), err)
	}
	typed, err := s.ReadAll(ctxT(t), es.Start, es.Filter{Categories: []string{cat, other}, Types: []string{"b.done"}}, 100)
	if err != nil || len(typed) != 5 {
		t.Fatalf("type filter: %d events (err %v), want 5", len(typed), err)
	}
	for _, e := range typed {
		if e.Type != "b.done" {
			t.Fatalf("type filter let through %s", e.Type)
		}
	}
	head, err := s.Head(ctxT(t))
	if err != nil || head.Less(all[9].Position) {
		t.Fatalf("head %s (err %v) is before the last event %s", head, err, all[9].Position)
	}
}
