package postgres_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
)

// TestReadStreamOneStatement: every read, empty or not, of a stream that
// exists or not, is one statement.
func TestReadStreamOneStatement(t *testing.T) {
	s, count := newCountingStore(t)
	ctx := context.Background()
	if _, err := s.Append(ctx, "onestmt-1", es.NoStream, benchEvent(), benchEvent(), benchEvent()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		stream   string
		dir      es.Direction
		from     int64
		want     []int64 // versions
		notFound bool
		query    string
	}{
		{"missing forwards", "onestmt-2", es.Forwards, 0, nil, true, "ReadStreamForwards"},
		{"missing forwards from before the start", "onestmt-2", es.Forwards, -1, nil, true, "ReadStreamForwards"},
		{"missing backwards", "onestmt-2", es.Backwards, es.End, nil, true, "ReadStreamBackwards"},
		{"missing backwards from the first", "onestmt-2", es.Backwards, 0, nil, true, "ReadStreamBackwards"},
		{"missing from a later version", "onestmt-2", es.Forwards, 5, nil, true, "ReadStreamForwardsOrMissing"},
		{"past the end", "onestmt-1", es.Forwards, 3, nil, false, "ReadStreamForwardsOrMissing"},
		{"far past the end", "onestmt-1", es.Forwards, 1 << 40, nil, false, "ReadStreamForwardsOrMissing"},
		{"forwards", "onestmt-1", es.Forwards, 0, []int64{0, 1, 2}, false, "ReadStreamForwards"},
		{"forwards from before the start", "onestmt-1", es.Forwards, -1, []int64{0, 1, 2}, false, "ReadStreamForwards"},
		{"forwards from a later version", "onestmt-1", es.Forwards, 1, []int64{1, 2}, false, "ReadStreamForwardsOrMissing"},
		{"forwards from the last", "onestmt-1", es.Forwards, 2, []int64{2}, false, "ReadStreamForwardsOrMissing"},
		{"backwards", "onestmt-1", es.Backwards, es.End, []int64{2, 1, 0}, false, "ReadStreamBackwards"},
		{"backwards from the first", "onestmt-1", es.Backwards, 0, []int64{0}, false, "ReadStreamBackwards"},
		{"backwards from past the end", "onestmt-1", es.Backwards, 7, []int64{2, 1, 0}, false, "ReadStreamBackwards"},
	}
	for _, tc := range cases {
		count.reset()
		got, err := s.ReadStream(ctx, tc.stream, tc.dir, tc.from, 10)
		if tc.notFound != errors.Is(err, es.ErrStreamNotFound) || (err != nil && !tc.notFound) {
			t.Errorf("%s: error %v, want not found: %v", tc.name, err, tc.notFound)
		}
		var versions []int64
		for _, e := range got {
			versions = append(versions, e.Version)
		}
		if !slices.Equal(versions, tc.want) {
			t.Errorf("%s: versions %v, want %v", tc.name, versions, tc.want)
		}
		n := count.counts()
		delete(n, "Notify") // the notifier's, for the append above
		if !maps.Equal(n, map[string]int{tc.query: 1}) {
			t.Errorf("%s: statements %v, want one %s", tc.name, n, tc.query)
		}
	}
}

// CountAll counts what ReadAll would return, filter and limit included,
// and gives the earliest recorded time among those events.
func TestCountAll(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Append(ctx, "countall-1", es.NoStream, benchEvent(), benchEvent(), benchEvent()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "countnoise-1", es.NoStream, benchEvent()); err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	mine := es.Filter{Categories: []string{"countall"}}
	all, err := s.ReadAll(ctx, es.Start, mine, 100)
	if err != nil || len(all) != 3 {
		t.Fatalf("ReadAll: %d events, %v", len(all), err)
	}
	for _, tc := range []struct {
		name  string
		from  es.Position
		f     es.Filter
		limit int
		want  int
		first int // index in all of the oldest counted event; -1 for none
	}{
		{"all of a category", es.Start, mine, 100, 3, 0},
		{"capped", es.Start, mine, 2, 2, 0},
		{"after the first", all[0].Position, mine, 100, 2, 1},
		{"after the last", all[2].Position, mine, 100, 0, -1},
		{"both categories", es.Start, es.Filter{Categories: []string{"countall", "countnoise"}}, 100, 4, 0},
	} {
		n, oldest, err := s.CountAll(ctx, tc.from, tc.f, tc.limit)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, gerr := s.ReadAll(ctx, tc.from, tc.f, tc.limit)
		if gerr != nil {
			t.Fatal(gerr)
		}
		if n != tc.want || n != len(got) {
			t.Errorf("%s: counted %d, want %d (ReadAll returns %d)", tc.name, n, tc.want, len(got))
		}
		switch {
		case tc.first < 0 && !oldest.IsZero():
			t.Errorf("%s: oldest %v, want zero", tc.name, oldest)
		case tc.first >= 0 && !oldest.Equal(all[tc.first].RecordedAt):
			t.Errorf("%s: oldest %v, want %v", tc.name, oldest, all[tc.first].RecordedAt)
		}
	}
}
