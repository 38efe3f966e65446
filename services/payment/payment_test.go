package payment

import (
	"testing"

	"github.com/ordo-platform/ordo/pkg/money"
)

const id = "7f3c2a10-0000-4000-8000-000000000001"

var (
	total     = money.Euros(4270)
	requested = Requested{OrderID: id, Amount: total}
	captured  = Captured{OrderID: id, Amount: total, ProviderRef: "ch_1"}
	declined  = Declined{OrderID: id, Reason: "insufficient_funds"}
	unknown   = OutcomeUnknown{OrderID: id, Detail: "provider timed out"}
	refunded  = Refunded{OrderID: id, Amount: total, RefundRef: "re_1"}
	cancelled = Cancelled{OrderID: id}
)

func request(m money.Money) func(Payment) ([]any, error) {
	return func(p Payment) ([]any, error) { return p.Request(m) }
}

func capture(ref string) func(Payment) ([]any, error) {
	return func(p Payment) ([]any, error) { return p.Capture(ref) }
}

func decline(reason string) func(Payment) ([]any, error) {
	return func(p Payment) ([]any, error) { return p.Decline(reason) }
}

func reportUnknown(p Payment) ([]any, error) { return p.ReportUnknown("provider timed out") }
func cancel(p Payment) ([]any, error)        { return p.Cancel() }

func refund(ref string) func(Payment) ([]any, error) {
	return func(p Payment) ([]any, error) { return p.Refund(ref) }
}

func TestRequest(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{name: "asks for the amount", when: request(total), then: []any{requested}},
		{name: "again the same amount is a no-op", given: []any{requested}, when: request(total)},
		{name: "again another amount conflicts", given: []any{requested}, when: request(money.Euros(1)), wantErr: ErrConflict},
		{name: "after a cancel barrier is a no-op", given: []any{cancelled}, when: request(total)},
		{name: "zero amount is invalid", when: request(money.Euros(0)), wantErr: ErrInvalid},
		{name: "negative amount is invalid", when: request(money.Euros(-5)), wantErr: ErrInvalid},
		{name: "amount without currency is invalid", when: request(money.Money{Amount: 5}), wantErr: ErrInvalid},
	})
}

func TestCapture(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{name: "records the capture", given: []any{requested}, when: capture("ch_1"), then: []any{captured}},
		{name: "resolves an unknown outcome", given: []any{requested, unknown}, when: capture("ch_1"), then: []any{captured}},
		{name: "after a cancel is still recorded: the money moved", given: []any{requested, cancelled}, when: capture("ch_1"), then: []any{captured}},
		{name: "again is a no-op", given: []any{requested, captured}, when: capture("ch_1")},
		{name: "again after the refund is a no-op", given: []any{requested, captured, refunded}, when: capture("ch_1")},
		{name: "with another reference conflicts", given: []any{requested, captured}, when: capture("ch_2"), wantErr: ErrConflict},
		{name: "after a decline conflicts", given: []any{requested, declined}, when: capture("ch_1"), wantErr: ErrConflict},
		{name: "without a request is not found", when: capture("ch_1"), wantErr: ErrNotFound},
		{name: "empty reference is invalid", given: []any{requested}, when: capture(""), wantErr: ErrInvalid},
	})
}

func TestDecline(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{name: "records the decline", given: []any{requested}, when: decline("insufficient_funds"), then: []any{declined}},
		{name: "resolves an unknown outcome", given: []any{requested, unknown}, when: decline("insufficient_funds"), then: []any{declined}},
		{name: "again is a no-op", given: []any{requested, declined}, when: decline("insufficient_funds")},
		{name: "after a capture conflicts", given: []any{requested, captured}, when: decline("insufficient_funds"), wantErr: ErrConflict},
		{name: "without a request is not found", when: decline("insufficient_funds"), wantErr: ErrNotFound},
		{name: "empty reason is invalid", given: []any{requested}, when: decline(""), wantErr: ErrInvalid},
	})
}

func TestReportUnknown(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{name: "records the unknown outcome", given: []any{requested}, when: reportUnknown, then: []any{unknown}},
		{name: "again is a no-op", given: []any{requested, unknown}, when: reportUnknown},
		{name: "after a capture is a stale no-op", given: []any{requested, captured}, when: reportUnknown},
		{name: "after a decline is a stale no-op", given: []any{requested, declined}, when: reportUnknown},
		{name: "without a request is not found", when: reportUnknown, wantErr: ErrNotFound},
	})
}

func TestRefund(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{name: "gives a captured payment back", given: []any{requested, captured}, when: refund("re_1"), then: []any{refunded}},
		{name: "only once", given: []any{requested, captured, refunded}, when: refund("re_2")},
		{name: "before capture conflicts", given: []any{requested}, when: refund("re_1"), wantErr: ErrConflict},
		{name: "after a decline conflicts", given: []any{requested, declined}, when: refund("re_1"), wantErr: ErrConflict},
		{name: "with the outcome unknown conflicts", given: []any{requested, unknown}, when: refund("re_1"), wantErr: ErrConflict},
		{name: "without a request is not found", when: refund("re_1"), wantErr: ErrNotFound},
		{name: "empty reference is invalid", given: []any{requested, captured}, when: refund(""), wantErr: ErrInvalid},
	})
}

func TestCancel(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{name: "before any request records a barrier", when: cancel, then: []any{cancelled}},
		{name: "while pending records a barrier", given: []any{requested}, when: cancel, then: []any{cancelled}},
		{name: "while unknown records a barrier", given: []any{requested, unknown}, when: cancel, then: []any{cancelled}},
		{name: "after a capture is recorded (refund due)", given: []any{requested, captured}, when: cancel, then: []any{cancelled}},
		{name: "twice is a no-op", given: []any{requested, cancelled}, when: cancel},
		{name: "after a decline has nothing to undo", given: []any{requested, declined}, when: cancel},
		{name: "after a refund has nothing to undo", given: []any{requested, captured, refunded}, when: cancel},
	})
}

func TestRefundDue(t *testing.T) {
	tests := []struct {
		name           string
		given          []any
		wantStatus     Status
		wantDue        bool
		wantChargeable bool
	}{
		{"pending", []any{requested}, StatusPending, false, true},
		{"captured", []any{requested, captured}, StatusCaptured, false, false},
		{"captured after cancel", []any{requested, cancelled, captured}, StatusCaptured, true, false},
		{"cancelled after capture", []any{requested, captured, cancelled}, StatusCaptured, true, false},
		{"cancelled while pending", []any{requested, cancelled}, StatusPending, false, false},
		{"refunded after cancel", []any{requested, cancelled, captured, refunded}, StatusRefunded, false, false},
		{"declined", []any{requested, declined}, StatusDeclined, false, false},
		{"unknown", []any{requested, unknown}, StatusUnknown, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Aggregate.Initial(id)
			for _, e := range tt.given {
				p = Aggregate.Apply(p, e)
			}
			if p.Status != tt.wantStatus || p.RefundDue() != tt.wantDue || p.Chargeable() != tt.wantChargeable {
				t.Errorf("status %q, RefundDue %v, Chargeable %v; want %q, %v, %v",
					p.Status, p.RefundDue(), p.Chargeable(), tt.wantStatus, tt.wantDue, tt.wantChargeable)
			}
		})
	}
}
