package app

import (
	"context"
	"fmt"

	"github.com/ordo-platform/ordo/pkg/es"

	"github.com/ordo-platform/ordo/services/inventory"
)

// seedNamespace derives the ids of seeding events. Every instance derives
// the same id for the same SKU, so two instances seeding at once append the
// same event at the same (no-stream) expectation, and the store keeps one.
var seedNamespace = es.DerivedUUID(es.UUID{}, "ordo/inventory/seed")

// Seed puts every catalog entry in the catalog with its initial stock,
// unless it is there already: a product that exists is left as it is (its
// price may have changed since), and a SKU that was ever restocked gets no
// initial stock. It is safe on every start and from several instances at
// once. It returns the latest position of the seeded streams, so a caller
// can wait for the read model to show the catalog.
func (s *Service) Seed(ctx context.Context, catalog []inventory.CatalogEntry) (es.Position, error) {
	ctx = es.WithMetadata(ctx, es.Metadata{Actor: Actor, CausationID: "seed"})
	var last es.Position
	for _, entry := range catalog {
		p, err := s.seedOne(ctx, entry)
		if err != nil {
			return last, fmt.Errorf("seed %s: %w", entry.SKU, err)
		}
		if last.Less(p) {
			last = p
		}
	}
	return last, nil
}

func (s *Service) seedOne(ctx context.Context, entry inventory.CatalogEntry) (es.Position, error) {
	out, err := execute(ctx, s.products, s.retries, entry.SKU, func(p inventory.Product) ([]any, error) {
		if p.Exists {
			return nil, nil
		}
		return seeded(p.Add(entry.Name, entry.Price))(entry.SKU)
	})
	if err != nil {
		return es.Start, err
	}
	productPos, err := s.position(ctx, s.products.StreamID(entry.SKU), out.Result)
	if err != nil {
		return es.Start, err
	}
	// The product exists now, so the stock command's catalog check passes.
	_, res, err := s.execStock(ctx, entry.SKU, func(st inventory.Stock) ([]any, error) {
		return seeded(st.Seed(entry.InitialStock))(entry.SKU)
	})
	if err != nil {
		return es.Start, err
	}
	if res.Position.Less(productPos) {
		return productPos, nil
	}
	return res.Position, nil
}

// seeded gives a seeding command's events ids derived from the SKU and the
// event's place, so every instance proposes identical events.
func seeded(events []any, err error) func(sku string) ([]any, error) {
	return func(sku string) ([]any, error) {
		if err != nil {
			return nil, err
		}
		out := make([]any, len(events))
		for i, ev := range events {
			name := fmt.Sprintf("%s/%T/%d", sku, ev, i)
			out[i] = es.Identified{ID: es.DerivedUUID(seedNamespace, name), Event: ev}
		}
		return out, nil
	}
}
