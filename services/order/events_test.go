package order

import (
	"testing"

	"github.com/ordo-platform/ordo/pkg/es/estest"
	"github.com/ordo-platform/ordo/pkg/money"
)

// TestEventsRegistered checks that every event type is registered exactly
// once under its documented name and survives Encode then Decode.
func TestEventsRegistered(t *testing.T) {
	samples := map[string]any{
		TypePlaced:                placed,
		TypeConfirmed:             Confirmed{OrderID: id, CustomerID: alice, Total: money.Euros(4270)},
		TypeCancelled:             Cancelled{OrderID: id, CustomerID: alice, Reason: ReasonPaymentDeclined},
		TypeCancellationRequested: CancellationRequested{OrderID: id, CustomerID: alice},
	}
	estest.CheckRegistry(t, Register, samples)
}
