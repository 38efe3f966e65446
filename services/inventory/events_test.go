package inventory

import (
	"testing"

	"github.com/ordo-platform/ordo/pkg/es/estest"
	"github.com/ordo-platform/ordo/pkg/money"
)

// TestEventsRegistered checks that every event type is registered exactly
// once under its documented name and survives Encode then Decode.
func TestEventsRegistered(t *testing.T) {
	samples := map[string]any{
		TypeProductAdded:             ProductAdded{SKU: sku, Name: "Mug", Price: money.Euros(1490)},
		TypeProductPriceChanged:      ProductPriceChanged{SKU: sku, Price: money.Euros(1590), PreviousPrice: money.Euros(1490)},
		TypeStockRestocked:           restocked(5, 5, 5),
		TypeStockReserved:            reserved("o1", 2, 5, 3),
		TypeStockReservationRejected: rejected("o1", 9, 3),
		TypeStockReleased:            released("o1", 2, 5, 5),
		TypeStockCommitted:           committed("o1", 2, 3, 3),
		TypeStockReservationExpired:  expired("o1", 2, 5, 5),
		TypeStockReservationSecured:  secured("o1", 2, 5, 3),
	}
	estest.CheckRegistry(t, Register, samples)
}
