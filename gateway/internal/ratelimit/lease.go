package ratelimit

import (
	"sync"
	"time"
)

// A key that is decided in Redis again and again within a lease's age
// asks for more than one request at a time: the script charges them all
// at once (only while the key is far from its limit: see gcra) and this
// instance admits the spare ones itself, without a round trip, until they
// run out or the lease's age passes. Requests of an expired lease that
// went unused are returned to Redis with the key's next decision.
//
// So the limit is still kept in Redis for every instance: nothing is
// admitted that Redis did not charge first, and a denied request never
// gets past the limiter. What changes for a leased key is only when a
// request is charged: up to a lease's age before it is admitted, which
// lets a caller exceed the limit by at most what the policy restores in
// that time: one percent of its burst, or one request. The RateLimit header of a request
// admitted from a lease is what Redis would say had the lease's other
// requests not been charged yet (other instances' requests since the lease
// unseen).
const (
	// maxLease is the most requests one decision asks for.
	maxLease = 64
	// maxLeaseAge bounds a lease's age.
	maxLeaseAge = 50 * time.Millisecond
	// minLeaseBurst is the smallest burst a lease is ever granted under
	// (the script grants one only to a key with 64 times its size left).
	minLeaseBurst = 2 * 64
	// sweepAt is how many keys the limiter remembers before it forgets
	// the idle ones.
	sweepAt = 4096
)

// leaseAge is how long p's leases last: maxLeaseAge, or less when p
// restores more than one percent of its burst in that time.
func leaseAge(p Policy) time.Duration {
	iv, _ := p.micros()
	return min(maxLeaseAge, time.Duration(iv)*time.Microsecond*time.Duration(max(p.Burst/100, 1)))
}

// lease is what this instance holds of one key.
type lease struct {
	// spare requests were charged in Redis and not admitted yet.
	spare int64
	// reset is how far (µs) the key's TAT was ahead of Redis's clock when
	// the last charge was answered, at (this instance's clock).
	reset   int64
	at      time.Time
	expires time.Time
	// size is how many requests the key's next decision asks for.
	size int
	// miss is when the key was last decided in Redis.
	miss time.Time
}

type leases struct {
	mu        sync.Mutex
	byKey     map[string]*lease
	nextSweep time.Time
	// local counts the requests admitted from leases (for tests).
	local int64
}

// take admits one request from key's lease (ok). Otherwise it says what the
// decision in Redis asks for: want requests, and refund the unused ones of
// an expired lease.
func (ls *leases) take(key string, p Policy, now time.Time) (res Result, ok bool, want, refund int) {
	if p.Burst < minLeaseBurst {
		return Result{}, false, 1, 0
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.byKey[key]
	if l == nil {
		ls.sweep(now)
		ls.byKey[key] = &lease{size: 1, miss: now}
		return Result{}, false, 1, 0
	}
	if l.spare > 0 && now.Before(l.expires) {
		l.spare--
		ls.local++
		iv, capacity := p.micros()
		return admitted(iv, capacity, l.reset-now.Sub(l.at).Microseconds()-l.spare*iv), true, 0, 0
	}
	refund, l.spare = int(l.spare), 0
	switch {
	case refund > 0: // asked for more than was used
		l.size = max(l.size/2, 1)
	case now.Sub(l.miss) < leaseAge(p):
		l.size = min(l.size*2, maxLease)
	}
	l.miss = now
	return Result{}, false, l.size, refund
}

// add keeps spare requests Redis charged for key, whose TAT it then
// reported reset µs ahead.
func (ls *leases) add(key string, p Policy, spare, reset int64, now time.Time) {
	if p.Burst < minLeaseBurst {
		return
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.byKey[key]
	if l == nil {
		if spare == 0 {
			return
		}
		l = &lease{size: 1, miss: now}
		ls.byKey[key] = l
	}
	l.spare += spare
	l.reset, l.at = reset, now
	if spare > 0 {
		l.expires = now.Add(leaseAge(p))
	}
}

// sweep forgets the keys not decided for a second that hold nothing
// usable, at most once a second; the caller holds mu. A forgotten key's
// unused requests stay charged (Redis restores them with time).
func (ls *leases) sweep(now time.Time) {
	if len(ls.byKey) < sweepAt || now.Before(ls.nextSweep) {
		return
	}
	ls.nextSweep = now.Add(time.Second)
	for k, l := range ls.byKey {
		if now.Sub(l.miss) > time.Second && (l.spare == 0 || !now.Before(l.expires)) {
			delete(ls.byKey, k)
		}
	}
}
