package saga

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
)

const id = "o-1"

var (
	t0     = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lines  = []Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}}
	amount = money.Euros(3000)
	policy = Policy{ReservationTimeout: 10 * time.Second, PaymentTimeout: 30 * time.Second}
)

// scenario: given the saga's past events, when it observes this at t0+after,
// then it records these events.
type scenario struct {
	name  string
	given []any
	when  Observation
	after time.Duration
	then  []any
}

func run(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			s := Aggregate.Initial(id)
			for _, e := range sc.given {
				s = Aggregate.Apply(s, e)
			}
			got := s.Decide(sc.when, t0.Add(sc.after), policy)
			if diff := cmp.Diff(sc.then, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// Histories reused by the scenarios.
var (
	started = []any{Started{OrderID: id, CustomerID: "c", Lines: lines, Amount: amount, At: t0}, ReservationRequested{OrderID: id, Lines: lines},
		DeadlineSet{OrderID: id, Step: StepReservation, At: t0.Add(10 * time.Second)}}
	reserved  = append(clone(started), StockReserved{OrderID: id, SKU: "A", Quantity: 2}, StockReserved{OrderID: id, SKU: "B", Quantity: 1})
	paying    = append(clone(reserved), PaymentRequested{OrderID: id, Amount: amount}, DeadlineSet{OrderID: id, Step: StepPayment, At: t0.Add(30 * time.Second)})
	captured  = append(clone(paying), PaymentCaptured{OrderID: id, ProviderRef: "ch_1"})
	securing  = append(clone(captured), StockSecureRequested{OrderID: id, Lines: lines})
	confirmig = append(clone(securing), StockSecured{OrderID: id, SKU: "A", Quantity: 2}, StockSecured{OrderID: id, SKU: "B", Quantity: 1},
		ConfirmRequested{OrderID: id})
)

func clone(s []any) []any { return append([]any(nil), s...) }

func TestHappyPath(t *testing.T) {
	run(t, []scenario{
		{name: "placed: start and ask for every line", when: OrderPlaced{OrderID: id, CustomerID: "c", Lines: lines, Amount: amount},
			then: started},
		{name: "placed again: nothing", given: started, when: OrderPlaced{OrderID: id, Lines: lines}},
		{name: "one line reserved: wait for the others", given: started, when: StockReserved{SKU: "A", Quantity: 2},
			then: []any{StockReserved{OrderID: id, SKU: "A", Quantity: 2}}},
		{name: "last line reserved: ask for payment with a deadline", given: append(clone(started), StockReserved{OrderID: id, SKU: "A", Quantity: 2}),
			when: StockReserved{SKU: "B", Quantity: 1}, after: time.Second,
			then: []any{StockReserved{OrderID: id, SKU: "B", Quantity: 1}, PaymentRequested{OrderID: id, Amount: amount},
				DeadlineSet{OrderID: id, Step: StepPayment, At: t0.Add(31 * time.Second)}}},
		{name: "duplicate reservation: nothing", given: reserved, when: StockReserved{SKU: "B", Quantity: 1}},
		{name: "captured: secure every line", given: paying, when: PaymentCaptured{ProviderRef: "ch_1"},
			then: []any{PaymentCaptured{OrderID: id, ProviderRef: "ch_1"}, StockSecureRequested{OrderID: id, Lines: lines}}},
		{name: "one line secured: wait for the others", given: securing, when: StockSecured{SKU: "A", Quantity: 2},
			then: []any{StockSecured{OrderID: id, SKU: "A", Quantity: 2}}},
		{name: "last line secured: confirm the order", given: append(clone(securing), StockSecured{OrderID: id, SKU: "A", Quantity: 2}),
			when: StockSecured{SKU: "B", Quantity: 1},
			then: []any{StockSecured{OrderID: id, SKU: "B", Quantity: 1}, ConfirmRequested{OrderID: id}}},
		{name: "duplicate secure: nothing", given: confirmig, when: StockSecured{SKU: "B", Quantity: 1}},
		{name: "confirmed: commit the stock and complete", given: confirmig, when: OrderConfirmed{}, after: 2 * time.Second,
			then: []any{StockCommitRequested{OrderID: id, Lines: lines}, Completed{OrderID: id, Outcome: Confirmed, DurationMS: 2000}}},
		{name: "deadline after the capture: nothing", given: confirmig, when: Deadline{Step: StepPayment, At: t0.Add(30 * time.Second)},
			then: []any{DeadlinePassed{OrderID: id, Step: StepPayment, At: t0.Add(30 * time.Second)}}},
		{name: "an event of an order the saga does not run: nothing", when: StockReserved{SKU: "A", Quantity: 1}},
	})
}

func TestCompensations(t *testing.T) {
	release := ReleaseRequested{OrderID: id, Lines: lines}
	refund := RefundRequested{OrderID: id}
	run(t, []scenario{
		{name: "a line rejected: release all, out of stock", given: append(clone(started), StockReserved{OrderID: id, SKU: "A", Quantity: 2}),
			when: StockRejected{SKU: "B", Quantity: 1, Available: 0},
			then: []any{StockRejected{OrderID: id, SKU: "B", Quantity: 1}, Compensating{OrderID: id, Reason: "out_of_stock"}, release}},
		{name: "declined: release, payment declined (no refund)", given: paying, when: PaymentDeclined{Reason: "card"},
			then: []any{PaymentDeclined{OrderID: id, Reason: "card"}, Compensating{OrderID: id, Reason: "payment_declined"}, release}},
		{name: "customer cancels before any reservation", given: started, when: CustomerCancelled{},
			then: []any{CancellationRequested{OrderID: id}, Compensating{OrderID: id, Reason: "customer_cancelled"}, release}},
		{name: "customer cancels while paying: release and call the payment off", given: paying, when: CustomerCancelled{},
			then: []any{CancellationRequested{OrderID: id}, Compensating{OrderID: id, Reason: "customer_cancelled"}, release, refund}},
		{name: "customer cancels after the capture, before the confirmation: refund", given: confirmig, when: CustomerCancelled{},
			then: []any{CancellationRequested{OrderID: id}, Compensating{OrderID: id, Reason: "customer_cancelled"}, release, refund}},
		{name: "customer cancels while the lines are being secured: release and refund", given: securing, when: CustomerCancelled{},
			then: []any{CancellationRequested{OrderID: id}, Compensating{OrderID: id, Reason: "customer_cancelled"}, release, refund}},
		{name: "reservation expired after the capture, before it was secured: the mismatch, refund", given: append(clone(securing),
			StockSecured{OrderID: id, SKU: "A", Quantity: 2}), when: StockReleased{SKU: "B", Quantity: 1, Expired: true},
			then: []any{StockReleased{OrderID: id, SKU: "B", Quantity: 1, Expired: true}, Compensating{OrderID: id, Reason: "out_of_stock"}, release, refund}},
		{name: "reservation expired while paying: the mismatch, refund", given: paying, when: StockReleased{SKU: "A", Quantity: 2, Expired: true},
			then: []any{StockReleased{OrderID: id, SKU: "A", Quantity: 2, Expired: true}, Compensating{OrderID: id, Reason: "out_of_stock"}, release, refund}},
		{name: "unknown outcome: reconcile, never guess", given: paying, when: PaymentUnknown{Detail: "timeout"},
			then: []any{PaymentUnknown{OrderID: id, Detail: "timeout"}, ReconcileRequested{OrderID: id}}},
		{name: "reconciled capture after unknown: confirm", given: append(clone(paying), PaymentUnknown{OrderID: id}, ReconcileRequested{OrderID: id}),
			when: PaymentCaptured{ProviderRef: "ch_1"}, then: []any{PaymentCaptured{OrderID: id, ProviderRef: "ch_1"}, StockSecureRequested{OrderID: id, Lines: lines}}},
		{name: "payment deadline with no outcome: payment timeout", given: append(clone(paying), PaymentUnknown{OrderID: id}, ReconcileRequested{OrderID: id}),
			when: Deadline{Step: StepPayment, At: t0.Add(30 * time.Second)}, after: 30 * time.Second,
			then: []any{DeadlinePassed{OrderID: id, Step: StepPayment, At: t0.Add(30 * time.Second)}, Compensating{OrderID: id, Reason: "payment_timeout"}, release, refund}},
		{name: "a deadline never set: nothing", given: reserved, when: Deadline{Step: StepPayment}},
		{name: "reservation deadline with a line unanswered: out of stock", given: append(clone(started), StockReserved{OrderID: id, SKU: "A", Quantity: 2}),
			when: Deadline{Step: StepReservation, At: t0.Add(10 * time.Second)},
			then: []any{DeadlinePassed{OrderID: id, Step: StepReservation, At: t0.Add(10 * time.Second)}, Compensating{OrderID: id, Reason: "out_of_stock"}, release}},
		{name: "reservation deadline after every line was reserved: nothing", given: paying,
			when: Deadline{Step: StepReservation, At: t0.Add(10 * time.Second)}},
	})
}

func TestEndings(t *testing.T) {
	cancelling := append(clone(paying), CancellationRequested{OrderID: id}, Compensating{OrderID: id, Reason: "customer_cancelled"},
		ReleaseRequested{OrderID: id, Lines: lines}, RefundRequested{OrderID: id})
	cancelled := append(clone(cancelling), Completed{OrderID: id, Outcome: Cancelled, Reason: "customer_cancelled", DurationMS: 1000})
	run(t, []scenario{
		{name: "order cancelled: complete", given: cancelling, when: OrderCancelled{Reason: "customer_cancelled"}, after: time.Second,
			then: []any{Completed{OrderID: id, Outcome: Cancelled, Reason: "customer_cancelled", DurationMS: 1000}}},
		{name: "capture while cancelling: recorded; the refund is already asked for", given: cancelling, when: PaymentCaptured{ProviderRef: "ch_1"},
			then: []any{PaymentCaptured{OrderID: id, ProviderRef: "ch_1"}}},
		{name: "late capture after completion: recorded", given: cancelled, when: PaymentCaptured{ProviderRef: "ch_1"},
			then: []any{PaymentCaptured{OrderID: id, ProviderRef: "ch_1"}}},
		{name: "late capture for an order cancelled by someone else: refund", given: append(clone(reserved),
			Compensating{OrderID: id, Reason: "out_of_stock"}, Completed{OrderID: id, Outcome: Cancelled, Reason: "out_of_stock"}),
			when: PaymentCaptured{ProviderRef: "ch_1"}, then: []any{PaymentCaptured{OrderID: id, ProviderRef: "ch_1"}, RefundRequested{OrderID: id}}},
		{name: "order cancelled outside the saga: undo and complete", given: paying, when: OrderCancelled{Reason: "customer_cancelled"},
			then: []any{Compensating{OrderID: id, Reason: "customer_cancelled"}, ReleaseRequested{OrderID: id, Lines: lines}, RefundRequested{OrderID: id},
				Completed{OrderID: id, Outcome: Cancelled, Reason: "customer_cancelled"}}},
		{name: "cancelled again: nothing", given: cancelled, when: OrderCancelled{Reason: "customer_cancelled"}},
		{name: "deadline after completion: nothing", given: cancelled, when: Deadline{Step: StepPayment}},
		{name: "refund seen: recorded", given: cancelled, when: PaymentRefunded{}, then: []any{PaymentRefunded{OrderID: id}}},
	})
}

func TestEffects(t *testing.T) {
	fold := func(events []any) State {
		s := Aggregate.Initial(id)
		for _, e := range events {
			s = Aggregate.Apply(s, e)
		}
		return s
	}
	cases := []struct {
		name   string
		events []any
		want   Effect
	}{
		{"paying", paying, Effect{}},
		{"securing", securing, Effect{}},
		{"confirming", confirmig, Effect{Confirm: true}},
		{"compensating", append(clone(paying), Compensating{OrderID: id, Reason: "payment_declined"}), Effect{Cancel: "payment_declined"}},
		{"completed", append(clone(confirmig), Completed{OrderID: id, Outcome: Confirmed}), Effect{}},
	}
	for _, c := range cases {
		if got := fold(c.events).Effect(); got != c.want {
			t.Errorf("%s: effect = %+v, want %+v", c.name, got, c.want)
		}
	}
	s := fold(paying)
	if got := s.PendingDeadlines(); !cmp.Equal(got, map[Step]time.Time{StepPayment: t0.Add(30 * time.Second)}) {
		t.Errorf("pending deadlines = %v", got)
	}
}

func TestRegister(t *testing.T) {
	r := es.NewRegistry()
	Register(r)
	for _, e := range append(clone(confirmig), Completed{OrderID: id, Outcome: Confirmed}) {
		name, err := r.Name(e)
		if err != nil {
			t.Fatal(err)
		}
		d, err := r.Encode(es.UUID{}, e, es.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		back, err := r.Decode(name, d.Data)
		if err != nil || !cmp.Equal(back, e) {
			t.Errorf("%s round trip: %v %v", name, back, err)
		}
	}
}
