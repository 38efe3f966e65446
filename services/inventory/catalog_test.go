package inventory

import "testing"

func TestDefaultCatalog(t *testing.T) {
	entries := DefaultCatalog()
	if len(entries) < 8 {
		t.Fatalf("%d products, want at least 8", len(entries))
	}
	seen := make(map[string]bool)
	for _, e := range entries {
		if seen[e.SKU] {
			t.Errorf("SKU %s listed twice", e.SKU)
		}
		seen[e.SKU] = true
		if _, err := ProductAggregate.Initial(e.SKU).Add(e.Name, e.Price); err != nil {
			t.Errorf("add %s: %v", e.SKU, err)
		}
		if e.Price.Currency != "EUR" {
			t.Errorf("%s priced in %s, want EUR", e.SKU, e.Price.Currency)
		}
		if events, err := StockAggregate.Initial(e.SKU).Seed(e.InitialStock); err != nil || len(events) != 1 {
			t.Errorf("seed %s with %d: %v, %v", e.SKU, e.InitialStock, events, err)
		}
	}
}
