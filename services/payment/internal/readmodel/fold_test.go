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
		{"requested stays in the backlog until answered", []any{req}, View{OrderID: "o1", Status: payment.StatusPending, Amount: money.Euros(100), UpdatedAt: at}, true, true},
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

// A pending payment is handed to the reconciler only after PendingGrace
// (the capture in flight may still answer), a called-off one after
// CalledOffGrace and only until PendingHorizon; every other backlog entry
// is due at once.
func TestDue(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	pending := View{Status: payment.StatusPending, UpdatedAt: at}
	cancelled := View{Status: payment.StatusPending, Cancelled: true, UpdatedAt: at}
	for _, tc := range []struct {
		name string
		v    View
		age  time.Duration
		want bool
	}{
		{"fresh pending", pending, time.Second, false},
		{"stale pending", pending, PendingGrace, true},
		{"very old pending", pending, 2 * PendingHorizon, true},
		{"fresh called-off pending", cancelled, time.Second, false},
		{"called-off pending past its grace", cancelled, CalledOffGrace, true},
		{"stale called-off pending", cancelled, PendingGrace, true},
		{"called-off pending past the horizon", cancelled, PendingHorizon, false},
		{"unknown", View{Status: payment.StatusUnknown, UpdatedAt: at}, 0, true},
	} {
		if got := tc.v.due(at.Add(tc.age)); got != tc.want {
			t.Errorf("%s: due = %v, want %v", tc.name, got, tc.want)
		}
	}
}
