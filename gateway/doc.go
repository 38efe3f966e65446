// Package gateway is ordo's single entrance: it authenticates callers,
// limits their rate, makes order placement idempotent, routes each public
// /api/v1 call to the service that owns it and aggregates the customer's
// order view from order, payment and notify.
//
// The gateway owns no business rules. Its adapters live under internal/:
// auth (users, JWT), ratelimit (GCRA in Redis), idempotency (Idempotency-Key
// records in Redis), upstream (HTTP clients with breakers, timeouts and
// retries) and httpapi (the public routes and the embedded OpenAPI
// description). cmd/gateway wires them.
package gateway
