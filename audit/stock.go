package audit

import (
	"fmt"

	"github.com/ordo-platform/ordo/pkg/es"

	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
)

// maxListed bounds how many versions one violation lists.
const maxListed = 10

type reservation struct {
	Qty    int
	Status inventory.ReservationStatus
}

// stockFacts is the audit's own fold of one SKU's stream: quantities are
// added up from the events' Quantity fields, never taken from their
// recorded on_hand, so a wrong recorded figure shows as a mismatch.
type stockFacts struct {
	SKU                                    string
	OnHand, Reserved, Restocked, Committed int
	Orders                                 map[string]reservation
	negative, mismatched                   []string
}

// foldStock folds every stock stream, noting each version where a figure
// goes negative or the event's recorded figures disagree with the fold.
func foldStock(h history, d decoder) map[string]*stockFacts {
	stocks := map[string]*stockFacts{}
	for _, stream := range h.streamIDs(inventory.StockCategory) {
		s := &stockFacts{SKU: idOf(stream), Orders: map[string]reservation{}}
		for _, e := range h.streams[stream] {
			if ev := d.decode(e); ev != nil {
				s.apply(e, ev)
			}
		}
		stocks[s.SKU] = s
	}
	return stocks
}

func (s *stockFacts) apply(e es.Event, ev any) {
	recorded := [2]int{-1, -1} // on_hand, available as the event recorded them; -1 when absent
	switch ev := ev.(type) {
	case inventory.StockRestocked:
		s.OnHand += ev.Quantity
		s.Restocked += ev.Quantity
		recorded = [2]int{ev.OnHand, ev.Available}
	case inventory.StockReserved:
		s.Reserved += ev.Quantity
		s.Orders[ev.OrderID] = reservation{ev.Quantity, inventory.Reserved}
		recorded = [2]int{ev.OnHand, ev.Available}
	case inventory.StockReservationRejected:
		s.Orders[ev.OrderID] = reservation{ev.Quantity, inventory.Rejected}
	case inventory.StockReleased:
		s.Reserved -= ev.Quantity
		s.Orders[ev.OrderID] = reservation{ev.Quantity, inventory.Released}
		recorded = [2]int{ev.OnHand, ev.Available}
	case inventory.StockCommitted:
		s.Reserved -= ev.Quantity
		s.OnHand -= ev.Quantity
		s.Committed += ev.Quantity
		s.Orders[ev.OrderID] = reservation{ev.Quantity, inventory.Committed}
		recorded = [2]int{ev.OnHand, ev.Available}
	case inventory.StockReservationExpired:
		s.Reserved -= ev.Quantity
		s.Orders[ev.OrderID] = reservation{ev.Quantity, inventory.Expired}
		recorded = [2]int{ev.OnHand, ev.Available}
	case inventory.StockReservationSecured:
		s.Orders[ev.OrderID] = reservation{ev.Quantity, inventory.Secured}
		recorded = [2]int{ev.OnHand, ev.Available}
	default:
		return
	}
	at := fmt.Sprintf("v%d (%s)", e.Version, e.Type)
	if s.OnHand < 0 || s.Reserved < 0 || s.OnHand-s.Reserved < 0 {
		s.negative = append(s.negative, fmt.Sprintf("%s on_hand=%d reserved=%d available=%d", at, s.OnHand, s.Reserved, s.OnHand-s.Reserved))
	}
	if recorded[0] >= 0 && (recorded[0] != s.OnHand || recorded[1] != s.OnHand-s.Reserved) {
		s.mismatched = append(s.mismatched, fmt.Sprintf("%s records on_hand=%d available=%d, restocks−committed=%d available=%d",
			at, recorded[0], recorded[1], s.OnHand, s.OnHand-s.Reserved))
	}
}

// checkStock reports negative figures, recorded figures that disagree with
// restocks − committed, and reservations not settled as their order was.
func checkStock(stocks map[string]*stockFacts, orders map[string]*orderFacts, f *findings, c *Counts) {
	c.SKUs = len(stocks)
	for _, sku := range sortedKeys(stocks) {
		s := stocks[sku]
		if len(s.negative) > 0 {
			f.violate(CheckStock, sku, "went negative at %d version(s): %s", len(s.negative), listed(s.negative))
		}
		if len(s.mismatched) > 0 {
			f.violate(CheckStock, sku, "recorded figures disagree at %d version(s): %s", len(s.mismatched), listed(s.mismatched))
		}
		for _, id := range sortedKeys(s.Orders) {
			checkReservation(sku, id, s.Orders[id], orders[id], f)
		}
	}
	for _, id := range sortedKeys(orders) {
		if o := orders[id]; o.Status() == order.StatusConfirmed {
			checkCommitted(o, stocks, f)
		}
	}
}

// checkReservation: a cancelled or unknown order holds no units and sold
// none. (A confirmed order's reservations are checked from its lines.)
func checkReservation(sku, orderID string, r reservation, o *orderFacts, f *findings) {
	subject := sku + " " + orderID
	switch {
	case (o == nil || !o.Placed) && (held(r) || r.Status == inventory.Committed):
		f.violate(CheckStock, subject, "%d unit(s) %s for an order that was never placed", r.Qty, r.Status)
	case o == nil:
	case o.Status() == order.StatusCancelled && held(r):
		f.violate(CheckStock, subject, "reservation of %d unit(s) still held by cancelled order", r.Qty)
	case o.Status() == order.StatusCancelled && r.Status == inventory.Committed:
		f.violate(CheckStock, subject, "%d unit(s) committed (sold) for cancelled order", r.Qty)
	}
}

// held: the reservation still sets units aside.
func held(r reservation) bool {
	return r.Status == inventory.Reserved || r.Status == inventory.Secured
}

// checkCommitted: every line of a confirmed order was committed, in full.
func checkCommitted(o *orderFacts, stocks map[string]*stockFacts, f *findings) {
	for _, l := range o.Lines {
		subject := l.SKU + " " + o.ID
		var r reservation
		var seen bool
		if s, ok := stocks[l.SKU]; ok {
			r, seen = s.Orders[o.ID]
		}
		switch {
		case !seen:
			f.violate(CheckStock, subject, "confirmed order's line of %d unit(s) has no reservation", l.Quantity)
		case r.Status != inventory.Committed:
			f.violate(CheckStock, subject, "confirmed order's reservation of %d unit(s) is %s, not committed", r.Qty, r.Status)
		case r.Qty != l.Quantity:
			f.violate(CheckStock, subject, "confirmed order committed %d unit(s), its line is for %d", r.Qty, l.Quantity)
		}
	}
}

func listed(items []string) string {
	if len(items) <= maxListed {
		return fmt.Sprint(items)
	}
	return fmt.Sprintf("%v and %d more", items[:maxListed], len(items)-maxListed)
}
