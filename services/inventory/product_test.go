package inventory

import (
	"testing"

	"github.com/ordo-platform/ordo/pkg/money"
)

func add(name string, price money.Money) func(Product) ([]any, error) {
	return func(p Product) ([]any, error) { return p.Add(name, price) }
}

func changePrice(price money.Money) func(Product) ([]any, error) {
	return func(p Product) ([]any, error) { return p.ChangePrice(price) }
}

func TestAddProduct(t *testing.T) {
	added := ProductAdded{SKU: sku, Name: "Stoneware mug", Price: money.Euros(1490)}
	runScenarios(t, ProductAggregate, sku, []scenario[Product]{
		{Name: "enters the catalog", When: add(" Stoneware mug ", money.Euros(1490)), Then: []any{added}},
		{Name: "again the same is a no-op", Given: []any{added}, When: add("Stoneware mug", money.Euros(1490))},
		{Name: "again with another price conflicts", Given: []any{added}, When: add("Stoneware mug", money.Euros(1500)), WantErr: ErrConflict},
		{Name: "again with another name conflicts", Given: []any{added}, When: add("Mug", money.Euros(1490)), WantErr: ErrConflict},
		{Name: "empty name is invalid", When: add("  ", money.Euros(1490)), WantErr: ErrInvalid},
		{Name: "long name is invalid", When: add(string(make([]rune, MaxNameLength+1)), money.Euros(1)), WantErr: ErrInvalid},
		{Name: "zero price is invalid", When: add("Mug", money.Euros(0)), WantErr: ErrInvalid},
		{Name: "negative price is invalid", When: add("Mug", money.Euros(-1)), WantErr: ErrInvalid},
		{Name: "price without currency is invalid", When: add("Mug", money.Money{Amount: 1}), WantErr: ErrInvalid},
	})
	runScenarios(t, ProductAggregate, "bad sku", []scenario[Product]{
		{Name: "bad sku is invalid", When: add("Mug", money.Euros(1)), WantErr: ErrInvalid},
	})
}

func TestChangePrice(t *testing.T) {
	added := ProductAdded{SKU: sku, Name: "Stoneware mug", Price: money.Euros(1490)}
	runScenarios(t, ProductAggregate, sku, []scenario[Product]{
		{Name: "sets a new price", Given: []any{added}, When: changePrice(money.Euros(1590)),
			Then: []any{ProductPriceChanged{SKU: sku, Price: money.Euros(1590), PreviousPrice: money.Euros(1490)}}},
		{Name: "the same price is a no-op", Given: []any{added}, When: changePrice(money.Euros(1490))},
		{Name: "unknown product is not found", When: changePrice(money.Euros(1590)), WantErr: ErrNotFound},
		{Name: "zero price is invalid", Given: []any{added}, When: changePrice(money.Euros(0)), WantErr: ErrInvalid},
	})
	p := ProductAggregate.Apply(ProductAggregate.Apply(ProductAggregate.Initial(sku), added),
		ProductPriceChanged{SKU: sku, Price: money.Euros(1590), PreviousPrice: money.Euros(1490)})
	if !p.Exists || p.Price != money.Euros(1590) || p.Name != "Stoneware mug" {
		t.Errorf("state = %+v", p)
	}
}
