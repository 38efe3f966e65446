package kurrent

// The TestWire tests are protocol tests of this package's mapping: the real
// v4 client talks gRPC to fakeNode, an in-process stand-in that answers as
// KurrentDB documents. They show what we send and how we read the answers.
// They are not proof that KurrentDB behaves so; TestContract is.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/ordo-platform/ordo/pkg/es"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openFake(t *testing.T, n *fakeNode, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	s, err := Open(testCtx(t), n.url(), opts)
	if err != nil {
		t.Fatalf("open %s: %v", n, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func event(typ string, n int) es.EventData {
	return es.EventData{
		ID: es.NewUUID(), Type: typ, Data: json.RawMessage(`{"n":` + itoa(n) + `}`),
		Metadata: es.Metadata{CorrelationID: "corr-" + itoa(n), CausationID: "cause", TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Actor: "wire", SchemaVersion: 2},
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func mustAppend(t *testing.T, s *Store, stream string, exp es.ExpectedVersion, events ...es.EventData) es.AppendResult {
	t.Helper()
	res, err := s.Append(testCtx(t), stream, exp, events...)
	if err != nil {
		t.Fatalf("append to %s (%s): %v", stream, exp, err)
	}
	return res
}

func TestWireAppendSendsExpectedRevision(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{})
	mustAppend(t, s, "order-1", es.NoStream, event("order.placed", 0))
	check := func(name string, want func(*streams.AppendReq_Options) bool) {
		t.Helper()
		if o := n.lastAppend().options; !want(o) {
			t.Errorf("%s: sent expected revision %T %v", name, o.GetExpectedStreamRevision(), o.GetExpectedStreamRevision())
		}
	}
	check("NoStream", func(o *streams.AppendReq_Options) bool { return o.GetNoStream() != nil })
	mustAppend(t, s, "order-1", es.Any, event("order.paid", 1))
	check("Any", func(o *streams.AppendReq_Options) bool { return o.GetAny() != nil })
	mustAppend(t, s, "order-1", es.StreamExists, event("order.packed", 2))
	check("StreamExists", func(o *streams.AppendReq_Options) bool { return o.GetStreamExists() != nil })
	mustAppend(t, s, "order-1", es.Exact(2), event("order.sent", 3))
	check("Exact(2)", func(o *streams.AppendReq_Options) bool {
		_, ok := o.GetExpectedStreamRevision().(*streams.AppendReq_Options_Revision)
		return ok && o.GetRevision() == 2
	})
	if got := string(n.lastAppend().options.GetStreamIdentifier().GetStreamName()); got != "order-1" {
		t.Errorf("sent stream %q", got)
	}
}

func TestWireAppendSendsOurEvent(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{})
	e := event("order.placed", 7)
	res := mustAppend(t, s, "order-7", es.NoStream, e)

	sent := n.lastAppend().events
	if len(sent) != 1 {
		t.Fatalf("sent %d events, want 1", len(sent))
	}
	m := sent[0]
	if got := eventID(m); got != uuid.UUID(e.ID) {
		t.Errorf("event id on the wire %s, want ours %s", got, e.ID)
	}
	if m.GetMetadata()["type"] != "order.placed" || m.GetMetadata()["content-type"] != "application/json" {
		t.Errorf("system metadata %v, want our type and application/json", m.GetMetadata())
	}
	if string(m.GetData()) != string(e.Data) {
		t.Errorf("data %s, want %s", m.GetData(), e.Data)
	}
	var md map[string]any
	if err := json.Unmarshal(m.GetCustomMetadata(), &md); err != nil {
		t.Fatalf("user metadata is not JSON: %q", m.GetCustomMetadata())
	}
	wantMD := map[string]any{"correlation_id": "corr-7", "causation_id": "cause", "traceparent": e.Metadata.TraceParent, "actor": "wire", "schema_version": 2.0}
	if diff := cmp.Diff(wantMD, md); diff != "" {
		t.Errorf("user metadata (-want +got):\n%s", diff)
	}

	rec := n.streamRecords("order-7")[0]
	want := es.AppendResult{Version: 0, Position: es.Position{Commit: rec.commit, Prepare: rec.prepare}}
	if res != want {
		t.Errorf("append result %+v, want %+v (commit and prepare from the answer)", res, want)
	}
	got, err := s.ReadStream(testCtx(t), "order-7", es.Forwards, 0, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("read back: %d events, %v", len(got), err)
	}
	if diff := cmp.Diff(e, got[0].EventData); diff != "" {
		t.Errorf("event read back (-sent +read):\n%s", diff)
	}
	if got[0].StreamID != "order-7" || got[0].Version != 0 || got[0].Position != want.Position || !got[0].RecordedAt.Equal(rec.created) {
		t.Errorf("envelope read back: %s v%d at %s recorded %s", got[0].StreamID, got[0].Version, got[0].Position, got[0].RecordedAt)
	}
}

func TestWireConcurrencyError(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{})
	mustAppend(t, s, "order-c", es.NoStream, event("x", 0), event("x", 1), event("x", 2))
	cases := []struct {
		stream   string
		expected es.ExpectedVersion
		actual   int64
	}{
		{"order-missing", es.StreamExists, -1},
		{"order-missing", es.Exact(0), -1},
		{"order-c", es.NoStream, 2},
		{"order-c", es.Exact(1), 2},
		{"order-c", es.Exact(5), 2},
	}
	for _, tc := range cases {
		_, err := s.Append(testCtx(t), tc.stream, tc.expected, event("x", 9))
		var ce *es.ConcurrencyError
		if !errors.Is(err, es.ErrConcurrency) || !errors.As(err, &ce) {
			t.Errorf("%s expecting %s: got %v, want *es.ConcurrencyError", tc.stream, tc.expected, err)
			continue
		}
		want := es.ConcurrencyError{Stream: tc.stream, Expected: tc.expected, Actual: tc.actual}
		if *ce != want {
			t.Errorf("%s expecting %s: got %+v, want %+v", tc.stream, tc.expected, *ce, want)
		}
	}
}

func TestWireIdempotentAppend(t *testing.T) {
	for _, noPosition := range []bool{false, true} {
		name := map[bool]string{false: "server reports position", true: "server omits position"}[noPosition]
		t.Run(name, func(t *testing.T) {
			n := startFake(t)
			n.noIdempotentPosition = noPosition
			s := openFake(t, n, Options{})
			batch := []es.EventData{event("x", 0), event("x", 1), event("x", 2)}
			first := mustAppend(t, s, "order-i", es.NoStream, batch...)
			again := mustAppend(t, s, "order-i", es.NoStream, batch...)
			if again != first {
				t.Errorf("replay returned %+v, first append %+v", again, first)
			}
			replay := mustAppend(t, s, "order-i", es.Exact(1), batch[2])
			if replay != first {
				t.Errorf("exact replay of the last event returned %+v, want %+v", replay, first)
			}
			mixed := []es.EventData{batch[0], event("x", 99)}
			if _, err := s.Append(testCtx(t), "order-i", es.NoStream, mixed...); !errors.Is(err, es.ErrConcurrency) {
				t.Errorf("partial replay: got %v, want a concurrency error", err)
			}
			if got := len(n.streamRecords("order-i")); got != 3 {
				t.Errorf("stream holds %d events, want 3", got)
			}
		})
	}
}

// TestWireExactAppendOfStoredIDs: the server writes ids a stream already
// holds again when the append lands at the end (as KurrentDB's IndexWriter
// decides: expected == current is "ok" without an id check); we refuse it
// first, as PostgreSQL does.
func TestWireExactAppendOfStoredIDs(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{})
	batch := []es.EventData{event("x", 0), event("x", 1)}
	mustAppend(t, s, "order-r", es.NoStream, batch...)
	sent := n.appendCount()
	_, err := s.Append(testCtx(t), "order-r", es.Exact(1), batch[1])
	var ce *es.ConcurrencyError
	if !errors.As(err, &ce) || ce.Actual != 1 {
		t.Fatalf("got %v, want *es.ConcurrencyError at version 1", err)
	}
	if n.appendCount() != sent {
		t.Errorf("the refused append reached the server")
	}

	off := openFake(t, n, Options{ReplayWindow: -1})
	if _, err := off.Append(testCtx(t), "order-r", es.Exact(1), batch[1]); err != nil {
		t.Fatalf("without the check the server takes it: %v", err)
	}
	if got := len(n.streamRecords("order-r")); got != 3 {
		t.Errorf("stream holds %d events, want 3 (the id written twice, as the server does)", got)
	}
}

func TestWireInvalidInputSendsNothing(t *testing.T) {
	n := startFake(t)
	s := openFake(t, n, Options{})
	bad := event("x", 0)
	bad.Data = json.RawMessage("{nope")
	cases := map[string]func() error{
		"empty stream": func() error { _, err := s.Append(testCtx(t), "", es.Any, event("x", 0)); return err },
		"zero expectation": func() error {
			_, err := s.Append(testCtx(t), "order-1", es.ExpectedVersion{}, event("x", 0))
			return err
		},
		"bad JSON":          func() error { _, err := s.Append(testCtx(t), "order-1", es.Any, event("x", 1), bad); return err },
		"no events":         func() error { _, err := s.Append(testCtx(t), "order-1", es.Any); return err },
		"read bad stream":   func() error { _, err := s.ReadStream(testCtx(t), "a b", es.Forwards, 0, 1); return err },
		"read bad from":     func() error { _, err := s.ReadStream(testCtx(t), "order-1", es.Forwards, es.End, 1); return err },
		"read zero limit":   func() error { _, err := s.ReadStream(testCtx(t), "order-1", es.Forwards, 0, 0); return err },
		"read all no limit": func() error { _, err := s.ReadAll(testCtx(t), es.Start, es.Filter{}, 0); return err },
	}
	for name, call := range cases {
		var ie *es.InvalidError
		if err := call(); !errors.Is(err, es.ErrInvalid) || !errors.As(err, &ie) {
			t.Errorf("%s: got %v, want *es.InvalidError", name, err)
		}
	}
	if got := n.appendCount(); got != 0 {
		t.Errorf("%d append requests reached the server, want none", got)
	}
	if got := len(n.readRequests()); got != 0 {
		t.Errorf("%d read requests reached the server, want none", got)
	}
}

func TestWireURLSchemes(t *testing.T) {
	n := startFake(t)
	for _, scheme := range []string{"esdb", "kurrentdb", "KurrentDB", "kurrent"} {
		s, err := Open(testCtx(t), scheme+"://"+n.addr+"?tls=false", Options{Logger: quiet()})
		if err != nil {
			t.Errorf("%s: %v", scheme, err)
			continue
		}
		_ = s.Close()
	}
}
