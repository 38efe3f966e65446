package inventory

import (
	"strings"
	"unicode/utf8"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
)

// MaxNameLength is the longest product name accepted, in characters.
const MaxNameLength = 200

// Product is a catalog entry. Its id is the SKU.
type Product struct {
	SKU   string
	Name  string
	Price money.Money
	// Exists is false until product.added.
	Exists bool
}

// ProductAggregate runs Product commands with es.Repository.
var ProductAggregate = es.Aggregate[Product]{
	Category: ProductCategory,
	Initial:  func(sku string) Product { return Product{SKU: sku} },
	Apply:    applyProduct,
}

func applyProduct(p Product, event any) Product {
	switch e := event.(type) {
	case ProductAdded:
		p.Name, p.Price, p.Exists = e.Name, e.Price, true
	case ProductPriceChanged:
		p.Price = e.Price
	}
	return p
}

// Add puts the product in the catalog. Adding it again with the same name
// and price is a no-op; with different ones, a conflict.
func (p Product) Add(name string, price money.Money) ([]any, error) {
	if err := ValidateSKU(p.SKU); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxNameLength {
		return nil, errorf(ErrInvalid, "product name must be 1 to %d characters", MaxNameLength)
	}
	if err := validatePrice(price); err != nil {
		return nil, err
	}
	if p.Exists {
		if p.Name == name && p.Price == price {
			return nil, nil
		}
		return nil, errorf(ErrConflict, "product %s already exists with another name or price", p.SKU)
	}
	return []any{ProductAdded{SKU: p.SKU, Name: name, Price: price}}, nil
}

// ChangePrice sets a new price for future orders. The same price is a no-op.
func (p Product) ChangePrice(price money.Money) ([]any, error) {
	if err := validatePrice(price); err != nil {
		return nil, err
	}
	if !p.Exists {
		return nil, errorf(ErrNotFound, "product %s not found", p.SKU)
	}
	if price == p.Price {
		return nil, nil
	}
	return []any{ProductPriceChanged{SKU: p.SKU, Price: price, PreviousPrice: p.Price}}, nil
}

func validatePrice(price money.Money) error {
	if err := price.Validate(); err != nil {
		return errorf(ErrInvalid, "price: %v", err)
	}
	if price.IsZero() {
		return errorf(ErrInvalid, "price must be more than zero")
	}
	return nil
}

// ValidateSKU checks a SKU: 1 to 64 characters, upper-case ASCII letters,
// digits and '-', starting with a letter or digit. SKUs are stream ids and
// URL path segments, hence the narrow alphabet.
func ValidateSKU(sku string) error {
	if sku == "" || len(sku) > 64 || sku[0] == '-' {
		return errorf(ErrInvalid, "sku %q: want 1 to 64 of A-Z, 0-9 and '-', not starting with '-'", sku)
	}
	for i := range len(sku) {
		c := sku[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' {
			return errorf(ErrInvalid, "sku %q: want 1 to 64 of A-Z, 0-9 and '-', not starting with '-'", sku)
		}
	}
	return nil
}
