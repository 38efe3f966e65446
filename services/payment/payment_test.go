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
		{Name: "asks for the amount", When: request(total), Then: []any{requested}},
		{Name: "again the same amount is a no-op", Given: []any{requested}, When: request(total)},
		{Name: "again another amount conflicts", Given: []any{requested}, When: request(money.Euros(1)), WantErr: ErrConflict},
		{Name: "after a cancel barrier is a no-op", Given: []any{cancelled}, When: request(total)},
		{Name: "zero amount is invalid", When: request(money.Euros(0)), WantErr: ErrInvalid},
		{Name: "negative amount is invalid", When: request(money.Euros(-5)), WantErr: ErrInvalid},
		{Name: "amount without currency is invalid", When: request(money.Money{Amount: 5}), WantErr: ErrInvalid},
	})
}

func TestCapture(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{Name: "records the capture", Given: []any{requested}, When: capture("ch_1"), Then: []any{captured}},
		{Name: "resolves an unknown outcome", Given: []any{requested, unknown}, When: capture("ch_1"), Then: []any{captured}},
		{Name: "after a cancel is still recorded: the money moved", Given: []any{requested, cancelled}, When: capture("ch_1"), Then: []any{captured}},
		{Name: "again is a no-op", Given: []any{requested, captured}, When: capture("ch_1")},
		{Name: "again after the refund is a no-op", Given: []any{requested, captured, refunded}, When: capture("ch_1")},
		{Name: "with another reference conflicts", Given: []any{requested, captured}, When: capture("ch_2"), WantErr: ErrConflict},
		{Name: "after a decline conflicts", Given: []any{requested, declined}, When: capture("ch_1"), WantErr: ErrConflict},
		{Name: "without a request is not found", When: capture("ch_1"), WantErr: ErrNotFound},
		{Name: "empty reference is invalid", Given: []any{requested}, When: capture(""), WantErr: ErrInvalid},
	})
}

func TestDecline(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{Name: "records the decline", Given: []any{requested}, When: decline("insufficient_funds"), Then: []any{declined}},
		{Name: "resolves an unknown outcome", Given: []any{requested, unknown}, When: decline("insufficient_funds"), Then: []any{declined}},
		{Name: "again is a no-op", Given: []any{requested, declined}, When: decline("insufficient_funds")},
		{Name: "after a capture conflicts", Given: []any{requested, captured}, When: decline("insufficient_funds"), WantErr: ErrConflict},
		{Name: "without a request is not found", When: decline("insufficient_funds"), WantErr: ErrNotFound},
		{Name: "empty reason is invalid", Given: []any{requested}, When: decline(""), WantErr: ErrInvalid},
	})
}

func TestReportUnknown(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{Name: "records the unknown outcome", Given: []any{requested}, When: reportUnknown, Then: []any{unknown}},
		{Name: "again is a no-op", Given: []any{requested, unknown}, When: reportUnknown},
		{Name: "after a capture is a stale no-op", Given: []any{requested, captured}, When: reportUnknown},
		{Name: "after a decline is a stale no-op", Given: []any{requested, declined}, When: reportUnknown},
		{Name: "without a request is not found", When: reportUnknown, WantErr: ErrNotFound},
	})
}

func TestRefund(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{Name: "gives a captured payment back", Given: []any{requested, captured}, When: refund("re_1"), Then: []any{refunded}},
		{Name: "only once", Given: []any{requested, captured, refunded}, When: refund("re_2")},
		{Name: "before capture conflicts", Given: []any{requested}, When: refund("re_1"), WantErr: ErrConflict},
		{Name: "after a decline conflicts", Given: []any{requested, declined}, When: refund("re_1"), WantErr: ErrConflict},
		{Name: "with the outcome unknown conflicts", Given: []any{requested, unknown}, When: refund("re_1"), WantErr: ErrConflict},
		{Name: "without a request is not found", When: refund("re_1"), WantErr: ErrNotFound},
		{Name: "empty reference is invalid", Given: []any{requested, captured}, When: refund(""), WantErr: ErrInvalid},
	})
}

func TestCancel(t *testing.T) {
	runScenarios(t, Aggregate, id, []scenario[Payment]{
		{Name: "before any request records a barrier", When: cancel, Then: []any{cancelled}},
		{Name: "while pending records a barrier", Given: []any{requested}, When: cancel, Then: []any{cancelled}},
		{Name: "while unknown records a barrier", Given: []any{requested, unknown}, When: cancel, Then: []any{cancelled}},
		{Name: "after a capture is recorded (refund due)", Given: []any{requested, captured}, When: cancel, Then: []any{cancelled}},
		{Name: "twice is a no-op", Given: []any{requested, cancelled}, When: cancel},
		{Name: "after a decline has nothing to undo", Given: []any{requested, declined}, When: cancel},
		{Name: "after a refund has nothing to undo", Given: []any{requested, captured, refunded}, When: cancel},
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
