package notify

import "testing"

const order = "7f3c2a10-0000-4000-8000-000000000001"

var (
	confirmedID = ID(order, KindOrderConfirmed)
	requested   = Requested{OrderID: order, Kind: KindOrderConfirmed, CustomerID: "alice", To: "alice@example.com"}
	sent        = Sent{OrderID: order, Kind: KindOrderConfirmed, MessageID: "msg-1"}
	failed1     = Failed{OrderID: order, Kind: KindOrderConfirmed, Reason: "smtp: connection refused", Attempt: 1}
)

func request(orderID string, kind Kind, to string) func(Notification) ([]any, error) {
	return func(n Notification) ([]any, error) { return n.Request(orderID, kind, "alice", to) }
}

func markSent(id string) func(Notification) ([]any, error) {
	return func(n Notification) ([]any, error) { return n.MarkSent(id) }
}

func markFailed(reason string) func(Notification) ([]any, error) {
	return func(n Notification) ([]any, error) { return n.MarkFailed(reason) }
}

func TestRequest(t *testing.T) {
	runScenarios(t, Aggregate, confirmedID, []scenario[Notification]{
		{Name: "asks for the email", When: request(order, KindOrderConfirmed, "alice@example.com"), Then: []any{requested}},
		{Name: "again is a no-op", Given: []any{requested}, When: request(order, KindOrderConfirmed, "alice@example.com")},
		{Name: "again with other details is a no-op", Given: []any{requested}, When: request(order, KindOrderConfirmed, "other@example.com")},
		{Name: "again after sending is a no-op", Given: []any{requested, sent}, When: request(order, KindOrderConfirmed, "alice@example.com")},
		{Name: "unknown kind is invalid", When: request(order, "order_shipped", "alice@example.com"), WantErr: ErrInvalid},
		{Name: "a kind that does not match the id is invalid", When: request(order, KindOrderCancelled, "alice@example.com"), WantErr: ErrInvalid},
		{Name: "an order that does not match the id is invalid", When: request("other", KindOrderConfirmed, "alice@example.com"), WantErr: ErrInvalid},
		{Name: "bad address is invalid", When: request(order, KindOrderConfirmed, "alice"), WantErr: ErrInvalid},
		{Name: "address with a space is invalid", When: request(order, KindOrderConfirmed, "al ice@example.com"), WantErr: ErrInvalid},
		{Name: "empty order is invalid", When: request("", KindOrderConfirmed, "alice@example.com"), WantErr: ErrInvalid},
	})
	runScenarios(t, Aggregate, ID(order, KindPaymentRefunded), []scenario[Notification]{
		{Name: "a refund email is its own notification", When: request(order, KindPaymentRefunded, "alice@example.com"),
			Then: []any{Requested{OrderID: order, Kind: KindPaymentRefunded, CustomerID: "alice", To: "alice@example.com"}}},
	})
}

func TestMarkSent(t *testing.T) {
	runScenarios(t, Aggregate, confirmedID, []scenario[Notification]{
		{Name: "records the sending", Given: []any{requested}, When: markSent("msg-1"), Then: []any{sent}},
		{Name: "after a failure records the sending", Given: []any{requested, failed1}, When: markSent("msg-1"), Then: []any{sent}},
		{Name: "again is a no-op", Given: []any{requested, sent}, When: markSent("msg-2")},
		{Name: "unknown notification is not found", When: markSent("msg-1"), WantErr: ErrNotFound},
		{Name: "empty message id is invalid", Given: []any{requested}, When: markSent(""), WantErr: ErrInvalid},
	})
}

func TestMarkFailed(t *testing.T) {
	runScenarios(t, Aggregate, confirmedID, []scenario[Notification]{
		{Name: "records the first failure", Given: []any{requested}, When: markFailed("smtp: connection refused"), Then: []any{failed1}},
		{Name: "counts attempts", Given: []any{requested, failed1}, When: markFailed("smtp: timeout"),
			Then: []any{Failed{OrderID: order, Kind: KindOrderConfirmed, Reason: "smtp: timeout", Attempt: 2}}},
		{Name: "after sending is a no-op", Given: []any{requested, sent}, When: markFailed("smtp: timeout")},
		{Name: "unknown notification is not found", When: markFailed("smtp: timeout"), WantErr: ErrNotFound},
		{Name: "empty reason is invalid", Given: []any{requested}, When: markFailed(""), WantErr: ErrInvalid},
	})
}

func TestDue(t *testing.T) {
	tests := []struct {
		name  string
		given []any
		want  bool
	}{
		{"not requested", nil, false},
		{"requested", []any{requested}, true},
		{"failed", []any{requested, failed1}, true},
		{"sent", []any{requested, sent}, false},
		{"sent after a failure", []any{requested, failed1, sent}, false},
	}
	for _, tt := range tests {
		n := Aggregate.Initial(confirmedID)
		for _, e := range tt.given {
			n = Aggregate.Apply(n, e)
		}
		if n.Due() != tt.want {
			t.Errorf("%s: Due() = %v, want %v", tt.name, n.Due(), tt.want)
		}
	}
}
