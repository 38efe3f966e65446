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
		{name: "asks for the email", when: request(order, KindOrderConfirmed, "alice@example.com"), then: []any{requested}},
		{name: "again is a no-op", given: []any{requested}, when: request(order, KindOrderConfirmed, "alice@example.com")},
		{name: "again with other details is a no-op", given: []any{requested}, when: request(order, KindOrderConfirmed, "other@example.com")},
		{name: "again after sending is a no-op", given: []any{requested, sent}, when: request(order, KindOrderConfirmed, "alice@example.com")},
		{name: "unknown kind is invalid", when: request(order, "order_shipped", "alice@example.com"), wantErr: ErrInvalid},
		{name: "a kind that does not match the id is invalid", when: request(order, KindOrderCancelled, "alice@example.com"), wantErr: ErrInvalid},
		{name: "an order that does not match the id is invalid", when: request("other", KindOrderConfirmed, "alice@example.com"), wantErr: ErrInvalid},
		{name: "bad address is invalid", when: request(order, KindOrderConfirmed, "alice"), wantErr: ErrInvalid},
		{name: "address with a space is invalid", when: request(order, KindOrderConfirmed, "al ice@example.com"), wantErr: ErrInvalid},
		{name: "empty order is invalid", when: request("", KindOrderConfirmed, "alice@example.com"), wantErr: ErrInvalid},
	})
	runScenarios(t, Aggregate, ID(order, KindPaymentRefunded), []scenario[Notification]{
		{name: "a refund email is its own notification", when: request(order, KindPaymentRefunded, "alice@example.com"),
			then: []any{Requested{OrderID: order, Kind: KindPaymentRefunded, CustomerID: "alice", To: "alice@example.com"}}},
	})
}

func TestMarkSent(t *testing.T) {
	runScenarios(t, Aggregate, confirmedID, []scenario[Notification]{
		{name: "records the sending", given: []any{requested}, when: markSent("msg-1"), then: []any{sent}},
		{name: "after a failure records the sending", given: []any{requested, failed1}, when: markSent("msg-1"), then: []any{sent}},
		{name: "again is a no-op", given: []any{requested, sent}, when: markSent("msg-2")},
		{name: "unknown notification is not found", when: markSent("msg-1"), wantErr: ErrNotFound},
		{name: "empty message id is invalid", given: []any{requested}, when: markSent(""), wantErr: ErrInvalid},
	})
}

func TestMarkFailed(t *testing.T) {
	runScenarios(t, Aggregate, confirmedID, []scenario[Notification]{
		{name: "records the first failure", given: []any{requested}, when: markFailed("smtp: connection refused"), then: []any{failed1}},
		{name: "counts attempts", given: []any{requested, failed1}, when: markFailed("smtp: timeout"),
			then: []any{Failed{OrderID: order, Kind: KindOrderConfirmed, Reason: "smtp: timeout", Attempt: 2}}},
		{name: "after sending is a no-op", given: []any{requested, sent}, when: markFailed("smtp: timeout")},
		{name: "unknown notification is not found", when: markFailed("smtp: timeout"), wantErr: ErrNotFound},
		{name: "empty reason is invalid", given: []any{requested}, when: markFailed(""), wantErr: ErrInvalid},
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
