package readmodel_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/pkg/testenv"

	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/inventory/internal/app"
	"github.com/ordo-platform/ordo/services/inventory/internal/readmodel"
)

// TestCatalogFollowsEveryEventAndRebuilds drives every event type through
// the projection, then rebuilds it from zero and expects the same model.
func TestCatalogFollowsEveryEventAndRebuilds(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	store, err := postgres.Open(ctx, testenv.Database(t), postgres.Options{Log: log, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	rdb, prefix := testenv.Redis(t)
	svc := app.New(store, app.Options{})
	catalog := []inventory.CatalogEntry{
		{SKU: "B-1", Name: "Bee", Price: money.Euros(200), InitialStock: 5},
		{SKU: "A-1", Name: "Ay", Price: money.Euros(100), InitialStock: 3},
	}
	var last es.Position // the latest write's position
	mustDo := func(f func() (es.Position, error)) {
		t.Helper()
		p, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if last.Less(p) {
			last = p
		}
	}
	mustDo(func() (es.Position, error) { return svc.Seed(ctx, catalog) })
	reserve := func(order, sku string, n int) {
		mustDo(func() (es.Position, error) { r, err := svc.Reserve(ctx, order, sku, n); return r.Position, err })
	}
	reserve("o1", "B-1", 2)                                                                                 // B: on hand 5, available 3
	reserve("o2", "B-1", 1)                                                                                 // available 2
	reserve("o3", "B-1", 9)                                                                                 // rejected
	reserve("o4", "A-1", 3)                                                                                 // A: available 0
	mustDo(func() (es.Position, error) { r, err := svc.Commit(ctx, "o1", "B-1"); return r.Position, err })  // B: on hand 3, available 2
	mustDo(func() (es.Position, error) { r, err := svc.Release(ctx, "o2", "B-1"); return r.Position, err }) // available 3
	mustDo(func() (es.Position, error) { r, err := svc.Expire(ctx, "o4", "A-1"); return r.Position, err })  // A: available 3
	mustDo(func() (es.Position, error) { r, err := svc.Restock(ctx, "A-1", 4); return r.Position, err })    // A: 7
	products := es.NewRepository(store, app.NewRegistry(), inventory.ProductAggregate, 0)
	mustDo(func() (es.Position, error) {
		out, err := products.Execute(ctx, "A-1", func(p inventory.Product) ([]any, error) { return p.ChangePrice(money.Euros(150)) })
		return out.Result.Position, err
	})

	runner, err := projection.New(store, rdb, readmodel.Projection(), projection.Options{Prefix: prefix, Log: log, RetireAfter: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("projection: %v", err)
		}
		runner.Close()
	}()
	waitCtx, stop := context.WithTimeout(ctx, 5*time.Second)
	defer stop()
	if err := runner.WaitFor(waitCtx, last); err != nil {
		t.Fatal(err)
	}

	want := []readmodel.Item{
		{SKU: "A-1", Name: "Ay", Price: money.Euros(150), OnHand: 7, Available: 7},
		{SKU: "B-1", Name: "Bee", Price: money.Euros(200), OnHand: 3, Available: 3},
	}
	cat := readmodel.NewCatalog(rdb, prefix)
	check := func(when string) {
		t.Helper()
		got, err := cat.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s: List (-want +got):\n%s", when, diff)
		}
		one, err := cat.Get(ctx, "B-1")
		if err != nil || one != want[1] {
			t.Fatalf("%s: Get(B-1) = %+v, %v", when, one, err)
		}
		if _, err := cat.Get(ctx, "C-1"); !errors.Is(err, readmodel.ErrNotFound) {
			t.Fatalf("%s: Get(C-1): %v, want ErrNotFound", when, err)
		}
	}
	check("live")
	if err := runner.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
}
