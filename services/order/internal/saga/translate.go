package saga

import (
	"encoding/json"

	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
	flow "github.com/ordo-platform/ordo/services/order/saga"
)

// The payment events the saga observes. They are named here rather than
// imported so the order module does not depend on the payment module; the
// type names and the fields read below are payment's published contract.
const (
	paymentCaptured = "payment.captured"
	paymentDeclined = "payment.declined"
	paymentUnknown  = "payment.outcome_unknown"
	paymentRefunded = "payment.refunded"
)

// Observed lists the event types the runner subscribes to.
var Observed = []string{
	order.TypePlaced, order.TypeCancellationRequested, order.TypeConfirmed, order.TypeCancelled,
	inventory.TypeStockReserved, inventory.TypeStockReservationRejected, inventory.TypeStockReleased,
	inventory.TypeStockReservationExpired, inventory.TypeStockReservationSecured, inventory.TypeStockCommitted,
	paymentCaptured, paymentDeclined, paymentUnknown, paymentRefunded,
}

// body is the union of the fields the saga reads from the observed events.
type body struct {
	OrderID     string       `json:"order_id"`
	CustomerID  string       `json:"customer_id"`
	Lines       []order.Line `json:"lines"`
	Reason      string       `json:"reason"`
	SKU         string       `json:"sku"`
	Quantity    int          `json:"quantity"`
	Available   int          `json:"available"`
	ProviderRef string       `json:"provider_ref"`
	Detail      string       `json:"detail"`
}

// translate turns an observed event into the order id it belongs to and
// what the saga learns from it; ok is false for events it does not use.
func translate(typ string, data json.RawMessage) (orderID string, obs flow.Observation, ok bool) {
	var b body
	if err := json.Unmarshal(data, &b); err != nil || b.OrderID == "" {
		return "", nil, false
	}
	switch typ {
	case order.TypePlaced:
		var p order.Placed
		if err := json.Unmarshal(data, &p); err != nil {
			return "", nil, false
		}
		lines := make([]flow.Line, len(p.Lines))
		for i, l := range p.Lines {
			lines[i] = flow.Line{SKU: l.SKU, Quantity: l.Quantity}
		}
		obs = flow.OrderPlaced{OrderID: p.OrderID, CustomerID: p.CustomerID, Lines: lines, Amount: p.Total}
	case order.TypeCancellationRequested:
		obs = flow.CustomerCancelled{}
	case order.TypeConfirmed:
		obs = flow.OrderConfirmed{}
	case order.TypeCancelled:
		obs = flow.OrderCancelled{Reason: b.Reason}
	case inventory.TypeStockReserved:
		obs = flow.StockReserved{SKU: b.SKU, Quantity: b.Quantity}
	case inventory.TypeStockReservationRejected:
		obs = flow.StockRejected{SKU: b.SKU, Quantity: b.Quantity, Available: b.Available}
	case inventory.TypeStockReleased:
		obs = flow.StockReleased{SKU: b.SKU, Quantity: b.Quantity}
	case inventory.TypeStockReservationExpired:
		obs = flow.StockReleased{SKU: b.SKU, Quantity: b.Quantity, Expired: true}
	case inventory.TypeStockReservationSecured:
		obs = flow.StockSecured{SKU: b.SKU, Quantity: b.Quantity}
	case inventory.TypeStockCommitted:
		obs = flow.StockCommitted{SKU: b.SKU, Quantity: b.Quantity}
	case paymentCaptured:
		obs = flow.PaymentCaptured{ProviderRef: b.ProviderRef}
	case paymentDeclined:
		obs = flow.PaymentDeclined{Reason: b.Reason}
	case paymentUnknown:
		obs = flow.PaymentUnknown{Detail: b.Detail}
	case paymentRefunded:
		obs = flow.PaymentRefunded{}
	default:
		return "", nil, false
	}
	return b.OrderID, obs, true
}
