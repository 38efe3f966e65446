package saga

import (
	"time"

	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/services/order"
)

// Observation is something the saga learns: another service's event, or a
// deadline passing. The stock and payment observations are recorded in the
// saga's stream as they are.
type Observation interface{ observation() }

// OrderPlaced: order.placed.
type OrderPlaced struct {
	OrderID    string
	CustomerID string
	Lines      []Line
	Amount     money.Money
}

// CustomerCancelled: order.cancellation_requested.
type CustomerCancelled struct{}

// OrderConfirmed: order.confirmed.
type OrderConfirmed struct{}

// OrderCancelled: order.cancelled.
type OrderCancelled struct{ Reason string }

// Deadline: the step's deadline, set at At, has passed.
type Deadline struct {
	Step Step
	At   time.Time
}

func (OrderPlaced) observation()       {}
func (CustomerCancelled) observation() {}
func (OrderConfirmed) observation()    {}
func (OrderCancelled) observation()    {}
func (Deadline) observation()          {}
func (StockReserved) observation()     {}
func (StockRejected) observation()     {}
func (StockReleased) observation()     {}
func (StockSecured) observation()      {}
func (StockCommitted) observation()    {}
func (PaymentCaptured) observation()   {}
func (PaymentDeclined) observation()   {}
func (PaymentUnknown) observation()    {}
func (PaymentRefunded) observation()   {}

// Policy holds the saga's tunables.
type Policy struct {
	// ReservationTimeout is how long after the order was placed the saga
	// waits for every line to be reserved before it gives the order up
	// (out_of_stock: the stock could not be reserved).
	ReservationTimeout time.Duration
	// PaymentTimeout is how long after payment was requested the saga waits
	// for a capture before it gives the order up (payment_timeout).
	PaymentTimeout time.Duration
}

// Default deadlines, when the policy sets none.
const (
	DefaultReservationTimeout = 30 * time.Second
	DefaultPaymentTimeout     = 30 * time.Second
)

// decision accumulates new events and keeps the state they lead to, so each
// rule sees what earlier rules decided.
type decision struct {
	s      State
	events []any
}

func (d *decision) emit(e any) {
	d.events = append(d.events, e)
	d.s = apply(d.s, e)
}

// Decide returns the events the saga records on learning obs at time at
// (the observed event's time, so a replay decides the same). It never
// fails: an observation that changes nothing returns no events, which is
// what makes replays and duplicates harmless.
func (s State) Decide(obs Observation, at time.Time, p Policy) []any {
	if p.PaymentTimeout <= 0 {
		p.PaymentTimeout = DefaultPaymentTimeout
	}
	if p.ReservationTimeout <= 0 {
		p.ReservationTimeout = DefaultReservationTimeout
	}
	d := &decision{s: s}
	if placed, ok := obs.(OrderPlaced); ok {
		if !s.Started {
			d.emit(Started{OrderID: s.OrderID, CustomerID: placed.CustomerID, Lines: placed.Lines, Amount: placed.Amount, At: at})
			d.emit(ReservationRequested{OrderID: s.OrderID, Lines: placed.Lines})
			d.emit(DeadlineSet{OrderID: s.OrderID, Step: StepReservation, At: at.Add(p.ReservationTimeout)})
		}
		return d.events
	}
	if !s.Started {
		return nil // not an order this saga runs (or its placement not yet seen)
	}
	if !d.record(obs, at) {
		return nil
	}
	d.advance(at, p)
	return d.events
}

// record records obs if it is news and reports whether it was.
func (d *decision) record(obs Observation, at time.Time) bool {
	s, id := d.s, d.s.OrderID
	var e any
	switch o := obs.(type) {
	case StockReserved:
		if s.Reserved[o.SKU] {
			return false
		}
		o.OrderID = id
		e = o
	case StockRejected:
		if s.Rejected[o.SKU] {
			return false
		}
		o.OrderID = id
		e = o
	case StockReleased:
		if s.Released[o.SKU] {
			return false
		}
		o.OrderID = id
		e = o
	case StockSecured:
		if s.Secured[o.SKU] {
			return false
		}
		o.OrderID = id
		e = o
	case StockCommitted:
		if s.Committed[o.SKU] {
			return false
		}
		o.OrderID = id
		e = o
	case PaymentCaptured:
		if s.Payment == PaymentCapturedStatus || s.Payment == PaymentRefundedStatus {
			return false
		}
		o.OrderID = id
		e = o
	case PaymentDeclined:
		if s.Payment != "" && s.Payment != PaymentUnknownStatus {
			return false
		}
		o.OrderID = id
		e = o
	case PaymentUnknown:
		if s.Payment != "" {
			return false
		}
		o.OrderID = id
		e = o
	case PaymentRefunded:
		if s.Payment == PaymentRefundedStatus {
			return false
		}
		o.OrderID = id
		e = o
	case CustomerCancelled:
		if s.CustomerCancelled {
			return false
		}
		e = CancellationRequested{OrderID: id}
	case Deadline:
		if _, set := s.Deadlines[o.Step]; !set || s.Passed[o.Step] || s.Completed {
			return false
		}
		if o.Step == StepReservation && s.AllReserved() {
			return false // the step is done: the deadline is moot
		}
		e = DeadlinePassed{OrderID: id, Step: o.Step, At: o.At}
	case OrderConfirmed:
		if s.Completed {
			return false
		}
		d.emit(StockCommitRequested{OrderID: id, Lines: s.Lines})
		e = Completed{OrderID: id, Outcome: Confirmed, DurationMS: since(s.StartedAt, at)}
	case OrderCancelled:
		if s.Completed {
			return false
		}
		if s.Compensating == "" { // cancelled by someone else: still undo everything
			d.compensate(o.Reason)
		}
		e = Completed{OrderID: id, Outcome: Cancelled, Reason: o.Reason, DurationMS: since(s.StartedAt, at)}
	default:
		return false
	}
	d.emit(e)
	return true
}

func since(from, to time.Time) int64 {
	if from.IsZero() || to.Before(from) {
		return 0
	}
	return to.Sub(from).Milliseconds()
}

// advance takes the next step the state calls for.
func (d *decision) advance(at time.Time, p Policy) {
	s := d.s
	switch {
	case s.Completed:
		// The mismatch: money captured for an order that ended cancelled.
		if s.Outcome == Cancelled && s.Payment == PaymentCapturedStatus && !s.RefundRequested {
			d.emit(RefundRequested{OrderID: s.OrderID})
		}
		return
	case s.Compensating != "":
		return // waiting for order.cancelled; the compensations are requested
	case s.ConfirmRequested:
		// Waiting for order.confirmed. Only the customer can still win: the
		// order refuses confirmation once cancellation was asked for.
		if s.CustomerCancelled {
			d.compensate(string(order.ReasonCustomerCancelled))
		}
		return
	}
	switch {
	case s.CustomerCancelled:
		d.compensate(string(order.ReasonCustomerCancelled))
	case s.StockLost(), s.Passed[StepReservation] && !s.AllReserved():
		d.compensate(string(order.ReasonOutOfStock))
	case s.Payment == PaymentDeclinedStatus:
		d.compensate(string(order.ReasonPaymentDeclined))
	case s.Passed[StepPayment] && s.Payment != PaymentCapturedStatus:
		d.compensate(string(order.ReasonPaymentTimeout))
	case s.Payment == PaymentUnknownStatus && !s.ReconcileRequested:
		d.emit(ReconcileRequested{OrderID: s.OrderID})
	case s.AllReserved() && !s.PaymentRequested:
		d.emit(PaymentRequested{OrderID: s.OrderID, Amount: s.Amount})
		d.emit(DeadlineSet{OrderID: s.OrderID, Step: StepPayment, At: at.Add(p.PaymentTimeout)})
	case s.AllReserved() && s.Payment == PaymentCapturedStatus && !s.SecureRequested:
		// Paid: the reservations must not lapse now. Confirm only once
		// inventory secured them all, so an expiry cannot strand a
		// confirmed order; an expiry that wins instead is StockLost above.
		d.emit(StockSecureRequested{OrderID: s.OrderID, Lines: s.Lines})
	case s.AllReserved() && s.Payment == PaymentCapturedStatus && s.AllSecured():
		d.emit(ConfirmRequested{OrderID: s.OrderID})
	}
}

// compensate gives the order up: it asks for every line to be released
// (a barrier for lines not reserved) and, once payment was requested and
// not declined, for the payment to be called off (refunded if captured).
func (d *decision) compensate(reason string) {
	s := d.s
	d.emit(Compensating{OrderID: s.OrderID, Reason: reason})
	if s.ReservationRequested && !s.ReleaseRequested {
		d.emit(ReleaseRequested{OrderID: s.OrderID, Lines: s.Lines})
	}
	if s.PaymentRequested && !s.RefundRequested && s.Payment != PaymentDeclinedStatus {
		d.emit(RefundRequested{OrderID: s.OrderID})
	}
}
