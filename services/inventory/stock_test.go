package inventory

import (
	"errors"
	"math/rand/v2"
	"testing"
)

const sku = "MUG-STONE-350"

func restocked(qty, onHand, avail int) StockRestocked {
	return StockRestocked{SKU: sku, Quantity: qty, OnHand: onHand, Available: avail}
}

func reserved(order string, qty, onHand, avail int) StockReserved {
	return StockReserved{SKU: sku, OrderID: order, Quantity: qty, OnHand: onHand, Available: avail}
}

func rejected(order string, qty, avail int) StockReservationRejected {
	return StockReservationRejected{SKU: sku, OrderID: order, Quantity: qty, Available: avail}
}

func released(order string, qty, onHand, avail int) StockReleased {
	return StockReleased{SKU: sku, OrderID: order, Quantity: qty, OnHand: onHand, Available: avail}
}

func committed(order string, qty, onHand, avail int) StockCommitted {
	return StockCommitted{SKU: sku, OrderID: order, Quantity: qty, OnHand: onHand, Available: avail}
}

func expired(order string, qty, onHand, avail int) StockReservationExpired {
	return StockReservationExpired{SKU: sku, OrderID: order, Quantity: qty, OnHand: onHand, Available: avail}
}

func secured(order string, qty, onHand, avail int) StockReservationSecured {
	return StockReservationSecured{SKU: sku, OrderID: order, Quantity: qty, OnHand: onHand, Available: avail}
}

func secure(order string) func(Stock) ([]any, error) {
	return func(s Stock) ([]any, error) { return s.Secure(order) }
}

func restock(qty int) func(Stock) ([]any, error) {
	return func(s Stock) ([]any, error) { return s.Restock(qty) }
}

func reserve(order string, qty int) func(Stock) ([]any, error) {
	return func(s Stock) ([]any, error) { return s.Reserve(order, qty) }
}

func release(order string) func(Stock) ([]any, error) {
	return func(s Stock) ([]any, error) { return s.Release(order) }
}

func commit(order string) func(Stock) ([]any, error) {
	return func(s Stock) ([]any, error) { return s.Commit(order) }
}

func expire(order string) func(Stock) ([]any, error) {
	return func(s Stock) ([]any, error) { return s.Expire(order) }
}

func TestRestock(t *testing.T) {
	runScenarios(t, StockAggregate, sku, []scenario[Stock]{
		{Name: "adds to on hand", When: restock(5), Then: []any{restocked(5, 5, 5)}},
		{Name: "keeps reservations", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7)},
			When: restock(2), Then: []any{restocked(2, 12, 9)}},
		{Name: "zero is invalid", When: restock(0), WantErr: ErrInvalid},
		{Name: "negative is invalid", When: restock(-1), WantErr: ErrInvalid},
		{Name: "above the per-restock limit is invalid", When: restock(MaxQuantity + 1), WantErr: ErrInvalid},
		{Name: "past the on-hand limit conflicts", Given: []any{restocked(MaxOnHand, MaxOnHand, MaxOnHand)},
			When: restock(1), WantErr: ErrConflict},
	})
}

func TestRestockRejectsBadSKU(t *testing.T) {
	for _, bad := range []string{"", "mug", "-MUG", "MUG 1", "MUG/1", string(make([]byte, 65))} {
		if _, err := StockAggregate.Initial(bad).Restock(1); !errors.Is(err, ErrInvalid) {
			t.Errorf("Restock on SKU %q: error = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestSeed(t *testing.T) {
	runScenarios(t, StockAggregate, sku, []scenario[Stock]{
		{Name: "first seed restocks", When: func(s Stock) ([]any, error) { return s.Seed(7) }, Then: []any{restocked(7, 7, 7)}},
		{Name: "seeding again is a no-op", Given: []any{restocked(7, 7, 7), reserved("o1", 7, 7, 0), committed("o1", 7, 0, 0)},
			When: func(s Stock) ([]any, error) { return s.Seed(7) }},
	})
}

func TestReserve(t *testing.T) {
	runScenarios(t, StockAggregate, sku, []scenario[Stock]{
		{Name: "sets units aside", Given: []any{restocked(10, 10, 10)},
			When: reserve("o1", 3), Then: []any{reserved("o1", 3, 10, 7)}},
		{Name: "may take everything available", Given: []any{restocked(10, 10, 10), reserved("o1", 4, 10, 6)},
			When: reserve("o2", 6), Then: []any{reserved("o2", 6, 10, 0)}},
		{Name: "rejects more than available: stock never negative", Given: []any{restocked(5, 5, 5), reserved("o1", 3, 5, 2)},
			When: reserve("o2", 3), Then: []any{rejected("o2", 3, 2)}},
		{Name: "rejects when never stocked", When: reserve("o1", 1), Then: []any{rejected("o1", 1, 0)}},
		{Name: "duplicate is a no-op", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7)},
			When: reserve("o1", 3)},
		{Name: "duplicate with another quantity conflicts", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7)},
			When: reserve("o1", 4), WantErr: ErrConflict},
		{Name: "after a rejection the first answer stands", Given: []any{rejected("o1", 3, 0), restocked(10, 10, 10)},
			When: reserve("o1", 3)},
		{Name: "after a release barrier is a no-op", Given: []any{restocked(10, 10, 10), released("o1", 0, 10, 10)},
			When: reserve("o1", 3)},
		{Name: "after an expiry barrier is a no-op", Given: []any{restocked(10, 10, 10), expired("o1", 0, 10, 10)},
			When: reserve("o1", 3)},
		{Name: "after a release of a reservation is a no-op", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), released("o1", 3, 10, 10)},
			When: reserve("o1", 3)},
		{Name: "after commit is a no-op", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), committed("o1", 3, 7, 7)},
			When: reserve("o1", 3)},
		{Name: "zero quantity is invalid", Given: []any{restocked(10, 10, 10)}, When: reserve("o1", 0), WantErr: ErrInvalid},
		{Name: "huge quantity is invalid", When: reserve("o1", MaxQuantity+1), WantErr: ErrInvalid},
		{Name: "empty order id is invalid", Given: []any{restocked(10, 10, 10)}, When: reserve("", 1), WantErr: ErrInvalid},
	})
}

func TestRelease(t *testing.T) {
	runScenarios(t, StockAggregate, sku, []scenario[Stock]{
		{Name: "gives reserved units back", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7)},
			When: release("o1"), Then: []any{released("o1", 3, 10, 10)}},
		{Name: "before any reserve records a barrier", Given: []any{restocked(10, 10, 10)},
			When: release("o1"), Then: []any{released("o1", 0, 10, 10)}},
		{Name: "twice is a no-op", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), released("o1", 3, 10, 10)},
			When: release("o1")},
		{Name: "after a rejection succeeds with nothing to undo", Given: []any{rejected("o1", 3, 0)},
			When: release("o1")},
		{Name: "after expiry is a no-op", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), expired("o1", 3, 10, 10)},
			When: release("o1")},
		{Name: "after commit conflicts", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), committed("o1", 3, 7, 7)},
			When: release("o1"), WantErr: ErrConflict},
		{Name: "gives secured units back", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), secured("o1", 3, 10, 7)},
			When: release("o1"), Then: []any{released("o1", 3, 10, 10)}},
		{Name: "empty order id is invalid", When: release(""), WantErr: ErrInvalid},
	})
}

func TestCommit(t *testing.T) {
	runScenarios(t, StockAggregate, sku, []scenario[Stock]{
		{Name: "reserved units leave on hand", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7)},
			When: commit("o1"), Then: []any{committed("o1", 3, 7, 7)}},
		{Name: "twice is a no-op", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), committed("o1", 3, 7, 7)},
			When: commit("o1")},
		{Name: "without a reservation conflicts", Given: []any{restocked(10, 10, 10)},
			When: commit("o1"), WantErr: ErrConflict},
		{Name: "after a release conflicts", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), released("o1", 3, 10, 10)},
			When: commit("o1"), WantErr: ErrConflict},
		{Name: "after a rejection conflicts", Given: []any{rejected("o1", 3, 0)},
			When: commit("o1"), WantErr: ErrConflict},
		{Name: "after expiry conflicts", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), expired("o1", 3, 10, 10)},
			When: commit("o1"), WantErr: ErrConflict},
		{Name: "secured units leave on hand", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), secured("o1", 3, 10, 7)},
			When: commit("o1"), Then: []any{committed("o1", 3, 7, 7)}},
		{Name: "empty order id is invalid", When: commit(""), WantErr: ErrInvalid},
	})
}

func TestSecure(t *testing.T) {
	runScenarios(t, StockAggregate, sku, []scenario[Stock]{
		{Name: "keeps the units reserved", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7)},
			When: secure("o1"), Then: []any{secured("o1", 3, 10, 7)}},
		{Name: "twice is a no-op", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), secured("o1", 3, 10, 7)},
			When: secure("o1")},
		{Name: "after commit is a no-op", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), committed("o1", 3, 7, 7)},
			When: secure("o1")},
		{Name: "after expiry conflicts: the deadline won", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), expired("o1", 3, 10, 10)},
			When: secure("o1"), WantErr: ErrConflict},
		{Name: "after a release conflicts", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), released("o1", 3, 10, 10)},
			When: secure("o1"), WantErr: ErrConflict},
		{Name: "after a rejection conflicts", Given: []any{rejected("o1", 3, 0)},
			When: secure("o1"), WantErr: ErrConflict},
		{Name: "without a reservation conflicts", Given: []any{restocked(10, 10, 10)},
			When: secure("o1"), WantErr: ErrConflict},
		{Name: "empty order id is invalid", When: secure(""), WantErr: ErrInvalid},
	})
}

func TestExpire(t *testing.T) {
	runScenarios(t, StockAggregate, sku, []scenario[Stock]{
		{Name: "gives reserved units back", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7)},
			When: expire("o1"), Then: []any{expired("o1", 3, 10, 10)}},
		{Name: "before any reserve records a barrier", Given: []any{restocked(10, 10, 10)},
			When: expire("o1"), Then: []any{expired("o1", 0, 10, 10)}},
		{Name: "twice is a no-op", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), expired("o1", 3, 10, 10)},
			When: expire("o1")},
		{Name: "after commit is a no-op: the deadline lost the race", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), committed("o1", 3, 7, 7)},
			When: expire("o1")},
		{Name: "after release is a no-op", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), released("o1", 3, 10, 10)},
			When: expire("o1")},
		{Name: "after a rejection is a no-op", Given: []any{rejected("o1", 3, 0)},
			When: expire("o1")},
		{Name: "a secured reservation does not lapse", Given: []any{restocked(10, 10, 10), reserved("o1", 3, 10, 7), secured("o1", 3, 10, 7)},
			When: expire("o1")},
		{Name: "empty order id is invalid", When: expire(""), WantErr: ErrInvalid},
	})
}

func TestStockState(t *testing.T) {
	s := fold(StockAggregate.Initial(sku), restocked(10, 10, 10), reserved("o1", 3, 10, 7), reserved("o2", 2, 10, 5), committed("o1", 3, 7, 5))
	if s.OnHand != 7 || s.Reserved != 2 || s.Available() != 5 {
		t.Errorf("on hand %d, reserved %d, available %d; want 7, 2, 5", s.OnHand, s.Reserved, s.Available())
	}
	if r, ok := s.Reservation("o1"); !ok || r != (Reservation{Quantity: 3, Status: Committed}) {
		t.Errorf("Reservation(o1) = %+v, %v", r, ok)
	}
	if _, ok := s.Reservation("o3"); ok {
		t.Error("Reservation(o3) found, want none")
	}
}

func TestApplyStockIsPure(t *testing.T) {
	before := fold(StockAggregate.Initial(sku), restocked(10, 10, 10), reserved("o1", 3, 10, 7))
	_ = StockAggregate.Apply(before, reserved("o2", 2, 10, 5))
	if _, ok := before.Reservation("o2"); ok || before.Reserved != 3 {
		t.Errorf("Apply changed the state it was given: %+v", before)
	}
}

// TestStockInvariants drives random commands, including duplicates and
// compensations out of order, and checks after each step that stock never
// goes negative and on hand equals restocks minus committed sales.
func TestStockInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	orders := []string{"o1", "o2", "o3", "o4", "o5", "o6"}
	s := StockAggregate.Initial(sku)
	restockedUnits, committedUnits := 0, 0
	for step := range 2000 {
		order := orders[rng.IntN(len(orders))]
		var events []any
		var err error
		switch rng.IntN(6) {
		case 0:
			events, err = s.Restock(1 + rng.IntN(3))
		case 1:
			events, err = s.Reserve(order, 1+rng.IntN(4))
		case 2:
			events, err = s.Release(order)
		case 3:
			events, err = s.Commit(order)
		case 4:
			events, err = s.Expire(order)
		case 5:
			events, err = s.Secure(order)
		}
		if err != nil && !errors.Is(err, ErrConflict) {
			t.Fatalf("step %d: %v", step, err)
		}
		for _, e := range events {
			switch e := e.(type) {
			case StockRestocked:
				restockedUnits += e.Quantity
			case StockCommitted:
				committedUnits += e.Quantity
			}
			s = StockAggregate.Apply(s, e)
		}
		if s.OnHand < 0 || s.Available() < 0 || s.Reserved < 0 || s.OnHand != restockedUnits-committedUnits {
			t.Fatalf("step %d: on hand %d, reserved %d, available %d; restocked %d, committed %d",
				step, s.OnHand, s.Reserved, s.Available(), restockedUnits, committedUnits)
		}
		if step%50 == 0 { // fresh orders, so reservations keep happening
			orders = append(orders[1:], orders[0]+"x")
		}
	}
}

func fold(s Stock, events ...any) Stock {
	for _, e := range events {
		s = StockAggregate.Apply(s, e)
	}
	return s
}
