package audit

import (
	"maps"
	"slices"
	"strings"

	"github.com/ordo-platform/ordo/pkg/money"

	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/payment"
)

// amounts is money by currency, so sums across orders cannot mix them.
type amounts map[string]int64

func (a amounts) add(m money.Money, sign int64) { a[m.Currency] += sign * m.Amount }

// is reports whether a equals m: m's currency holds m's amount and every
// other currency nets to zero.
func (a amounts) is(m money.Money) bool {
	for cur, v := range a {
		if (cur == m.Currency && v != m.Amount) || (cur != m.Currency && v != 0) {
			return false
		}
	}
	return a[m.Currency] == m.Amount
}

func (a amounts) zero() bool {
	for _, v := range a {
		if v != 0 {
			return false
		}
	}
	return true
}

func (a amounts) String() string {
	var parts []string
	for _, cur := range slices.Sorted(maps.Keys(a)) {
		if a[cur] != 0 {
			parts = append(parts, money.Money{Amount: a[cur], Currency: cur}.String())
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " + ")
}

// paymentFacts is what a payment stream says moved.
type paymentFacts struct {
	Captured, Refunded   bool
	Amount, RefundAmount money.Money
	ProviderRef          string
}

func foldPayments(h history, d decoder) map[string]*paymentFacts {
	payments := map[string]*paymentFacts{}
	for _, stream := range h.streamIDs(payment.Category) {
		p := &paymentFacts{}
		for _, e := range h.streams[stream] {
			switch ev := d.decode(e).(type) {
			case payment.Captured:
				p.Captured, p.Amount, p.ProviderRef = true, ev.Amount, ev.ProviderRef
			case payment.Refunded:
				p.Refunded, p.RefundAmount = true, ev.Amount
			}
		}
		payments[idOf(stream)] = p
	}
	return payments
}

// netFromEvents is each order's net charge as the payment events tell it:
// the money check's source when there is no ledger.
func netFromEvents(payments map[string]*paymentFacts) map[string]amounts {
	net := map[string]amounts{}
	for id, p := range payments {
		a := amounts{}
		if p.Captured {
			a.add(p.Amount, 1)
		}
		if p.Refunded {
			a.add(p.RefundAmount, -1)
		}
		net[id] = a
	}
	return net
}

// checkNet: each order's net charge is 0 or its total (the total when
// confirmed, 0 when cancelled), nobody is charged for an order that does
// not exist, and in all, captured − refunded = the confirmed orders' totals.
func checkNet(net map[string]amounts, orders map[string]*orderFacts, source string, f *findings) {
	total, confirmed := amounts{}, amounts{}
	for _, id := range sortedKeys(net) {
		n := net[id]
		total = sum(total, n)
		o := orders[id]
		switch {
		case n.zero():
		case o == nil || !o.Placed:
			f.violate(CheckMoney, id, "%s net charge %s for an order that was never placed", source, n)
		case !n.is(o.Total):
			f.violate(CheckMoney, id, "%s net charge %s is neither 0 nor the order total %s", source, n, o.Total)
		case o.Status() == order.StatusCancelled:
			f.violate(CheckMoney, id, "cancelled order still charged %s (%s)", n, source)
		}
	}
	for _, id := range sortedKeys(orders) {
		o := orders[id]
		if o.Placed && o.Status() == order.StatusConfirmed {
			confirmed.add(o.Total, 1)
			if n := net[id]; n == nil || n.zero() {
				f.violate(CheckMoney, id, "confirmed order for %s was never charged (%s)", o.Total, source)
			}
		}
	}
	if !equal(total, confirmed) {
		f.violate(CheckMoney, "total", "%s captured − refunded is %s; confirmed orders total %s", source, total, confirmed)
	}
}

func sum(a, b amounts) amounts {
	out := maps.Clone(a)
	for cur, v := range b {
		out[cur] += v
	}
	return out
}

func equal(a, b amounts) bool {
	d := sum(a, nil)
	for cur, v := range b {
		d[cur] -= v
	}
	return d.zero()
}
