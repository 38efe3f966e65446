// Package storetest is the conformance suite every es.Store backend runs. It
// checks the contract in package es: optimistic concurrency, atomic batches,
// idempotent appends, typed errors for bad input, stream and global reads with
// filters, subscriptions that catch up and go live, resumption from a
// checkpoint, and the gap test (concurrent writers committing out of order
// while a subscriber runs: every event seen exactly once, in order).
//
// Every test works in its own random category, so the suite also runs against
// a shared server.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Harness tells the suite how to get a store.
type Harness struct {
	// New returns a store for one test; the harness cleans up with t.Cleanup.
	New func(t *testing.T) es.Store
	// AppendSlow appends and holds the write open for delay before it
	// commits, so that writers commit out of order. Backends that cannot hold
	// a write open leave it nil; the gap test then sleeps before appending.
	AppendSlow func(ctx context.Context, s es.Store, stream string, expected es.ExpectedVersion, delay time.Duration, events ...es.EventData) (es.AppendResult, error)
	// GapRounds is how many times the gap test runs (default 5).
	GapRounds int
	// GapWriters is how many concurrent writers it uses (default 16).
	GapWriters int
	// GapEventsPerWriter is how many appends each writer makes (default 25).
	GapEventsPerWriter int
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	t.Run("Append", func(t *testing.T) { testAppend(t, h) })
	t.Run("Idempotent", func(t *testing.T) { testIdempotent(t, h) })
	t.Run("InvalidInput", func(t *testing.T) { testInvalid(t, h) })
	t.Run("ReadStream", func(t *testing.T) { testReadStream(t, h) })
	t.Run("ReadAll", func(t *testing.T) { testReadAll(t, h) })
	t.Run("Subscribe", func(t *testing.T) { testSubscribe(t, h) })
	t.Run("Resume", func(t *testing.T) { testResume(t, h) })
	t.Run("RacingWriters", func(t *testing.T) { testRacingWriters(t, h) })
	t.Run("Gap", func(t *testing.T) { testGap(t, h) })
}

// category returns a fresh category name for one test.
func category(t *testing.T) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "t" + hex.EncodeToString(b[:])
}

type body struct {
	N    int    `json:"n"`
	Note string `json:"note,omitempty"`
}

func ev(typ string, n int) es.EventData {
	data, _ := json.Marshal(body{N: n})
	return es.EventData{ID: es.NewUUID(), Type: typ, Data: data, Metadata: es.Metadata{
		CorrelationID: fmt.Sprintf("corr-%d", n), CausationID: "cause", TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		Actor: "suite", SchemaVersion: 1,
	}}
}

func evs(typ string, from, n int) []es.EventData {
	out := make([]es.EventData, n)
	for i := range out {
		out[i] = ev(typ, from+i)
	}
	return out
}

func num(t *testing.T, e es.Event) int {
	t.Helper()
	var b body
	if err := json.Unmarshal(e.Data, &b); err != nil {
		t.Fatalf("event %s data %q: %v", e.ID, e.Data, err)
	}
	return b.N
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustAppend(t *testing.T, s es.Store, stream string, exp es.ExpectedVersion, events ...es.EventData) es.AppendResult {
	t.Helper()
	res, err := s.Append(ctxT(t), stream, exp, events...)
	if err != nil {
		t.Fatalf("append %d events to %s (expected %s): %v", len(events), stream, exp, err)
	}
	return res
}

func readStream(t *testing.T, s es.Store, stream string) []es.Event {
	t.Helper()
	got, err := s.ReadStream(ctxT(t), stream, es.Forwards, 0, 100_000)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return got
}

// readAllCat reads every event of one category through ReadAll in pages.
func readAllCat(t *testing.T, s es.Store, cat string, page int) []es.Event {
	t.Helper()
	var out []es.Event
	from := es.Start
	for {
		got, err := s.ReadAll(ctxT(t), from, es.Filter{Categories: []string{cat}}, page)
		if err != nil {
			t.Fatalf("read all from %s: %v", from, err)
		}
		out = append(out, got...)
		if len(got) < page {
			return out
		}
		from = got[len(got)-1].Position
	}
}
