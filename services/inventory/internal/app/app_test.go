package app_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/es/estest"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/testenv"

	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/inventory/internal/app"
)

// openStore opens a store on url, closed when the test ends.
func openStore(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

var catalog = []inventory.CatalogEntry{
	{SKU: "MUG-1", Name: "Mug", Price: money.Euros(1490), InitialStock: 5},
	{SKU: "TEE-1", Name: "T-shirt", Price: money.Euros(2490), InitialStock: 2},
}

// types lists the event types of every stream in the store, by stream.
func types(t *testing.T, s es.Store) map[string][]string {
	t.Helper()
	events := estest.ReadAll(t, s, es.Start, es.Filter{})
	out := map[string][]string{}
	for _, e := range events {
		out[e.StreamID] = append(out[e.StreamID], e.Type)
	}
	return out
}

func TestSeedTwiceConcurrentlySeedsOnce(t *testing.T) {
	url := testenv.Database(t)
	stores := []*postgres.Store{openStore(t, url), openStore(t, url)}
	ctx := context.Background()
	for round := range 2 { // two instances at once, then both again (a restart)
		var wg sync.WaitGroup
		errs := make([]error, 2*len(stores))
		for i, s := range stores {
			for j := range 2 {
				wg.Go(func() {
					_, errs[2*i+j] = app.New(s, app.Options{}).Seed(ctx, catalog)
				})
			}
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	want := map[string][]string{
		"product-MUG-1": {inventory.TypeProductAdded},
		"stock-MUG-1":   {inventory.TypeStockRestocked},
		"product-TEE-1": {inventory.TypeProductAdded},
		"stock-TEE-1":   {inventory.TypeStockRestocked},
	}
	if diff := cmp.Diff(want, types(t, stores[0])); diff != "" {
		t.Fatalf("events after seeding 8 times (-want +got):\n%s", diff)
	}
}

func TestSeedLeavesChangedStockAlone(t *testing.T) {
	s := openStore(t, testenv.Database(t))
	svc := app.New(s, app.Options{})
	ctx := context.Background()
	if _, err := svc.Seed(ctx, catalog); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reserve(ctx, "o1", "MUG-1", 5); err != nil {
		t.Fatal(err)
	}
	pos, err := app.New(s, app.Options{}).Seed(ctx, catalog)
	if err != nil {
		t.Fatal(err)
	}
	var latest es.Position
	for _, stream := range []string{"product-MUG-1", "stock-MUG-1", "product-TEE-1", "stock-TEE-1"} {
		last, err := s.ReadStream(ctx, stream, es.Backwards, es.End, 1)
		if err != nil {
			t.Fatal(err)
		}
		if latest.Less(last[0].Position) {
			latest = last[0].Position
		}
	}
	if pos != latest {
		t.Errorf("second seed returned %s, want the latest event of the seeded streams %s", pos, latest)
	}
	if r, _ := svc.Reserve(ctx, "o2", "MUG-1", 1); r.Status != inventory.Rejected {
		t.Errorf("after a re-seed the reserved stock came back: %+v", r)
	}
}

func TestCommands(t *testing.T) {
	s := openStore(t, testenv.Database(t))
	svc := app.New(s, app.Options{})
	ctx := context.Background()
	if _, err := svc.Seed(ctx, catalog); err != nil {
		t.Fatal(err)
	}
	r, err := svc.Reserve(ctx, "o1", "TEE-1", 2)
	if err != nil || r.Status != inventory.Reserved || r.Available != 0 {
		t.Fatalf("reserve: %+v %v", r, err)
	}
	again, err := svc.Reserve(ctx, "o1", "TEE-1", 2)
	if err != nil || again != r {
		t.Fatalf("repeated reserve: %+v %v, want the first answer %+v", again, err, r)
	}
	if r, _ := svc.Reserve(ctx, "o2", "TEE-1", 1); r.Status != inventory.Rejected {
		t.Fatalf("reserve with nothing available: %+v", r)
	}
	c, err := svc.Commit(ctx, "o1", "TEE-1")
	if err != nil || !r.Position.Less(c.Position) {
		t.Fatalf("commit: %+v %v", c, err)
	}
	if _, err := svc.Release(ctx, "o1", "TEE-1"); !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("release after commit: %v, want a conflict", err)
	}
	if _, err := svc.Expire(ctx, "o3", "TEE-1"); err != nil {
		t.Fatalf("expire unseen order: %v", err)
	}
	if r, _ := svc.Reserve(ctx, "o3", "TEE-1", 1); r.Status != inventory.Expired {
		t.Fatalf("reserve after expiry barrier: %+v", r)
	}
	for _, sku := range []string{"NOPE-1", "lower", ""} {
		if _, err := svc.Restock(ctx, sku, 1); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("restock %q: %v, want not found", sku, err)
		}
	}
}
