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
		{name: "enters the catalog", when: add(" Stoneware mug ", money.Euros(1490)), then: []any{added}},
		{name: "again the same is a no-op", given: []any{added}, when: add("Stoneware mug", money.Euros(1490))},
		{name: "again with another price conflicts", given: []any{added}, when: add("Stoneware mug", money.Euros(1500)), wantErr: ErrConflict},
		{name: "again with another name conflicts", given: []any{added}, when: add("Mug", money.Euros(1490)), wantErr: ErrConflict},
		{name: "empty name is invalid", when: add("  ", money.Euros(1490)), wantErr: ErrInvalid},
		{name: "long name is invalid", when: add(string(make([]rune, MaxNameLength+1)), money.Euros(1)), wantErr: ErrInvalid},
		{name: "zero price is invalid", when: add("Mug", money.Euros(0)), wantErr: ErrInvalid},
		{name: "negative price is invalid", when: add("Mug", money.Euros(-1)), wantErr: ErrInvalid},
		{name: "price without currency is invalid", when: add("Mug", money.Money{Amount: 1}), wantErr: ErrInvalid},
	})
	runScenarios(t, ProductAggregate, "bad sku", []scenario[Product]{
		{name: "bad sku is invalid", when: add("Mug", money.Euros(1)), wantErr: ErrInvalid},
	})
}

func TestChangePrice(t *testing.T) {
	added := ProductAdded{SKU: sku, Name: "Stoneware mug", Price: money.Euros(1490)}
	runScenarios(t, ProductAggregate, sku, []scenario[Product]{
		{name: "sets a new price", given: []any{added}, when: changePrice(money.Euros(1590)),
			then: []any{ProductPriceChanged{SKU: sku, Price: money.Euros(1590), PreviousPrice: money.Euros(1490)}}},
		{name: "the same price is a no-op", given: []any{added}, when: changePrice(money.Euros(1490))},
		{name: "unknown product is not found", when: changePrice(money.Euros(1590)), wantErr: ErrNotFound},
		{name: "zero price is invalid", given: []any{added}, when: changePrice(money.Euros(0)), wantErr: ErrInvalid},
	})
	p := ProductAggregate.Apply(ProductAggregate.Apply(ProductAggregate.Initial(sku), added),
		ProductPriceChanged{SKU: sku, Price: money.Euros(1590), PreviousPrice: money.Euros(1490)})
	if !p.Exists || p.Price != money.Euros(1590) || p.Name != "Stoneware mug" {
		t.Errorf("state = %+v", p)
	}
}
