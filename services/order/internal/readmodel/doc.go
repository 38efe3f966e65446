// Package readmodel holds the order service's Redis read models and their
// readers:
//
//   - "prices": the catalog's current unit price per SKU, projected from the
//     inventory service's product.added and product.price_changed events.
//     The order service never takes a price from a client; it prices orders
//     from here.
//   - "orders": the customer's view of each order, and per customer a
//     sorted set of their orders for cursor paging, newest first.
//
// Both run on pkg/projection, so each event and the checkpoint move in one
// MULTI/EXEC and replaying an event is harmless.
package readmodel
