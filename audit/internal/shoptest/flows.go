package shoptest

import (
	"fmt"
	"net/smtp"
	"strings"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"

	"github.com/ordo-platform/ordo/audit"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/payment"
)

func must[S any](s *Shop, what string, _ es.Outcome[S], err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

// Restock adds units of a SKU.
func (s *Shop) Restock(sku string, qty int) {
	s.t.Helper()
	out, err := s.stock.Execute(s.Ctx, sku, func(st inventory.Stock) ([]any, error) { return st.Restock(qty) })
	must(s, "restock "+sku, out, err)
}

// Place places an order and returns it.
func (s *Shop) Place(id, customer string, items ...order.Item) order.Order {
	s.t.Helper()
	out, err := s.orders.Execute(s.Ctx, id, func(o order.Order) ([]any, error) { return o.Place(customer, items, Prices) })
	must(s, "place "+id, out, err)
	return out.State
}

// Reserve reserves every line; it reports whether all were reserved.
func (s *Shop) Reserve(o order.Order) bool {
	s.t.Helper()
	all := true
	for _, l := range o.Lines {
		out, err := s.stock.Execute(s.Ctx, l.SKU, func(st inventory.Stock) ([]any, error) { return st.Reserve(o.ID, l.Quantity) })
		must(s, "reserve", out, err)
		if r, _ := out.State.Reservation(o.ID); r.Status != inventory.Reserved {
			all = false
		}
	}
	return all
}

func (s *Shop) eachLine(o order.Order, what string, do func(inventory.Stock) ([]any, error)) {
	s.t.Helper()
	for _, l := range o.Lines {
		out, err := s.stock.Execute(s.Ctx, l.SKU, do)
		must(s, what+" "+l.SKU, out, err)
	}
}

func (s *Shop) payment(id, what string, do func(payment.Payment) ([]any, error)) {
	s.t.Helper()
	out, err := s.pay.Execute(s.Ctx, id, do)
	must(s, what+" "+id, out, err)
}

func (s *Shop) order(id, what string, do func(order.Order) ([]any, error)) {
	s.t.Helper()
	out, err := s.orders.Execute(s.Ctx, id, do)
	must(s, what+" "+id, out, err)
}

// Capture requests the payment, charges it in the ledger and records the
// capture; it returns the charge.
func (s *Shop) Capture(o order.Order) audit.Charge {
	s.t.Helper()
	s.payment(o.ID, "request", func(p payment.Payment) ([]any, error) { return p.Request(o.Total) })
	c := s.Charge("ch_"+o.ID, o.ID, audit.ChargeCaptured, o.Total)
	s.payment(o.ID, "capture", func(p payment.Payment) ([]any, error) { return p.Capture(c.ID) })
	return c
}

// Confirm runs the happy path of the saga: reserve, capture, commit,
// confirm, email.
func (s *Shop) Confirm(o order.Order) {
	s.t.Helper()
	if !s.Reserve(o) {
		s.t.Fatalf("confirm %s: stock not reserved", o.ID)
	}
	s.Capture(o)
	s.eachLine(o, "commit", func(st inventory.Stock) ([]any, error) { return st.Commit(o.ID) })
	s.order(o.ID, "confirm", func(x order.Order) ([]any, error) { return x.Confirm() })
	s.Email(o.ID, notify.KindOrderConfirmed, o.CustomerID)
}

// OutOfStock reserves what it can, releases it and cancels the order.
func (s *Shop) OutOfStock(o order.Order) {
	s.t.Helper()
	if s.Reserve(o) {
		s.t.Fatalf("out of stock %s: every line was reserved", o.ID)
	}
	s.cancel(o, order.ReasonOutOfStock)
}

// Decline reserves, has the provider decline, releases and cancels.
func (s *Shop) Decline(o order.Order) {
	s.t.Helper()
	s.Reserve(o)
	s.payment(o.ID, "request", func(p payment.Payment) ([]any, error) { return p.Request(o.Total) })
	s.Charge("ch_"+o.ID, o.ID, "declined", o.Total)
	s.payment(o.ID, "decline", func(p payment.Payment) ([]any, error) { return p.Decline("card_declined") })
	s.cancel(o, order.ReasonPaymentDeclined)
}

// CancelAfterCapture is the customer cancelling after the capture: release,
// refund, cancel, and two emails (cancelled, refunded).
func (s *Shop) CancelAfterCapture(o order.Order) {
	s.t.Helper()
	s.Reserve(o)
	c := s.Capture(o)
	s.order(o.ID, "request cancellation", func(x order.Order) ([]any, error) { return x.RequestCancellation() })
	s.payment(o.ID, "cancel", func(p payment.Payment) ([]any, error) { return p.Cancel() })
	r := s.Refund("re_"+o.ID, "refund-"+o.ID, c.ID, c.Amount)
	s.payment(o.ID, "refund", func(p payment.Payment) ([]any, error) { return p.Refund(r.ID) })
	s.cancel(o, order.ReasonCustomerCancelled)
	s.Email(o.ID, notify.KindPaymentRefunded, o.CustomerID)
}

// CancelKeepingCharge is the saga bug the money check exists for: captured,
// cancelled, never refunded.
func (s *Shop) CancelKeepingCharge(o order.Order) {
	s.t.Helper()
	s.Reserve(o)
	s.Capture(o)
	s.cancel(o, order.ReasonCustomerCancelled)
}

func (s *Shop) cancel(o order.Order, reason order.Reason) {
	s.t.Helper()
	s.eachLine(o, "release", func(st inventory.Stock) ([]any, error) { return st.Release(o.ID) })
	s.order(o.ID, "cancel", func(x order.Order) ([]any, error) { return x.Cancel(reason) })
	s.Email(o.ID, notify.KindOrderCancelled, o.CustomerID)
}

// Email delivers the email of an order outcome as notify composes it.
func (s *Shop) Email(orderID string, kind notify.Kind, customer string) {
	s.t.Helper()
	nid := notify.ID(orderID, kind)
	msgID := es.DerivedUUID(es.DerivedUUID(es.UUID{}, "ordo.notify.message-id"), nid).String() + "@" + MailDomain
	to := customer + "@" + MailDomain
	subject := map[notify.Kind]string{
		notify.KindOrderConfirmed:  "Your order " + orderID + " is confirmed",
		notify.KindOrderCancelled:  "Your order " + orderID + " was cancelled",
		notify.KindPaymentRefunded: "Your payment for order " + orderID + " was refunded",
	}[kind]
	if s.SMTPAddr == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.emails = append(s.emails, audit.Email{ID: fmt.Sprintf("mem-%d", len(s.emails)+1), MessageID: msgID, To: []string{to}, Subject: subject})
		return
	}
	msg := strings.Join([]string{
		"From: ordo shop <no-reply@" + MailDomain + ">", "To: " + to, "Subject: " + subject,
		"Date: " + time.Now().UTC().Format(time.RFC1123Z), "Message-ID: <" + msgID + ">",
		"MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
		"X-Ordo-Notification: " + nid, "X-Ordo-Order: " + orderID, "X-Ordo-Kind: " + string(kind),
		"", "Hello " + customer + ",", "",
	}, "\r\n")
	if err := smtp.SendMail(s.SMTPAddr, nil, "no-reply@"+MailDomain, []string{to}, []byte(msg)); err != nil {
		s.t.Fatalf("send email %s: %v", nid, err)
	}
}

// Consistent builds the reference history: one confirmed order of two
// lines, one cancelled out of stock, one declined, one cancelled after its
// capture and refunded. It returns the orders by id.
func (s *Shop) Consistent() map[string]order.Order {
	s.t.Helper()
	s.Restock("SKU-A", 10)
	s.Restock("SKU-B", 5)
	os := map[string]order.Order{
		"o1": s.Place("o1", "alice", order.Item{SKU: "SKU-A", Quantity: 2}, order.Item{SKU: "SKU-B", Quantity: 1}),
		"o2": s.Place("o2", "bob", order.Item{SKU: "SKU-A", Quantity: 1}, order.Item{SKU: "SKU-B", Quantity: 50}),
		"o3": s.Place("o3", "carol", order.Item{SKU: "SKU-A", Quantity: 1}),
		"o4": s.Place("o4", "dave", order.Item{SKU: "SKU-B", Quantity: 2}),
	}
	s.Confirm(os["o1"])
	s.OutOfStock(os["o2"])
	s.Decline(os["o3"])
	s.CancelAfterCapture(os["o4"])
	return os
}
