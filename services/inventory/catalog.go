package inventory

import "github.com/ordo-platform/ordo/pkg/money"

// CatalogEntry is a product to seed, with its initial stock.
type CatalogEntry struct {
	SKU          string
	Name         string
	Price        money.Money
	InitialStock int
}

// DefaultCatalog returns the demo shop's products. Seed each with
// Product.Add and Stock.Seed: both are no-ops once done, so seeding on every
// start is safe. NTB-A5-DOT starts short so out-of-stock is easy to show.
func DefaultCatalog() []CatalogEntry {
	return []CatalogEntry{
		{"COF-ETH-250", "Ethiopia Yirgacheffe coffee beans, 250 g", money.Euros(1290), 120},
		{"COF-COL-1000", "Colombia Huila coffee beans, 1 kg", money.Euros(3490), 40},
		{"MUG-STONE-350", "Stoneware mug, 350 ml", money.Euros(1490), 60},
		{"KTL-GOOSE-1L", "Gooseneck kettle, 1 l", money.Euros(4990), 15},
		{"GRD-BURR-01", "Manual burr grinder", money.Euros(6900), 10},
		{"FLT-PAPER-100", "Paper coffee filters, pack of 100", money.Euros(590), 200},
		{"BTL-STEEL-750", "Insulated steel bottle, 750 ml", money.Euros(2990), 35},
		{"BAG-CANVAS", "Canvas tote bag", money.Euros(1890), 50},
		{"TEE-ORG-M", "Organic cotton T-shirt, size M", money.Euros(2490), 25},
		{"NTB-A5-DOT", "Dotted A5 notebook", money.Euros(1190), 3},
	}
}
