// Package e2e holds the browser tests of the demo shop: they start the
// whole platform with the launcher on free ports (a fresh database, a
// private Mailpit) and drive Debian's Chromium, headless, through chromedp
// against the gateway, as a customer and as an operator would.
//
// Run them with `go test -count=1 ./...` in this folder; they need
// PostgreSQL, Redis, Mailpit's binary and /usr/bin/chromium (installed by
// the test when it runs as root on Debian). Screenshots go to
// <repo>/tmp/screenshots/.
package e2e
