// Package inventory is the inventory domain: the product catalog and the
// stock of each SKU, with the reservations the order-fulfilment saga makes
// against it.
//
// Two aggregates live here, both keyed by SKU:
//
//   - Product (category "product"): a catalog entry with a name and a price.
//   - Stock (category "stock"): units on hand and the units each order has
//     reserved. Available = on hand − reserved, and neither ever goes negative.
//
// Every stock command about an order is idempotent and order-proof, because
// the saga may retry, duplicate or reorder them:
//
//   - Reserve twice for one order: the second is a no-op.
//   - Release (or Expire) before Reserve: it records a barrier, and the late
//     Reserve becomes a no-op. Release with nothing to undo succeeds.
//   - Commit twice: the second is a no-op.
//
// Commands are methods on the state that validate and return the events to
// record; the package's Aggregate values fold those events back into state.
// Nothing here does I/O: adapters run the commands through es.Repository.
package inventory
