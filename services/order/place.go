package order

import (
	"slices"

	"github.com/ordo-platform/ordo/pkg/money"
)

// Item is what a customer asks for: a SKU and a quantity, never a price.
type Item struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Prices are the catalog's current unit prices by SKU. The caller fills them
// from the inventory catalog; a price a client sent must never get here.
type Prices map[string]money.Money

// Place places the order for a customer. It prices each item from the
// catalog and computes the total. Items of the same SKU are merged into one
// line (in first-seen order) whose quantity must stay within 1..MaxQuantity;
// an order has 1..MaxLines items. A SKU missing from prices is invalid.
//
// Placing the same order again (same customer, same priced lines) is a
// no-op, so a retried placement is harmless; placing it with other contents
// conflicts.
func (o Order) Place(customerID string, items []Item, prices Prices) ([]any, error) {
	if o.ID == "" || len(o.ID) > maxIDLength {
		return nil, errorf(ErrInvalid, "order id must be 1 to %d bytes", maxIDLength)
	}
	if customerID == "" || len(customerID) > maxIDLength {
		return nil, errorf(ErrInvalid, "customer id must be 1 to %d bytes", maxIDLength)
	}
	lines, total, err := price(items, prices)
	if err != nil {
		return nil, err
	}
	if o.Exists() {
		if o.CustomerID == customerID && slices.Equal(o.Lines, lines) {
			return nil, nil
		}
		return nil, errorf(ErrConflict, "order %s was already placed with other contents", o.ID)
	}
	return []any{Placed{OrderID: o.ID, CustomerID: customerID, Lines: lines, Total: total}}, nil
}

// price merges items by SKU, prices them and sums the total.
func price(items []Item, prices Prices) ([]Line, money.Money, error) {
	if len(items) == 0 || len(items) > MaxLines {
		return nil, money.Money{}, errorf(ErrInvalid, "an order has 1 to %d items, not %d", MaxLines, len(items))
	}
	var lines []Line
	index := make(map[string]int, len(items))
	for _, it := range items {
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			return nil, money.Money{}, errorf(ErrInvalid, "sku %q: quantity %d, want 1 to %d", it.SKU, it.Quantity, MaxQuantity)
		}
		if i, dup := index[it.SKU]; dup {
			lines[i].Quantity += it.Quantity
			if lines[i].Quantity > MaxQuantity {
				return nil, money.Money{}, errorf(ErrInvalid, "sku %q: %d units in all, want at most %d", it.SKU, lines[i].Quantity, MaxQuantity)
			}
			continue
		}
		p, ok := prices[it.SKU]
		if !ok {
			return nil, money.Money{}, errorf(ErrInvalid, "sku %q is not in the catalog", it.SKU)
		}
		if err := p.Validate(); err != nil || p.IsZero() {
			return nil, money.Money{}, errorf(ErrInvalid, "sku %q has no valid price", it.SKU)
		}
		index[it.SKU] = len(lines)
		lines = append(lines, Line{SKU: it.SKU, Quantity: it.Quantity, UnitPrice: p})
	}
	total, err := sum(lines)
	return lines, total, err
}

func sum(lines []Line) (money.Money, error) {
	total := money.Zero(lines[0].UnitPrice.Currency)
	for _, l := range lines {
		amount, err := l.UnitPrice.Mul(int64(l.Quantity))
		if err == nil {
			total, err = total.Add(amount)
		}
		if err != nil {
			return money.Money{}, errorf(ErrInvalid, "total: %v", err)
		}
	}
	return total, nil
}
