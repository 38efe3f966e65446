// Package audit checks the platform's invariants from the outside, once the
// system is quiet: it reads the whole event store, the payment provider's
// ledger and the mail catcher, and reports every order, SKU, payment, email
// or stream that breaks a rule of DESIGN.md ("Invariants that must hold
// after any crash, retry or duplicate").
//
// The auditor trusts no service's read model and no aggregate's applier: it
// folds the raw events itself, so a bug in a service cannot hide from it.
// Run is the library entry point (the e2e tests call it); cmd/ordo-audit is
// the command around it.
package audit
