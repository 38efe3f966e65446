// Package es is ordo's event-sourcing core: the event envelope, expected
// versions, global positions, typed errors, the type registry, the aggregate
// repository and the Store contract that every backend keeps.
//
// It depends on the standard library only, so every service and every store
// backend can import it without pulling in a database driver.
//
// Stream ids are "category-id" (order-7f3c…, stock-SKU-123); the category is
// the part before the first '-'. Stream versions start at 0. Global positions
// are (commit, prepare) pairs ordered lexicographically: in the PostgreSQL
// backend the commit part is the writing transaction's id and the prepare part
// the event's sequence number; in KurrentDB they are the server's own commit
// and prepare positions.
package es
