package audit

import (
	"cmp"
	"fmt"
	"io"
	"slices"
)

// The checks, in the order a report lists them.
const (
	// CheckQuiet: the store's head did not move during the quiet period.
	CheckQuiet = "quiet"
	// CheckOrders: every placed order is confirmed or cancelled, not both.
	CheckOrders = "orders"
	// CheckStock: stock never negative, on hand = restocks − committed,
	// reservations settled as their orders were.
	CheckStock = "stock"
	// CheckMoney: the ledger's net charge per order and in total matches
	// the orders' outcomes, and the payment events agree with the ledger.
	CheckMoney = "money"
	// CheckEmail: at most one email per order outcome, to the right customer.
	CheckEmail = "email"
	// CheckStreams: versions contiguous from 0, no event id twice, every
	// known event decodable.
	CheckStreams = "streams"
)

var checkOrder = []string{CheckQuiet, CheckOrders, CheckStock, CheckMoney, CheckEmail, CheckStreams}

// Violation is one broken invariant (or, in Report.Warnings, one thing the
// audit could not check or found suspicious but not wrong).
type Violation struct {
	// Check is one of the Check* names.
	Check string `json:"check"`
	// Subject names the offender: an order id, a SKU, a stream, an event id.
	Subject string `json:"subject"`
	// Detail says what is wrong, with the ids and numbers involved.
	Detail string `json:"detail"`
}

func (v Violation) String() string { return v.Check + " " + v.Subject + ": " + v.Detail }

// Counts say how much the audit looked at.
type Counts struct {
	Events    int `json:"events"`
	Streams   int `json:"streams"`
	Orders    int `json:"orders"`
	Confirmed int `json:"confirmed"`
	Cancelled int `json:"cancelled"`
	Pending   int `json:"pending"`
	SKUs      int `json:"skus"`
	Charges   int `json:"charges"`
	Refunds   int `json:"refunds"`
	Emails    int `json:"emails"`
}

// Report is an audit's outcome. It passes when Violations is empty.
type Report struct {
	Violations []Violation `json:"violations"`
	Warnings   []Violation `json:"warnings"`
	Counts     Counts      `json:"counts"`
}

// OK reports whether no invariant was broken.
func (r Report) OK() bool { return len(r.Violations) == 0 }

// Of returns the violations of one check.
func (r Report) Of(check string) []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.Check == check {
			out = append(out, v)
		}
	}
	return out
}

// findings collects violations and warnings while the checks run.
type findings struct {
	violations, warnings []Violation
}

func (f *findings) violate(check, subject, format string, args ...any) {
	f.violations = append(f.violations, Violation{check, subject, fmt.Sprintf(format, args...)})
}

func (f *findings) warn(check, subject, format string, args ...any) {
	f.warnings = append(f.warnings, Violation{check, subject, fmt.Sprintf(format, args...)})
}

// sortFindings orders by check (as checkOrder), then subject, then detail,
// so two audits of one history print the same report.
func sortFindings(vs []Violation) {
	slices.SortStableFunc(vs, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(slices.Index(checkOrder, a.Check), slices.Index(checkOrder, b.Check)),
			cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Detail, b.Detail))
	})
}

// WriteText prints the report for a human: the verdict, the counts, then
// every violation and warning on its own line.
func (r Report) WriteText(w io.Writer) error {
	c := r.Counts
	verdict := "PASS"
	if !r.OK() {
		verdict = fmt.Sprintf("FAIL: %d violation(s)", len(r.Violations))
	}
	_, err := fmt.Fprintf(w, "ordo audit: %s\n"+
		"  %d events in %d streams; %d orders (%d confirmed, %d cancelled, %d pending); %d SKUs; "+
		"ledger %d charges, %d refunds; %d emails\n",
		verdict, c.Events, c.Streams, c.Orders, c.Confirmed, c.Cancelled, c.Pending, c.SKUs, c.Charges, c.Refunds, c.Emails)
	for _, v := range r.Violations {
		if _, err2 := fmt.Fprintf(w, "VIOLATION %s\n", v); err == nil {
			err = err2
		}
	}
	for _, v := range r.Warnings {
		if _, err2 := fmt.Fprintf(w, "warning   %s\n", v); err == nil {
			err = err2
		}
	}
	return err
}
