// Package saga is the pure domain of the order-fulfilment saga: an
// orchestrated process manager whose own state is the event stream
// fulfilment-<orderID>. It knows no store, clock or framework: the runner
// (services/order/internal/saga) turns what other services recorded into
// Observations, asks State.Decide what to record next, appends that with
// ids derived from the observation's event id, and carries out the order
// commands the state asks for (Effect).
//
// Flow and compensations:
//
//	order.placed ─► started, reservation_requested, deadline_set{reservation}
//	all lines reserved ─► payment_requested, deadline_set{payment}
//	payment captured ─► stock_secure_requested (every line: it may no longer lapse)
//	all lines secured ─► confirm_requested ─(order.confirmed)─► stock_commit_requested, completed{confirmed}
//	line rejected | reservation expired | reservation deadline passed ─► compensating{out_of_stock}
//	payment declined ─► compensating{payment_declined}
//	payment outcome unknown ─► reconcile_requested (the payment service asks the provider; never a guess)
//	payment deadline passed without capture ─► compensating{payment_timeout}
//	customer cancellation (until the order is confirmed) ─► compensating{customer_cancelled}
//	compensating ─► release_requested (every line: a release is a barrier
//	  against a late reserve) and, once payment was requested, refund_requested
//	  (the payment cancel barrier: money captured before or after is refunded)
//	  ─(order.cancelled)─► completed{cancelled, reason}
//	completed{cancelled} + a late payment.captured ─► refund_requested (the mismatch)
//
// The point of no return is the order's confirmation: the runner confirms
// the order before asking for the stock to be committed, and the order
// refuses confirmation once its customer asked to cancel, so a customer's
// cancellation and the confirmation cannot both win. Inventory's
// reservation TTL cannot win against it either: the saga confirms only
// once inventory has secured every line, and inventory's Stock aggregate
// lets either the secure or the expiry of a reservation happen, never both;
// a lapse seen before every line is secured gives the order up
// (out_of_stock, the captured payment refunded).
package saga
