package order

import (
	"errors"
	"testing"

	"github.com/ordo-platform/ordo/pkg/money"
)

const (
	id    = "7f3c2a10-0000-4000-8000-000000000001"
	alice = "alice"
)

var catalog = Prices{
	"COF-ETH-250":   money.Euros(1290),
	"MUG-STONE-350": money.Euros(1490),
}

var (
	mugLine = Line{SKU: "MUG-STONE-350", Quantity: 2, UnitPrice: money.Euros(1490)}
	cofLine = Line{SKU: "COF-ETH-250", Quantity: 1, UnitPrice: money.Euros(1290)}
	placed  = Placed{OrderID: id, CustomerID: alice, Lines: []Line{mugLine, cofLine}, Total: money.Euros(4270)}
)

func place(customer string, items ...Item) func(Order) ([]any, error) {
	return func(o Order) ([]any, error) { return o.Place(customer, items, catalog) }
}

func confirm(o Order) ([]any, error)             { return o.Confirm() }
func requestCancellation(o Order) ([]any, error) { return o.RequestCancellation() }

func cancel(r Reason) func(Order) ([]any, error) {
	return func(o Order) ([]any, error) { return o.Cancel(r) }
}

func items(n int) []Item {
	out := make([]Item, n)
	for i := range out {
		out[i] = Item{SKU: "MUG-STONE-350", Quantity: 1}
	}
	return out
}

func TestPlace(t *testing.T) {
	mug2 := Item{SKU: "MUG-STONE-350", Quantity: 2}
	cof1 := Item{SKU: "COF-ETH-250", Quantity: 1}
	runScenarios(t, Aggregate, id, []scenario[Order]{
		{Name: "prices lines from the catalog and totals them", When: place(alice, mug2, cof1), Then: []any{placed}},
		{Name: "merges items of one SKU into one line, first-seen order",
			When: place(alice, Item{SKU: "MUG-STONE-350", Quantity: 1}, cof1, Item{SKU: "MUG-STONE-350", Quantity: 1}),
			Then: []any{placed}},
		{Name: "again with the same contents is a no-op", Given: []any{placed}, When: place(alice, mug2, cof1)},
		{Name: "again with other contents conflicts", Given: []any{placed}, When: place(alice, mug2), WantErr: ErrConflict},
		{Name: "again for another customer conflicts", Given: []any{placed}, When: place("bob", mug2, cof1), WantErr: ErrConflict},
		{Name: "no items is invalid", When: place(alice), WantErr: ErrInvalid},
		{Name: "more than MaxLines items is invalid", When: place(alice, items(MaxLines+1)...), WantErr: ErrInvalid},
		{Name: "zero quantity is invalid", When: place(alice, Item{SKU: "COF-ETH-250"}), WantErr: ErrInvalid},
		{Name: "negative quantity is invalid", When: place(alice, Item{SKU: "COF-ETH-250", Quantity: -1}), WantErr: ErrInvalid},
		{Name: "quantity above MaxQuantity is invalid", When: place(alice, Item{SKU: "COF-ETH-250", Quantity: MaxQuantity + 1}), WantErr: ErrInvalid},
		{Name: "merged quantity above MaxQuantity is invalid",
			When: place(alice, Item{SKU: "COF-ETH-250", Quantity: 60}, Item{SKU: "COF-ETH-250", Quantity: 41}), WantErr: ErrInvalid},
		{Name: "SKU not in the catalog is invalid", When: place(alice, Item{SKU: "NOPE", Quantity: 1}), WantErr: ErrInvalid},
		{Name: "empty customer is invalid", When: place("", mug2), WantErr: ErrInvalid},
	})
}

func TestPlaceMaxLines(t *testing.T) {
	prices := Prices{}
	many := make([]Item, MaxLines)
	for i := range many {
		sku := "SKU-" + string(rune('A'+i/26)) + string(rune('A'+i%26))
		prices[sku] = money.Euros(100)
		many[i] = Item{SKU: sku, Quantity: MaxQuantity}
	}
	events, err := Aggregate.Initial(id).Place(alice, many, prices)
	if err != nil {
		t.Fatal(err)
	}
	if got := events[0].(Placed); len(got.Lines) != MaxLines || got.Total != money.Euros(100*MaxQuantity*MaxLines) {
		t.Errorf("%d lines, total %v", len(got.Lines), got.Total)
	}
}

func TestPlaceRejectsBadPrices(t *testing.T) {
	for name, prices := range map[string]Prices{
		"zero price":       {"A": money.Euros(0)},
		"no currency":      {"A": {Amount: 5}},
		"mixed currencies": {"A": money.Euros(5), "B": {Amount: 5, Currency: "USD"}},
		"overflow":         {"A": money.Euros(1 << 62), "B": money.Euros(1 << 62)},
	} {
		_, err := Aggregate.Initial(id).Place(alice, []Item{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 1}}, prices)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := Aggregate.Initial("").Place(alice, []Item{{SKU: "COF-ETH-250", Quantity: 1}}, catalog); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty order id: error = %v, want ErrInvalid", err)
	}
}

func TestConfirm(t *testing.T) {
	confirmed := Confirmed{OrderID: id, CustomerID: alice, Total: money.Euros(4270)}
	runScenarios(t, Aggregate, id, []scenario[Order]{
		{Name: "confirms a pending order", Given: []any{placed}, When: confirm, Then: []any{confirmed}},
		{Name: "twice is a no-op", Given: []any{placed, confirmed}, When: confirm},
		{Name: "a cancelled order conflicts", Given: []any{placed, Cancelled{OrderID: id, CustomerID: alice, Reason: ReasonOutOfStock}},
			When: confirm, WantErr: ErrConflict},
		{Name: "after the customer asked to cancel conflicts", Given: []any{placed, CancellationRequested{OrderID: id, CustomerID: alice}},
			When: confirm, WantErr: ErrConflict},
		{Name: "unknown order is not found", When: confirm, WantErr: ErrNotFound},
	})
}

func TestCancel(t *testing.T) {
	cancelled := func(r Reason) Cancelled { return Cancelled{OrderID: id, CustomerID: alice, Reason: r} }
	runScenarios(t, Aggregate, id, []scenario[Order]{
		{Name: "out of stock", Given: []any{placed}, When: cancel(ReasonOutOfStock), Then: []any{cancelled(ReasonOutOfStock)}},
		{Name: "payment declined", Given: []any{placed}, When: cancel(ReasonPaymentDeclined), Then: []any{cancelled(ReasonPaymentDeclined)}},
		{Name: "payment timeout", Given: []any{placed}, When: cancel(ReasonPaymentTimeout), Then: []any{cancelled(ReasonPaymentTimeout)}},
		{Name: "customer cancelled after asking", Given: []any{placed, CancellationRequested{OrderID: id, CustomerID: alice}},
			When: cancel(ReasonCustomerCancelled), Then: []any{cancelled(ReasonCustomerCancelled)}},
		{Name: "twice is a no-op, the first reason stands", Given: []any{placed, cancelled(ReasonOutOfStock)},
			When: cancel(ReasonPaymentDeclined)},
		{Name: "a confirmed order conflicts", Given: []any{placed, Confirmed{OrderID: id, CustomerID: alice, Total: placed.Total}},
			When: cancel(ReasonCustomerCancelled), WantErr: ErrConflict},
		{Name: "unknown reason is invalid", Given: []any{placed}, When: cancel("bored"), WantErr: ErrInvalid},
		{Name: "unknown order is not found", When: cancel(ReasonOutOfStock), WantErr: ErrNotFound},
	})
}

func TestRequestCancellation(t *testing.T) {
	requested := CancellationRequested{OrderID: id, CustomerID: alice}
	runScenarios(t, Aggregate, id, []scenario[Order]{
		{Name: "while pending", Given: []any{placed}, When: requestCancellation, Then: []any{requested}},
		{Name: "twice is a no-op", Given: []any{placed, requested}, When: requestCancellation},
		{Name: "after cancellation is a no-op", Given: []any{placed, Cancelled{OrderID: id, CustomerID: alice, Reason: ReasonOutOfStock}},
			When: requestCancellation},
		{Name: "after confirmation conflicts", Given: []any{placed, Confirmed{OrderID: id, CustomerID: alice, Total: placed.Total}},
			When: requestCancellation, WantErr: ErrConflict},
		{Name: "unknown order is not found", When: requestCancellation, WantErr: ErrNotFound},
	})
}

func TestOrderState(t *testing.T) {
	o := Aggregate.Apply(Aggregate.Initial(id), placed)
	if o.Status != StatusPending || o.Final() || !o.Exists() || o.Total != placed.Total || len(o.Lines) != 2 {
		t.Errorf("after placed: %+v", o)
	}
	placed.Lines[0].Quantity = 99 // the state must not share the event's slice
	defer func() { placed.Lines[0].Quantity = 2 }()
	if o.Lines[0].Quantity != 2 {
		t.Error("state shares its lines with the event")
	}
	o = Aggregate.Apply(o, Cancelled{OrderID: id, CustomerID: alice, Reason: ReasonPaymentTimeout})
	if o.Status != StatusCancelled || !o.Final() || o.Reason != ReasonPaymentTimeout {
		t.Errorf("after cancelled: %+v", o)
	}
}
