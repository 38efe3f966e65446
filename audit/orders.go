package audit

import (
	"github.com/ordo-platform/ordo/pkg/money"

	"github.com/ordo-platform/ordo/services/order"
)

// orderFacts is what the order stream says about one order.
type orderFacts struct {
	ID        string
	Customer  string
	Placed    bool
	Lines     []order.Line
	Total     money.Money
	Confirmed bool
	Cancelled bool
	Reason    order.Reason
}

// Status is the order's outcome: confirmed, cancelled or pending (both is
// an orders violation, reported separately; it counts as confirmed here).
func (o *orderFacts) Status() order.Status {
	switch {
	case o.Confirmed:
		return order.StatusConfirmed
	case o.Cancelled:
		return order.StatusCancelled
	}
	return order.StatusPending
}

// foldOrders reads every order stream.
func foldOrders(h history, d decoder) map[string]*orderFacts {
	orders := map[string]*orderFacts{}
	for _, stream := range h.streamIDs(order.Category) {
		o := &orderFacts{ID: idOf(stream)}
		for _, e := range h.streams[stream] {
			switch ev := d.decode(e).(type) {
			case order.Placed:
				o.Placed, o.Customer, o.Lines, o.Total = true, ev.CustomerID, ev.Lines, ev.Total
			case order.Confirmed:
				o.Confirmed = true
			case order.Cancelled:
				o.Cancelled, o.Reason = true, ev.Reason
			}
		}
		orders[o.ID] = o
	}
	return orders
}

// checkOrders: every placed order is confirmed or cancelled, never both,
// and nothing happens to an order that was never placed.
func checkOrders(orders map[string]*orderFacts, f *findings, c *Counts) {
	for _, id := range sortedKeys(orders) {
		o := orders[id]
		switch {
		case !o.Placed:
			f.violate(CheckOrders, id, "order stream has events but no %s", order.TypePlaced)
			continue
		case o.Confirmed && o.Cancelled:
			f.violate(CheckOrders, id, "both confirmed and cancelled (reason %s)", o.Reason)
		case !o.Confirmed && !o.Cancelled:
			f.violate(CheckOrders, id, "still pending: placed for %s, never confirmed or cancelled", o.Total)
		}
		c.Orders++
		switch o.Status() {
		case order.StatusConfirmed:
			c.Confirmed++
		case order.StatusCancelled:
			c.Cancelled++
		default:
			c.Pending++
		}
	}
}
