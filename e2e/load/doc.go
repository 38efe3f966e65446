// Package load is ordo's load generator: it drives the public gateway API
// the way a crowd of shoppers would and measures what the platform
// sustains.
//
// It uses the open model. Arrivals are laid out on a timetable at a fixed
// rate (arrival i is due at start + i/rate) and each one runs in its own
// goroutine, whatever happened to the ones before it: a slow answer never
// delays the next request, as it would in a closed loop of workers that
// each wait for their last answer. Every latency is measured from the
// arrival's due time, so time spent queueing anywhere (in the platform, in
// the generator's connection pool, in a scheduler that fell behind) is
// counted instead of omitted ("coordinated omission"). The service time,
// from the moment the request got its connection to the end of the
// answer, is kept beside it; the gap between the two is the queueing the
// service time hides.
//
// When the generator itself cannot keep the timetable, it says so rather
// than turning into a closed loop: an arrival that starts later than
// Config.LateAfter after its due time counts as late, and one refused
// because Config.MaxInFlight requests are already waiting counts as not
// sent (and as an error of its kind).
//
// Orders are followed to their outcome by watching each account's order
// list (GET /api/v1/orders, newest first, a page or two per poll) instead
// of one request per order: place → confirmed latency is taken from the
// order's updated_at, the time the store recorded order.confirmed, so it
// does not depend on the poll interval (same clock: the generator and the
// platform run on one machine). Projection lag and the saga's running
// count are sampled from GET /api/v1/admin/status once a second.
//
// Run does one phase; WriteMarkdown and WriteHTML turn phases into a
// report. The command ordo-load (e2e/cmd/ordo-load) wraps them.
package load
