package kurrent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/storetest"
)

// TestContract runs the shared contract suite, and a persistent
// subscription round trip, against a real KurrentDB named by ORDO_ESDB_URL.
// The server may be shared: every test works in its own random category
// and group, and ReadAll/Subscribe filter by that category.
func TestContract(t *testing.T) {
	url := os.Getenv("ORDO_ESDB_URL")
	if url == "" {
		t.Skip("ORDO_ESDB_URL not set: this runs the contract suite against a real KurrentDB. " +
			"Start one with `docker compose -f deploy/docker-compose.yml up kurrentdb`, then run " +
			"`ORDO_ESDB_URL='esdb://127.0.0.1:2113?tls=false' go test ./pkg/eventstore/kurrent/ -run Contract` (see docs/kurrentdb.md)")
	}
	open := func(t *testing.T, opts Options) *Store {
		t.Helper()
		if opts.Logger == nil {
			opts.Logger = quiet()
		}
		s, err := Open(testCtx(t), url, opts)
		if err != nil {
			t.Fatalf("open %s: %v", redact(url), err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	t.Run("Suite", func(t *testing.T) {
		storetest.Run(t, storetest.Harness{New: func(t *testing.T) es.Store { return open(t, Options{}) }})
	})
	t.Run("Consume", func(t *testing.T) {
		testRealConsume(t, open(t, Options{Group: GroupOptions{MaxRetries: 1, FromEnd: true}}))
	})
}

// testRealConsume: a group handles a category, parks the event its handler
// cannot take, and handles it after ReplayParked.
func testRealConsume(t *testing.T, s *Store) {
	suffix := randomSuffix(t)
	cat, group := "c"+suffix, "ordo-test-"+suffix
	t.Cleanup(func() { _ = s.DeleteGroup(context.Background(), group) })
	var mu sync.Mutex
	var fixed bool
	handled := map[es.UUID]int{}
	good, poison := event("x.done", 1), event("x.poison", 2)
	handle := func(_ context.Context, e es.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if e.ID == poison.ID && !fixed {
			return errors.New("not yet")
		}
		handled[e.ID]++
		return nil
	}
	stop := consume(t, s, group, es.Filter{Categories: []string{cat}}, handle)
	// The group starts at the end of $all: write only once it exists.
	waitUntilWithin(t, 30*time.Second, "the group to exist", func() bool {
		_, err := s.ParkedMessages(testCtx(t), group)
		return err == nil
	})
	mustAppend(t, s, cat+"-1", es.NoStream, good, poison)
	waitUntilWithin(t, 30*time.Second, "the poison event to be parked", func() bool {
		parked, err := s.ParkedMessages(testCtx(t), group)
		return err == nil && parked == 1
	})
	mu.Lock()
	fixed = true
	mu.Unlock()
	if err := s.ReplayParked(testCtx(t), group); err != nil {
		t.Fatal(err)
	}
	waitUntilWithin(t, 30*time.Second, "the replayed event to be handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return handled[poison.ID] == 1 && handled[good.ID] == 1
	})
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Consume returned %v, want context.Canceled", err)
	}
}

func waitUntilWithin(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func randomSuffix(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}
