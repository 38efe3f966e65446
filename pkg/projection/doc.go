// Package projection runs ordo's Redis read models: it subscribes a
// projection to the event store, applies each event to Redis and moves the
// projection's checkpoint in the same MULTI/EXEC, so replaying an event after
// a crash is harmless.
//
// # Key layout
//
// A projection named "orders" with prefix "ordo:order:" keeps
//
//	ordo:order:orders:current            the current key space, e.g. "v3"
//	ordo:order:orders:seq                the last key space number handed out
//	ordo:order:orders:v3:_checkpoint     v3's checkpoint (es.Position string)
//	ordo:order:orders:v3:<parts...>      the read model itself
//
// Readers resolve the current space once per request (Reader.Keys) and build
// every key from it, so a request reads one consistent model.
//
// # The atomic step
//
// Each event is applied in one step. In one round trip it WATCHes the
// pointer and the checkpoint of the space the Runner last saw live, and
// reads both with MGET; if the pointer names another space (a rebuild, maybe
// by another replica, switched), it remembers that one and starts again.
// It skips the event if it is at or before the checkpoint, otherwise calls
// Apply, which queues its writes into a MULTI pipeline, adds SET checkpoint,
// and EXECs: two round trips per event, plus Apply's own reads. Every write
// to a space moves its checkpoint in the same EXEC, so the WATCH on the
// checkpoint also guards any read Apply makes through Tx.Reader: if another
// writer (a second replica, a key space switch) got in between, EXEC aborts
// and the step is retried from the start. Apply may therefore
// read-modify-write, but it must write only keys of Tx.Key and must not have
// side effects outside Redis.
//
// Events are applied one step each because es.Store.Subscribe hands them
// over one at a time.
//
// # Waiting for a position
//
// WaitFor serves read-your-writes: a request waits until the model reflects
// the position its write returned. Waiters check in memory when this
// process's Runner moves the checkpoint, and look at Redis and the store
// on a backing-off clock; every waiter of a process shares one look per
// PollInterval, so a thousand waiting requests cost about what one does.
//
// # Rebuild
//
// Rebuild builds a fresh key space from es.Start while the current one keeps
// serving reads and keeps being updated by the live Runner. When the new
// space's checkpoint is at or past the current one's, it moves the pointer in
// a MULTI/EXEC that WATCHes both checkpoints, so no event applied to the old
// space can be missing from the new one. The live Runner's next step sees the
// new pointer and continues there. The old space is deleted after
// Options.RetireAfter, long enough for readers that resolved it just before
// the switch to finish.
//
// Key spaces use MULTI/EXEC across several keys: run them on a single Redis
// node (or a replicated primary), not a Redis Cluster.
package projection
