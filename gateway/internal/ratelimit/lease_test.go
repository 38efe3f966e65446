package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/testenv"
)

// counts are a limiter's decisions sent to Redis and requests admitted
// from leases.
func counts(l *Limiter) (decisions, local int64) {
	l.b.mu.Lock()
	decisions = l.b.decisions
	l.b.mu.Unlock()
	l.leases.mu.Lock()
	defer l.leases.mu.Unlock()
	return decisions, l.leases.local
}

func spare(l *Limiter, p Policy, key string) int64 {
	l.leases.mu.Lock()
	defer l.leases.mu.Unlock()
	if ls := l.leases.byKey[l.prefix+p.Name+":"+key]; ls != nil {
		return ls.spare
	}
	return 0
}

// A policy whose burst is under minLeaseBurst is decided in Redis one
// request at a time, as the algorithm is written.
func TestSmallBurstIsDecidedPerRequest(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := New(rdb, prefix)
	p := Policy{Name: "small", Rate: 0.001, Burst: minLeaseBurst - 1}
	ctx := context.Background()
	for i := range p.Burst {
		res, err := l.Allow(ctx, p, "k")
		if err != nil || !res.Allowed || res.Remaining != p.Burst-1-i {
			t.Fatalf("request %d: %+v, %v; want admitted with %d remaining", i, res, err, p.Burst-1-i)
		}
	}
	if res, err := l.Allow(ctx, p, "k"); err != nil || res.Allowed || res.RetryAfter <= 0 {
		t.Fatalf("past the burst: %+v, %v", res, err)
	}
	if decisions, local := counts(l); decisions != int64(p.Burst)+1 || local != 0 {
		t.Fatalf("%d decisions in Redis, %d from leases: want every one in Redis", decisions, local)
	}
}

// A key asked again and again with much of a large burst left is mostly
// admitted from leases; every answer says what a decision per request in
// Redis would, and Redis has charged exactly the admitted requests and the
// lease's spare ones.
func TestHotKeyIsLeased(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := New(rdb, prefix)
	p := Policy{Name: "large", Rate: 0.001, Burst: 100000} // nothing restores during the test
	ctx := context.Background()
	const n = 2000
	for i := range n {
		res, err := l.Allow(ctx, p, "k")
		if err != nil || !res.Allowed || res.Remaining != p.Burst-1-i || res.Reset <= time.Duration(i)*p.interval() || res.Reset > time.Duration(i+1)*p.interval() {
			t.Fatalf("request %d: %+v, %v; want admitted with %d remaining", i, res, err, p.Burst-1-i)
		}
	}
	decisions, local := counts(l)
	t.Logf("%d requests: %d decided in Redis, %d from leases", n, decisions, local)
	if decisions+local != n || decisions > n/10 {
		t.Fatalf("%d decisions in Redis and %d from leases for %d requests: want most from leases", decisions, local, n)
	}
	// Another instance (no lease of its own) sees what Redis charged.
	held := spare(l, p, "k")
	if res, err := New(rdb, prefix).Allow(ctx, p, "k"); err != nil || res.Remaining != p.Burst-n-int(held)-1 {
		t.Fatalf("another instance: %+v, %v; want %d remaining (%d admitted, %d held in a lease)", res, err, p.Burst-n-int(held)-1, n, held)
	}
}

// Requests of a lease that outlived its age are not admitted from it: they
// go back to Redis with the key's next decision, so another instance can
// spend them.
func TestExpiredLeaseIsReturned(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	a, b := New(rdb, prefix), New(rdb, prefix)
	p := Policy{Name: "refund", Rate: 0.001, Burst: 6400}
	ctx := context.Background()
	admitted := 0
	allow := func(l *Limiter) bool {
		t.Helper()
		res, err := l.Allow(ctx, p, "k")
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed {
			admitted++
		}
		return res.Allowed
	}
	for spare(a, p, "k") == 0 {
		if !allow(a) {
			t.Fatal("denied before a lease was granted")
		}
	}
	held := spare(a, p, "k")
	for allow(b) {
	}
	if admitted+int(held) != p.Burst {
		t.Fatalf("%d admitted with %d held in a lease: want the burst, %d", admitted, held, p.Burst)
	}
	time.Sleep(leaseAge(p) + 10*time.Millisecond)
	before, _ := counts(a)
	if !allow(a) {
		t.Fatal("the expired lease's requests were not returned")
	}
	if after, _ := counts(a); after != before+1 {
		t.Fatal("an expired lease admitted a request")
	}
	for allow(a) || allow(b) {
	}
	if admitted != p.Burst {
		t.Fatalf("admitted %d in all: want exactly the burst, %d", admitted, p.Burst)
	}
}

// Many callers at once on one leased key never get more than the burst:
// what they were admitted and what a lease still holds add up to it.
func TestConcurrentLeasesKeepTheLimit(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	l := New(rdb, prefix)
	p := Policy{Name: "concurrent", Rate: 0.001, Burst: 5000}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			ctx := context.Background()
			for range 500 {
				res, err := l.Allow(ctx, p, "k")
				if err != nil {
					t.Error(err)
					return
				}
				if res.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	_, local := counts(l)
	if got, held := admitted.Load(), spare(l, p, "k"); got+held != int64(p.Burst) || local == 0 {
		t.Fatalf("admitted %d with %d held in a lease (%d from leases): want %d in all", got, held, local, p.Burst)
	}
}
