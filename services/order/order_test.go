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
		{name: "prices lines from the catalog and totals them", when: place(alice, mug2, cof1), then: []any{placed}},
		{name: "merges items of one SKU into one line, first-seen order",
			when: place(alice, Item{SKU: "MUG-STONE-350", Quantity: 1}, cof1, Item{SKU: "MUG-STONE-350", Quantity: 1}),
			then: []any{placed}},
		{name: "again with the same contents is a no-op", given: []any{placed}, when: place(alice, mug2, cof1)},
		{name: "again with other contents conflicts", given: []any{placed}, when: place(alice, mug2), wantErr: ErrConflict},
		{name: "again for another customer conflicts", given: []any{placed}, when: place("bob", mug2, cof1), wantErr: ErrConflict},
		{name: "no items is invalid", when: place(alice), wantErr: ErrInvalid},
		{name: "more than MaxLines items is invalid", when: place(alice, items(MaxLines+1)...), wantErr: ErrInvalid},
		{name: "zero quantity is invalid", when: place(alice, Item{SKU: "COF-ETH-250"}), wantErr: ErrInvalid},
		{name: "negative quantity is invalid", when: place(alice, Item{SKU: "COF-ETH-250", Quantity: -1}), wantErr: ErrInvalid},
		{name: "quantity above MaxQuantity is invalid", when: place(alice, Item{SKU: "COF-ETH-250", Quantity: MaxQuantity + 1}), wantErr: ErrInvalid},
		{name: "merged quantity above MaxQuantity is invalid",
			when: place(alice, Item{SKU: "COF-ETH-250", Quantity: 60}, Item{SKU: "COF-ETH-250", Quantity: 41}), wantErr: ErrInvalid},
		{name: "SKU not in the catalog is invalid", when: place(alice, Item{SKU: "NOPE", Quantity: 1}), wantErr: ErrInvalid},
		{name: "empty customer is invalid", when: place("", mug2), wantErr: ErrInvalid},
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
		{name: "confirms a pending order", given: []any{placed}, when: confirm, then: []any{confirmed}},
		{name: "twice is a no-op", given: []any{placed, confirmed}, when: confirm},
		{name: "a cancelled order conflicts", given: []any{placed, Cancelled{OrderID: id, CustomerID: alice, Reason: ReasonOutOfStock}},
			when: confirm, wantErr: ErrConflict},
		{name: "after the customer asked to cancel conflicts", given: []any{placed, CancellationRequested{OrderID: id, CustomerID: alice}},
			when: confirm, wantErr: ErrConflict},
		{name: "unknown order is not found", when: confirm, wantErr: ErrNotFound},
	})
}

func TestCancel(t *testing.T) {
	cancelled := func(r Reason) Cancelled { return Cancelled{OrderID: id, CustomerID: alice, Reason: r} }
	runScenarios(t, Aggregate, id, []scenario[Order]{
		{name: "out of stock", given: []any{placed}, when: cancel(ReasonOutOfStock), then: []any{cancelled(ReasonOutOfStock)}},
		{name: "payment declined", given: []any{placed}, when: cancel(ReasonPaymentDeclined), then: []any{cancelled(ReasonPaymentDeclined)}},
		{name: "payment timeout", given: []any{placed}, when: cancel(ReasonPaymentTimeout), then: []any{cancelled(ReasonPaymentTimeout)}},
		{name: "customer cancelled after asking", given: []any{placed, CancellationRequested{OrderID: id, CustomerID: alice}},
			when: cancel(ReasonCustomerCancelled), then: []any{cancelled(ReasonCustomerCancelled)}},
		{name: "twice is a no-op, the first reason stands", given: []any{placed, cancelled(ReasonOutOfStock)},
			when: cancel(ReasonPaymentDeclined)},
		{name: "a confirmed order conflicts", given: []any{placed, Confirmed{OrderID: id, CustomerID: alice, Total: placed.Total}},
			when: cancel(ReasonCustomerCancelled), wantErr: ErrConflict},
		{name: "unknown reason is invalid", given: []any{placed}, when: cancel("bored"), wantErr: ErrInvalid},
		{name: "unknown order is not found", when: cancel(ReasonOutOfStock), wantErr: ErrNotFound},
	})
}

func TestRequestCancellation(t *testing.T) {
	requested := CancellationRequested{OrderID: id, CustomerID: alice}
	runScenarios(t, Aggregate, id, []scenario[Order]{
		{name: "while pending", given: []any{placed}, when: requestCancellation, then: []any{requested}},
		{name: "twice is a no-op", given: []any{placed, requested}, when: requestCancellation},
		{name: "after cancellation is a no-op", given: []any{placed, Cancelled{OrderID: id, CustomerID: alice, Reason: ReasonOutOfStock}},
			when: requestCancellation},
		{name: "after confirmation conflicts", given: []any{placed, Confirmed{OrderID: id, CustomerID: alice, Total: placed.Total}},
			when: requestCancellation, wantErr: ErrConflict},
		{name: "unknown order is not found", when: requestCancellation, wantErr: ErrNotFound},
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
