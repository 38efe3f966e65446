// Package kurrent is the KurrentDB (formerly EventStoreDB) backend of es.Store,
// built on github.com/EventStore/EventStore-Client-Go/v4. A service chooses it
// by configuration: when its event-store URL passes IsURL, it calls Open
// instead of the PostgreSQL backend.
//
// How the contract maps onto KurrentDB:
//
//   - Append sends the expectation as the server's own expected revision
//     (Any, NoStream, StreamExists, Revision(v)), our event ids as the event
//     ids, our Metadata as the event's JSON user metadata and content type
//     application/json. The server's wrong-expected-version answer becomes a
//     *es.ConcurrencyError. KurrentDB checks idempotency exactly only for
//     NoStream and Exact; for Any and StreamExists it remembers recent event
//     ids for a while (its idempotency window) and nothing beyond.
//   - Positions are the server's (commit, prepare) positions.
//   - $all holds the server's own system events (types starting with '$');
//     ReadAll, Subscribe and Head never show them.
//   - Category and type filters run on the server where it can (a regular
//     expression on the stream id or event type) and always again, exactly,
//     here.
//   - Subscribe is a catch-up subscription to $all that resubscribes after a
//     drop from the last event it received.
//   - Consume is the scale-out path: a persistent subscription group on $all
//     that several replicas share.
//
// docs/kurrentdb.md says what was verified against what, and where KurrentDB
// and PostgreSQL still differ.
package kurrent
