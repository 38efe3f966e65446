package readmodel

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/services/payment"
)

func TestFold(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	req := payment.Requested{OrderID: "o1", Amount: money.Euros(100)}
	for _, tc := range []struct {
		name      string
		events    []any
		want      View
		ok        bool
		attention bool
	}{
		{"cancel only leaves no view", []any{payment.Cancelled{OrderID: "o1"}}, View{Cancelled: true, UpdatedAt: at}, false, false},
		{"requested", []any{req}, View{OrderID: "o1", Status: payment.StatusPending, Amount: money.Euros(100), UpdatedAt: at}, true, false},
		{"unknown needs attention", []any{req, payment.OutcomeUnknown{OrderID: "o1"}},
			View{OrderID: "o1", Status: payment.StatusUnknown, Amount: money.Euros(100), UpdatedAt: at}, true, true},
		{"captured then cancelled needs a refund", []any{req, payment.Captured{ProviderRef: "ch"}, payment.Cancelled{}},
			View{OrderID: "o1", Status: payment.StatusCaptured, Amount: money.Euros(100), ProviderRef: "ch", Cancelled: true, UpdatedAt: at}, true, true},
		{"refunded", []any{req, payment.Captured{ProviderRef: "ch"}, payment.Cancelled{}, payment.Refunded{RefundRef: "re"}},
			View{OrderID: "o1", Status: payment.StatusRefunded, Amount: money.Euros(100), ProviderRef: "ch", RefundRef: "re", Cancelled: true, UpdatedAt: at}, true, false},
		{"declined", []any{req, payment.Declined{Reason: "card_declined"}},
			View{OrderID: "o1", Status: payment.StatusDeclined, Amount: money.Euros(100), DeclineReason: "card_declined", UpdatedAt: at}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v View
			var ok bool
			for _, e := range tc.events {
				v, ok = fold(v, e, at)
			}
			if diff := cmp.Diff(tc.want, v); diff != "" || ok != tc.ok || v.needsAttention() != tc.attention {
				t.Errorf("ok=%v attention=%v (-want +got):\n%s", ok, v.needsAttention(), diff)
			}
		})
	}
}
