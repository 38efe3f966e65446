package inventory

import (
	"maps"

	"github.com/ordo-platform/ordo/pkg/es"
)

// Limits on quantities, far above what the shop needs, so sums cannot
// overflow.
const (
	// MaxQuantity is the most units one restock or reservation may move.
	MaxQuantity = 1_000_000
	// MaxOnHand is the most units a SKU may hold.
	MaxOnHand = 1_000_000_000
)

// ReservationStatus is where an order's reservation of one SKU stands.
type ReservationStatus string

// The reservation statuses. Reserved and Secured hold units; the others
// are final. A secured reservation can no longer lapse: the saga secures
// the lines of a paid order before it confirms it, so an expiry and a
// confirmation cannot both win.
const (
	Reserved  ReservationStatus = "reserved"
	Secured   ReservationStatus = "secured"
	Rejected  ReservationStatus = "rejected"
	Released  ReservationStatus = "released"
	Committed ReservationStatus = "committed"
	Expired   ReservationStatus = "expired"
)

// Reservation is what one order asked of one SKU and where it stands.
type Reservation struct {
	Quantity int
	Status   ReservationStatus
}

// Stock is the units of one SKU. Its id is the SKU.
type Stock struct {
	SKU string
	// OnHand counts units in the warehouse, reserved or not.
	OnHand int
	// Reserved counts units set aside for orders not yet committed.
	Reserved int
	// Restocks counts stock.restocked events, so Seed runs once.
	Restocks int
	// orders holds every order this SKU has seen, including barriers. It is
	// copied on write so that states stay values.
	orders map[string]Reservation
}

// StockAggregate runs Stock commands with es.Repository.
var StockAggregate = es.Aggregate[Stock]{
	Category: StockCategory,
	Initial:  func(sku string) Stock { return Stock{SKU: sku} },
	Apply:    applyStock,
}

// Available is what can still be reserved: on hand minus reserved.
func (s Stock) Available() int { return s.OnHand - s.Reserved }

// Reservation returns the order's reservation, if the SKU has seen the order.
func (s Stock) Reservation(orderID string) (Reservation, bool) {
	r, ok := s.orders[orderID]
	return r, ok
}

func applyStock(s Stock, event any) Stock {
	switch e := event.(type) {
	case StockRestocked:
		s.OnHand += e.Quantity
		s.Restocks++
	case StockReserved:
		s.Reserved += e.Quantity
		s = s.with(e.OrderID, Reservation{Quantity: e.Quantity, Status: Reserved})
	case StockReservationRejected:
		s = s.with(e.OrderID, Reservation{Quantity: e.Quantity, Status: Rejected})
	case StockReleased:
		s.Reserved -= e.Quantity
		s = s.with(e.OrderID, Reservation{Quantity: e.Quantity, Status: Released})
	case StockCommitted:
		s.Reserved -= e.Quantity
		s.OnHand -= e.Quantity
		s = s.with(e.OrderID, Reservation{Quantity: e.Quantity, Status: Committed})
	case StockReservationExpired:
		s.Reserved -= e.Quantity
		s = s.with(e.OrderID, Reservation{Quantity: e.Quantity, Status: Expired})
	case StockReservationSecured:
		s = s.with(e.OrderID, Reservation{Quantity: e.Quantity, Status: Secured})
	}
	return s
}

func (s Stock) with(orderID string, r Reservation) Stock {
	orders := maps.Clone(s.orders)
	if orders == nil {
		orders = make(map[string]Reservation, 1)
	}
	orders[orderID] = r
	s.orders = orders
	return s
}

// Restock adds units to on hand.
func (s Stock) Restock(qty int) ([]any, error) {
	if err := ValidateSKU(s.SKU); err != nil {
		return nil, err
	}
	if qty < 1 || qty > MaxQuantity {
		return nil, errorf(ErrInvalid, "restock quantity %d: want 1 to %d", qty, MaxQuantity)
	}
	if s.OnHand+qty > MaxOnHand {
		return nil, errorf(ErrConflict, "restock %s by %d: on hand would exceed %d", s.SKU, qty, MaxOnHand)
	}
	return []any{StockRestocked{SKU: s.SKU, Quantity: qty, OnHand: s.OnHand + qty, Available: s.Available() + qty}}, nil
}

// Seed restocks qty units only if the SKU has never been restocked, so a
// service may seed its catalog on every start.
func (s Stock) Seed(qty int) ([]any, error) {
	if s.Restocks > 0 {
		return nil, nil
	}
	return s.Restock(qty)
}

// Reserve sets qty units aside for an order, or records a rejection when
// fewer are available; stock never goes negative. Asking again for the same
// order is a no-op (the first answer stands), as is any reserve after the
// order's reservation was released, expired or committed: a release that
// overtook its reserve leaves a barrier.
func (s Stock) Reserve(orderID string, qty int) ([]any, error) {
	if err := validateOrderID(orderID); err != nil {
		return nil, err
	}
	if qty < 1 || qty > MaxQuantity {
		return nil, errorf(ErrInvalid, "reserve quantity %d: want 1 to %d", qty, MaxQuantity)
	}
	if r, seen := s.orders[orderID]; seen {
		switch r.Status {
		case Released, Expired:
			return nil, nil
		}
		if r.Quantity != qty {
			return nil, errorf(ErrConflict, "order %s already reserved %d of %s (%s), not %d", orderID, r.Quantity, s.SKU, r.Status, qty)
		}
		return nil, nil
	}
	if qty > s.Available() {
		return []any{StockReservationRejected{SKU: s.SKU, OrderID: orderID, Quantity: qty, Available: s.Available()}}, nil
	}
	return []any{StockReserved{SKU: s.SKU, OrderID: orderID, Quantity: qty, OnHand: s.OnHand, Available: s.Available() - qty}}, nil
}

// Release gives an order's reserved units back. With nothing reserved it
// succeeds: if the SKU has never seen the order it records a barrier
// (quantity 0) so a late reserve becomes a no-op; after a rejection, release
// or expiry it is a no-op. Releasing committed units is a conflict: they
// have been sold.
func (s Stock) Release(orderID string) ([]any, error) {
	if err := validateOrderID(orderID); err != nil {
		return nil, err
	}
	r, seen := s.orders[orderID]
	switch {
	case !seen:
		return []any{StockReleased{SKU: s.SKU, OrderID: orderID, OnHand: s.OnHand, Available: s.Available()}}, nil
	case r.Held():
		return []any{StockReleased{SKU: s.SKU, OrderID: orderID, Quantity: r.Quantity, OnHand: s.OnHand, Available: s.Available() + r.Quantity}}, nil
	case r.Status == Committed:
		return nil, errorf(ErrConflict, "order %s has committed %d of %s; they cannot be released", orderID, r.Quantity, s.SKU)
	}
	return nil, nil
}

// Secure makes an order's reservation permanent until it is committed or
// released: it can no longer lapse. Securing again, or securing committed
// units, is a no-op; securing a reservation that is gone (expired,
// released, rejected, never made) is a conflict: the order cannot be
// filled, and the saga, which sees that reservation's end, gives it up.
func (s Stock) Secure(orderID string) ([]any, error) {
	if err := validateOrderID(orderID); err != nil {
		return nil, err
	}
	r, seen := s.orders[orderID]
	switch {
	case seen && r.Status == Reserved:
		return []any{StockReservationSecured{SKU: s.SKU, OrderID: orderID, Quantity: r.Quantity, OnHand: s.OnHand, Available: s.Available()}}, nil
	case seen && (r.Status == Secured || r.Status == Committed):
		return nil, nil
	case !seen:
		return nil, errorf(ErrConflict, "order %s has no reservation of %s to secure", orderID, s.SKU)
	}
	return nil, errorf(ErrConflict, "order %s's reservation of %s is %s; nothing to secure", orderID, s.SKU, r.Status)
}

// Held reports whether the reservation still sets units aside.
func (r Reservation) Held() bool { return r.Status == Reserved || r.Status == Secured }

// Commit turns an order's reservation into a sale: the units leave on hand.
// Committing again is a no-op; committing without a live reservation is a
// conflict (the saga then refunds: the stock is gone).
func (s Stock) Commit(orderID string) ([]any, error) {
	if err := validateOrderID(orderID); err != nil {
		return nil, err
	}
	r, seen := s.orders[orderID]
	switch {
	case seen && r.Held():
		return []any{StockCommitted{SKU: s.SKU, OrderID: orderID, Quantity: r.Quantity, OnHand: s.OnHand - r.Quantity, Available: s.Available()}}, nil
	case seen && r.Status == Committed:
		return nil, nil
	case !seen:
		return nil, errorf(ErrConflict, "order %s has no reservation of %s to commit", orderID, s.SKU)
	}
	return nil, errorf(ErrConflict, "order %s's reservation of %s is %s; nothing to commit", orderID, s.SKU, r.Status)
}

// Expire gives back a reservation whose deadline passed. Like Release it
// records a barrier when the SKU has never seen the order; otherwise, with
// nothing reserved (rejected, released, expired, committed) or the
// reservation secured, it is a no-op: the deadline lost the race.
func (s Stock) Expire(orderID string) ([]any, error) {
	if err := validateOrderID(orderID); err != nil {
		return nil, err
	}
	r, seen := s.orders[orderID]
	switch {
	case !seen:
		return []any{StockReservationExpired{SKU: s.SKU, OrderID: orderID, OnHand: s.OnHand, Available: s.Available()}}, nil
	case r.Status == Reserved:
		return []any{StockReservationExpired{SKU: s.SKU, OrderID: orderID, Quantity: r.Quantity, OnHand: s.OnHand, Available: s.Available() + r.Quantity}}, nil
	}
	return nil, nil
}

func validateOrderID(id string) error {
	if id == "" || len(id) > 100 {
		return errorf(ErrInvalid, "order id must be 1 to 100 bytes")
	}
	return nil
}
