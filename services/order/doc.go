// Package order is the order domain: the Order aggregate (category "order",
// id = order id) from placement to its final state, confirmed or cancelled.
//
// An order is placed pending. The order-fulfilment saga then confirms it or
// cancels it with a reason; a customer may ask for cancellation while it is
// pending. Confirmed and cancelled are final. Commands are idempotent:
// placing the same order again, confirming twice, cancelling twice, or asking
// for cancellation twice records nothing new.
//
// Commands are methods on Order that validate and return the events to
// record; Aggregate folds those events back into state. Nothing here does
// I/O: adapters run the commands through es.Repository.
package order
