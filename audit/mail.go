package audit

import (
	"fmt"
	"strings"

	"github.com/ordo-platform/ordo/pkg/es"

	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/order"
)

// outcome is one email-worthy fact: an order and a notification kind.
type outcome struct {
	Order string
	Kind  notify.Kind
}

func (o outcome) String() string { return o.Order + " " + string(o.Kind) }

var kinds = []notify.Kind{notify.KindOrderConfirmed, notify.KindOrderCancelled, notify.KindPaymentRefunded}

// messageIDSpace and messageUUID mirror how the notify service derives an
// email's Message-ID from the notification id (services/notify/internal/app
// MessageID: DerivedUUID(space, "<order>:<kind>")@<mail domain>); that
// package is internal, so the derivation is repeated here. The subject is
// the fallback when the derivation ever changes.
var messageIDSpace = es.DerivedUUID(es.UUID{}, "ordo.notify.message-id")

func messageUUID(o outcome) string {
	return es.DerivedUUID(messageIDSpace, notify.ID(o.Order, o.Kind)).String()
}

// subjects are the notify service's subject lines, each as prefix + order
// id + suffix.
var subjects = []struct {
	prefix, suffix string
	kind           notify.Kind
}{
	{"Your order ", " is confirmed", notify.KindOrderConfirmed},
	{"Your order ", " was cancelled", notify.KindOrderCancelled},
	{"Your payment for order ", " was refunded", notify.KindPaymentRefunded},
}

// expectedEmails are the outcomes that happened: a confirmed or cancelled
// order, a refunded payment.
func expectedEmails(orders map[string]*orderFacts, payments map[string]*paymentFacts) map[outcome]bool {
	want := map[outcome]bool{}
	for id, o := range orders {
		switch o.Status() {
		case order.StatusConfirmed:
			want[outcome{id, notify.KindOrderConfirmed}] = true
		case order.StatusCancelled:
			want[outcome{id, notify.KindOrderCancelled}] = true
		}
	}
	for id, p := range payments {
		if p.Refunded {
			want[outcome{id, notify.KindPaymentRefunded}] = true
		}
	}
	return want
}

// mailMapper recognises an email's outcome by its Message-ID among every
// order the store knows, or else by its subject.
type mailMapper map[string]outcome

func newMailMapper(orderIDs []string) mailMapper {
	m := mailMapper{}
	for _, id := range orderIDs {
		for _, k := range kinds {
			o := outcome{id, k}
			m[messageUUID(o)] = o
		}
	}
	return m
}

func (m mailMapper) outcomeOf(e Email) (outcome, bool) {
	local, _, _ := strings.Cut(e.MessageID, "@")
	if o, ok := m[local]; ok {
		return o, true
	}
	for _, s := range subjects {
		if id, ok := strings.CutPrefix(e.Subject, s.prefix); ok {
			if id, ok = strings.CutSuffix(id, s.suffix); ok && id != "" && !strings.Contains(id, " ") {
				return outcome{id, s.kind}, true
			}
		}
	}
	return outcome{}, false
}

// checkEmails: at most one email per outcome, only for outcomes that
// happened, to the order's customer. A missing email is a warning: notify
// may be behind or down, which is not a broken invariant yet.
func checkEmails(emails []Email, want map[outcome]bool, orders map[string]*orderFacts, m mailMapper, f *findings) {
	got := map[outcome][]Email{}
	for _, e := range emails {
		o, ok := m.outcomeOf(e)
		if !ok {
			f.warn(CheckEmail, e.ID, "unrecognised email %q (Message-ID %s)", e.Subject, e.MessageID)
			continue
		}
		got[o] = append(got[o], e)
	}
	for _, o := range sortedOutcomes(got) {
		msgs := got[o]
		if len(msgs) > 1 {
			f.violate(CheckEmail, o.String(), "%d emails for one outcome: %s", len(msgs), mailIDs(msgs))
		}
		if !want[o] {
			f.violate(CheckEmail, o.String(), "email %s about an outcome that did not happen (order is %s)", msgs[0].ID, statusOf(orders[o.Order]))
		}
		if c := customerOf(orders[o.Order]); c != "" {
			for _, e := range msgs {
				if !toCustomer(e.To, c) {
					f.violate(CheckEmail, o.String(), "email %s went to %v, not to customer %s", e.ID, e.To, c)
				}
			}
		}
	}
	missing := 0
	for o := range want {
		if len(got[o]) == 0 {
			missing++
		}
	}
	switch {
	case missing > 0 && len(emails) == 0:
		f.warn(CheckEmail, "mailbox", "notify data missing: the mailbox is empty; %d outcome(s) want an email", missing)
	case missing > 0:
		for _, o := range sortedOutcomes(want) {
			if len(got[o]) == 0 {
				f.warn(CheckEmail, o.String(), "no email (yet)")
			}
		}
	}
}

func statusOf(o *orderFacts) string {
	if o == nil || !o.Placed {
		return "unknown"
	}
	return string(o.Status())
}

func customerOf(o *orderFacts) string {
	if o == nil {
		return ""
	}
	return o.Customer
}

// toCustomer: notify writes to <customer>@<mail domain>; the domain is the
// deployment's, so only the local part is checked.
func toCustomer(to []string, customer string) bool {
	for _, addr := range to {
		if local, _, _ := strings.Cut(addr, "@"); local == customer {
			return true
		}
	}
	return false
}

func mailIDs(msgs []Email) string {
	ids := make([]string, len(msgs))
	for i, e := range msgs {
		ids[i] = fmt.Sprintf("%s <%s>", e.ID, e.MessageID)
	}
	return strings.Join(ids, ", ")
}
