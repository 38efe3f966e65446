// Package e2e holds ordo's end-to-end tests. Each starts the whole
// platform with the launcher, as `make run` does, on free ports with a
// fresh database and Redis key space, and talks to it only through the
// gateway's public API (and Chromium, for the shop):
//
//   - browser tests of the demo shop (chromedp, Debian's headless Chromium;
//     screenshots go to <repo>/tmp/screenshots/);
//   - the saga's paths one by one (scenario_test.go), including a
//     reservation lapsing while the capture is unread (docs/saga.md);
//   - the crash test: SIGKILL and restart of order, inventory and payment
//     under load (ORDO_CRASH_SEED replays one seed; ORDO_CRASH_SEEDS,
//     ORDO_CRASH_ORDERS, ORDO_CRASH_RATE);
//   - chaos through Toxiproxy, Redis restarted empty, a slow provider
//     (toxic_*_test.go; ORDO_TOXIC_SEED replays one seed; ORDO_TOXIC_SEEDS,
//     ORDO_TOXIC_PARALLEL, ORDO_TOXIC_RATE, ORDO_TOXIC_FAULT_FOR,
//     ORDO_TOXIC_REDIS_DOWN, ORDO_TOXIC_SLOW_FOR, ORDO_TOXIC_SLOW_MS,
//     ORDO_TOXIC_PAYMENT_TIMEOUT);
//   - poison events parked and replayed while other orders flow
//     (poison_test.go; ORDO_POISON_SEED replays one seed; ORDO_POISON_SEEDS,
//     ORDO_POISON_PARALLEL); one trace across every service,
//     /metrics on every process, and a short run of the load generator.
//
// Every scenario that changes the books ends with the invariant auditor.
// Run them with `make e2e`; they need PostgreSQL, Redis, Mailpit's binary
// and /usr/bin/chromium (installed by the test when it runs as root on
// Debian). The load generator itself is in e2e/load and e2e/cmd/ordo-load.
package e2e
