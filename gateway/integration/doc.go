// Package integration tests the gateway against the real ordo services:
// the launcher builds and starts the whole platform (order, inventory,
// payment, notify, the provider simulator and the gateway) on free ports,
// with a fresh database, a fresh Redis prefix and a private Mailpit, and
// the tests speak only the public /api/v1, checking every request and
// answer against the gateway's openapi.yaml.
//
// Run: cd gateway && go test -count=1 ./integration/ (needs PostgreSQL and
// Redis; -short skips it because it builds every binary).
package integration
