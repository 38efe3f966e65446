package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
)

func wantConflict(t *testing.T, err error, actual int64) {
	t.Helper()
	var ce *es.ConcurrencyError
	if !errors.As(err, &ce) || !errors.Is(err, es.ErrConcurrency) {
		t.Fatalf("got error %v, want *es.ConcurrencyError", err)
	}
	if ce.Actual != actual {
		t.Errorf("ConcurrencyError.Actual = %d, want %d", ce.Actual, actual)
	}
}

func wantVersions(t *testing.T, s es.Store, stream string, n int) {
	t.Helper()
	got := readStream(t, s, stream)
	if len(got) != n {
		t.Fatalf("%s has %d events, want %d", stream, len(got), n)
	}
	for i, e := range got {
		if e.Version != int64(i) {
			t.Fatalf("%s event %d has version %d", stream, i, e.Version)
		}
	}
}

func testAppend(t *testing.T, h Harness) {
	s := h.New(t)
	cat := category(t)
	stream := cat + "-a"

	_, err := s.Append(ctxT(t), stream, es.StreamExists, ev("x.happened", 0))
	wantConflict(t, err, -1)
	_, err = s.Append(ctxT(t), stream, es.Exact(0), ev("x.happened", 0))
	wantConflict(t, err, -1)

	r1 := mustAppend(t, s, stream, es.NoStream, evs("x.happened", 0, 3)...)
	if r1.Version != 2 {
		t.Fatalf("first append: version %d, want 2", r1.Version)
	}
	_, err = s.Append(ctxT(t), stream, es.NoStream, ev("x.happened", 9))
	wantConflict(t, err, 2)
	// A conflicting batch writes none of its events.
	_, err = s.Append(ctxT(t), stream, es.Exact(1), evs("x.happened", 10, 5)...)
	wantConflict(t, err, 2)
	wantVersions(t, s, stream, 3)

	r2 := mustAppend(t, s, stream, es.Exact(2), ev("x.happened", 3))
	r3 := mustAppend(t, s, stream, es.StreamExists, ev("x.happened", 4))
	r4 := mustAppend(t, s, stream, es.Any, evs("x.happened", 5, 2)...)
	if r2.Version != 3 || r3.Version != 4 || r4.Version != 6 {
		t.Fatalf("versions %d %d %d, want 3 4 6", r2.Version, r3.Version, r4.Version)
	}
	if !r1.Position.Less(r2.Position) || !r2.Position.Less(r3.Position) || !r3.Position.Less(r4.Position) {
		t.Fatalf("positions not increasing: %s %s %s %s", r1.Position, r2.Position, r3.Position, r4.Position)
	}
	mustAppend(t, s, cat+"-b", es.Any, ev("x.happened", 0))

	got := readStream(t, s, stream)
	wantVersions(t, s, stream, 7)
	for i, e := range got {
		if num(t, e) != i || e.StreamID != stream || e.Type != "x.happened" {
			t.Fatalf("event %d: stream %s type %s n %d", i, e.StreamID, e.Type, num(t, e))
		}
		if e.Metadata.CorrelationID == "" || e.Metadata.Actor != "suite" || e.Metadata.SchemaVersion != 1 || !strings.HasPrefix(e.Metadata.TraceParent, "00-") {
			t.Fatalf("event %d: metadata not kept: %+v", i, e.Metadata)
		}
		if e.RecordedAt.IsZero() {
			t.Fatalf("event %d: no recorded time", i)
		}
	}
	if got[6].Position != r4.Position {
		t.Fatalf("last event at %s, append said %s", got[6].Position, r4.Position)
	}
}

func testIdempotent(t *testing.T, h Harness) {
	s := h.New(t)
	stream := category(t) + "-i"
	batch := evs("x.happened", 0, 3)

	first := mustAppend(t, s, stream, es.NoStream, batch...)
	again := mustAppend(t, s, stream, es.NoStream, batch...)
	if again != first {
		t.Fatalf("re-append returned %+v, first was %+v", again, first)
	}
	more := mustAppend(t, s, stream, es.Exact(2), ev("x.happened", 3))
	// A new id at a version already taken is a conflict, not a replay.
	_, err := s.Append(ctxT(t), stream, es.Exact(2), ev("x.happened", 3))
	wantConflict(t, err, 3)
	t.Run("exact replay", func(t *testing.T) {
		last := readStream(t, s, stream)[3]
		res := mustAppend(t, s, stream, es.Exact(2), last.EventData)
		if res != more {
			t.Fatalf("replay at exact version returned %+v, want %+v", res, more)
		}
	})
	wantVersions(t, s, stream, 4)

	// The same ids at a version where they were not written conflict.
	_, err = s.Append(ctxT(t), stream, es.Exact(3), batch...)
	wantConflict(t, err, 3)
	// A batch that only partly repeats earlier events is not a replay.
	mixed := append([]es.EventData{batch[0]}, ev("x.happened", 99))
	if _, err := s.Append(ctxT(t), stream, es.NoStream, mixed...); !errors.Is(err, es.ErrConcurrency) {
		t.Fatalf("partly repeated batch: got %v, want a concurrency error", err)
	}
	wantVersions(t, s, stream, 4)
}
