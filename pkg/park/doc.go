// Package park keeps a subscription flowing past an event its handler
// cannot process. Without it one such event (a "poison" event) stops the
// subscription; its supervisor restarts it from the checkpoint, the same
// event fails again, and every event behind it waits for ever.
//
// A Lot wraps a subscriber's handler (Lot.Handler). A failure the handler
// marks as permanent (es.Permanent), an event body that does not decode, an
// unknown event type or a panic parks the event at once: the Lot records it
// in its Store (subscriber, event id, stream, version, position, type,
// error, attempts, time), logs an error, counts it and lets the
// subscription move on. Any other failure (the database or Redis down, a
// timeout) is transient: the Lot tries the event again a few times with
// backoff and then returns the error, so the subscription stops and its
// supervisor restarts it from the checkpoint, as it always did. A
// transient failure never parks anything.
//
// A subscriber whose events must be handled in order within some group (the
// order-fulfilment saga: one order's events) names the group with
// Subscriber.Key. While an event of a group is parked, the later events of
// that group are parked behind it without running the handler, and a
// replay takes the group's parked events in order.
//
// Lot.Replay runs the (fixed) handler again for one parked event, read back
// from the event store. On success the entry is marked replayed and
// replaying it again does nothing; on failure it stays parked with the new
// error. Handlers in ordo are idempotent (events they emit have ids derived
// from the event they handle), so a replay of an event whose effect partly
// happened before the failure completes it rather than doubling it.
//
// Entries live in the event store's PostgreSQL database (table
// parked_events, created by the event store's migrations) when the store
// is PostgreSQL, else in Redis under the service's key prefix: see
// NewPostgres and NewRedis. Package parkapi puts a Lot on a service's HTTP
// API: GET /admin/parked, GET /admin/parked/count, GET /admin/parked/{id}
// and POST /admin/parked/{id}/replay.
package park
