// Package payment is the payment domain: one Payment per order (category
// "payment", id = the order id) that is requested, then captured or declined
// by the payment provider, possibly refunded.
//
// The provider is an outside system, so this aggregate records what it said
// rather than deciding it: Capture, Decline and ReportUnknown record the
// provider's answers, Refund records a refund the provider made. An unknown
// outcome (the provider timed out) stays unknown until reconciliation with
// the provider records the real answer.
//
// Cancel is the saga's compensation and a barrier: it succeeds whatever the
// state, and when a capture was made or arrives after it, RefundDue reports
// that the money must go back. Every command is idempotent.
//
// Nothing here does I/O: adapters run the commands through es.Repository.
package payment
