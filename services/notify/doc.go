// Package notify is the customer-notification domain: one Notification per
// order outcome (category "notification", id = ID(order id, kind)), so each
// customer gets exactly one email per outcome of an order.
//
// A notification is requested in reaction to an order or payment event, then
// marked sent or failed by the mail adapter; a failed one may be retried
// until it is sent. Requesting the same (order, kind) again is a no-op, and
// once sent, further reports are no-ops, so replays and retries never send a
// second email.
//
// Nothing here does I/O: adapters run the commands through es.Repository.
package notify
