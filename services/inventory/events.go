package inventory

import (
	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
)

// Stream categories of the two aggregates.
const (
	ProductCategory = "product"
	StockCategory   = "stock"
)

// Event type names: a published contract. Never change one's meaning; a
// breaking change is a new type.
const (
	// TypeProductAdded: a SKU entered the catalog.
	TypeProductAdded = "product.added"
	// TypeProductPriceChanged: a catalogued product got a new price (orders placed before keep theirs).
	TypeProductPriceChanged = "product.price_changed"
	// TypeStockRestocked: units arrived and were added to on hand.
	TypeStockRestocked = "stock.restocked"
	// TypeStockReserved: units were set aside for an order.
	TypeStockReserved = "stock.reserved"
	// TypeStockReservationRejected: an order asked for more units than were available; nothing was set aside.
	TypeStockReservationRejected = "stock.reservation_rejected"
	// TypeStockReleased: an order's reservation was given back (quantity 0: nothing was reserved, a barrier against a late reserve).
	TypeStockReleased = "stock.released"
	// TypeStockCommitted: an order's reserved units were sold and left on hand.
	TypeStockCommitted = "stock.committed"
	// TypeStockReservationExpired: an order's reservation passed its deadline and was given back (quantity 0: a barrier, as for released).
	TypeStockReservationExpired = "stock.reservation_expired"
	// TypeStockReservationSecured: an order's reservation can no longer lapse; it stays until committed or released.
	TypeStockReservationSecured = "stock.reservation_secured"
)

// Register registers every inventory event with r. Call it once per registry.
func Register(r *es.Registry) {
	es.Register[ProductAdded](r, TypeProductAdded)
	es.Register[ProductPriceChanged](r, TypeProductPriceChanged)
	es.Register[StockRestocked](r, TypeStockRestocked)
	es.Register[StockReserved](r, TypeStockReserved)
	es.Register[StockReservationRejected](r, TypeStockReservationRejected)
	es.Register[StockReleased](r, TypeStockReleased)
	es.Register[StockCommitted](r, TypeStockCommitted)
	es.Register[StockReservationExpired](r, TypeStockReservationExpired)
	es.Register[StockReservationSecured](r, TypeStockReservationSecured)
}

// ProductAdded is the body of product.added.
type ProductAdded struct {
	SKU   string      `json:"sku"`
	Name  string      `json:"name"`
	Price money.Money `json:"price"`
}

// ProductPriceChanged is the body of product.price_changed.
type ProductPriceChanged struct {
	SKU           string      `json:"sku"`
	Price         money.Money `json:"price"`
	PreviousPrice money.Money `json:"previous_price"`
}

// The stock events carry the SKU's on-hand and available units after the
// event, so a read model can set them instead of adding up deltas, which
// makes replaying an event harmless.

// StockRestocked is the body of stock.restocked.
type StockRestocked struct {
	SKU       string `json:"sku"`
	Quantity  int    `json:"quantity"`
	OnHand    int    `json:"on_hand"`
	Available int    `json:"available"`
}

// StockReserved is the body of stock.reserved.
type StockReserved struct {
	SKU       string `json:"sku"`
	OrderID   string `json:"order_id"`
	Quantity  int    `json:"quantity"`
	OnHand    int    `json:"on_hand"`
	Available int    `json:"available"`
}

// StockReservationRejected is the body of stock.reservation_rejected.
type StockReservationRejected struct {
	SKU      string `json:"sku"`
	OrderID  string `json:"order_id"`
	Quantity int    `json:"quantity"`
	// Available is what could have been reserved instead.
	Available int `json:"available"`
}

// StockReleased is the body of stock.released.
type StockReleased struct {
	SKU     string `json:"sku"`
	OrderID string `json:"order_id"`
	// Quantity is the number of units given back; 0 when the release
	// arrived before (or instead of) a reservation.
	Quantity  int `json:"quantity"`
	OnHand    int `json:"on_hand"`
	Available int `json:"available"`
}

// StockCommitted is the body of stock.committed.
type StockCommitted struct {
	SKU       string `json:"sku"`
	OrderID   string `json:"order_id"`
	Quantity  int    `json:"quantity"`
	OnHand    int    `json:"on_hand"`
	Available int    `json:"available"`
}

// StockReservationExpired is the body of stock.reservation_expired.
type StockReservationExpired struct {
	SKU       string `json:"sku"`
	OrderID   string `json:"order_id"`
	Quantity  int    `json:"quantity"`
	OnHand    int    `json:"on_hand"`
	Available int    `json:"available"`
}

// StockReservationSecured is the body of stock.reservation_secured. The
// units stay reserved: on hand and available do not change.
type StockReservationSecured struct {
	SKU       string `json:"sku"`
	OrderID   string `json:"order_id"`
	Quantity  int    `json:"quantity"`
	OnHand    int    `json:"on_hand"`
	Available int    `json:"available"`
}
