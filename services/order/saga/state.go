package saga

import (
	"maps"
	"slices"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
)

// PaymentStatus is what the saga has seen of the payment.
type PaymentStatus string

// The payment statuses the saga tracks ("" = no outcome seen).
const (
	PaymentCapturedStatus PaymentStatus = "captured"
	PaymentDeclinedStatus PaymentStatus = "declined"
	PaymentUnknownStatus  PaymentStatus = "unknown"
	PaymentRefundedStatus PaymentStatus = "refunded"
)

// State is the saga's state: a fold of its stream. Maps are copied on
// write so that states stay values.
type State struct {
	OrderID    string
	Started    bool
	StartedAt  time.Time
	CustomerID string
	Lines      []Line
	Amount     money.Money

	// Stock: what inventory did with each line, as seen.
	Reserved  map[string]bool
	Rejected  map[string]bool
	Released  map[string]bool
	Expired   map[string]bool
	Secured   map[string]bool
	Committed map[string]bool

	ReservationRequested bool
	PaymentRequested     bool
	Payment              PaymentStatus
	ReconcileRequested   bool
	CustomerCancelled    bool
	// Compensating is the cancellation reason once the saga gave up.
	Compensating     string
	ReleaseRequested bool
	RefundRequested  bool
	SecureRequested  bool
	ConfirmRequested bool
	CommitRequested  bool

	// Deadlines are the steps' deadlines; Passed the ones that passed.
	Deadlines map[Step]time.Time
	Passed    map[Step]bool

	Completed   bool
	Outcome     Outcome
	Reason      string
	CompletedAt time.Time
}

// Aggregate loads and saves the saga's stream with es.Repository.
var Aggregate = es.Aggregate[State]{
	Category: Category,
	Initial:  func(id string) State { return State{OrderID: id} },
	Apply:    apply,
}

func apply(s State, event any) State {
	switch e := event.(type) {
	case Started:
		s.Started, s.StartedAt, s.CustomerID, s.Lines, s.Amount = true, e.At, e.CustomerID, slices.Clone(e.Lines), e.Amount
	case ReservationRequested:
		s.ReservationRequested = true
	case StockReserved:
		s.Reserved = set(s.Reserved, e.SKU)
	case StockRejected:
		s.Rejected = set(s.Rejected, e.SKU)
	case StockReleased:
		s.Released = set(s.Released, e.SKU)
		if e.Expired { // even a barrier: the line can no longer be reserved
			s.Expired = set(s.Expired, e.SKU)
		}
	case StockSecured:
		s.Secured = set(s.Secured, e.SKU)
	case StockCommitted:
		s.Committed = set(s.Committed, e.SKU)
	case PaymentRequested:
		s.PaymentRequested = true
	case PaymentCaptured:
		s.Payment = PaymentCapturedStatus
	case PaymentDeclined:
		s.Payment = PaymentDeclinedStatus
	case PaymentUnknown:
		s.Payment = PaymentUnknownStatus
	case PaymentRefunded:
		s.Payment = PaymentRefundedStatus
	case ReconcileRequested:
		s.ReconcileRequested = true
	case CancellationRequested:
		s.CustomerCancelled = true
	case Compensating:
		s.Compensating = e.Reason
	case ReleaseRequested:
		s.ReleaseRequested = true
	case RefundRequested:
		s.RefundRequested = true
	case StockSecureRequested:
		s.SecureRequested = true
	case ConfirmRequested:
		s.ConfirmRequested = true
	case StockCommitRequested:
		s.CommitRequested = true
	case DeadlineSet:
		d := maps.Clone(s.Deadlines)
		if d == nil {
			d = map[Step]time.Time{}
		}
		d[e.Step] = e.At
		s.Deadlines = d
	case DeadlinePassed:
		p := maps.Clone(s.Passed)
		if p == nil {
			p = map[Step]bool{}
		}
		p[e.Step] = true
		s.Passed = p
	case Completed:
		s.Completed, s.Outcome, s.Reason = true, e.Outcome, e.Reason
		s.CompletedAt = s.StartedAt.Add(time.Duration(e.DurationMS) * time.Millisecond)
	}
	return s
}

func set(m map[string]bool, k string) map[string]bool {
	m = maps.Clone(m)
	if m == nil {
		m = map[string]bool{}
	}
	m[k] = true
	return m
}

// AllReserved reports whether every line has been reserved.
func (s State) AllReserved() bool {
	for _, l := range s.Lines {
		if !s.Reserved[l.SKU] {
			return false
		}
	}
	return len(s.Lines) > 0
}

// AllSecured reports whether inventory has secured every line.
func (s State) AllSecured() bool {
	for _, l := range s.Lines {
		if !s.Secured[l.SKU] {
			return false
		}
	}
	return len(s.Lines) > 0
}

// StockLost reports whether a line was rejected or a reservation expired:
// the order cannot be filled.
func (s State) StockLost() bool { return len(s.Rejected) > 0 || len(s.Expired) > 0 }

// PendingDeadlines returns the deadlines that have not passed, while the
// saga is running: the ones a runner must arm.
func (s State) PendingDeadlines() map[Step]time.Time {
	if s.Completed {
		return nil
	}
	out := map[Step]time.Time{}
	for step, at := range s.Deadlines {
		if !s.Passed[step] && (step != StepReservation || !s.AllReserved()) {
			out[step] = at
		}
	}
	return out
}

// Effect is an order command the saga's state calls for.
type Effect struct {
	// Confirm: confirm the order.
	Confirm bool
	// Cancel: cancel the order for this reason ("" = no).
	Cancel string
}

// Effect returns the order command the state calls for. Order commands are
// idempotent, so a runner carries the effect out after every decision,
// including on a replay after a crash between its append and the command.
func (s State) Effect() Effect {
	switch {
	case s.Completed || !s.Started:
		return Effect{}
	case s.Compensating != "":
		return Effect{Cancel: s.Compensating}
	case s.ConfirmRequested:
		return Effect{Confirm: true}
	}
	return Effect{}
}
