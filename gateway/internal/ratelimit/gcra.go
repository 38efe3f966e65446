// Package ratelimit is the gateway's distributed rate limiter: the generic
// cell rate algorithm (GCRA) run as one Lua script in Redis, using Redis's
// own clock (TIME), so every gateway instance sharing a Redis shares one
// limit per key and no instance's clock matters. It writes the IETF draft
// RateLimit-Policy and RateLimit headers and answers 429 with Retry-After.
//
// A key far from its limit (a large burst mostly unspent) is charged in
// Redis a few requests at a time, its "lease", which this instance then
// admits without a round trip (see lease.go); every other decision is one
// script run per request, as the algorithm is written.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// Policy is one limit: Rate requests per second sustained, with Burst
// requests allowed at once from an idle start.
type Policy struct {
	Name  string
	Rate  float64
	Burst int
}

// interval is the time one request costs (the emission interval).
func (p Policy) interval() time.Duration {
	return time.Duration(float64(time.Second) / p.Rate)
}

// micros is the interval and the capacity (burst intervals) in the
// script's unit. Redis keeps time in microseconds, so a policy faster than
// a million requests a second counts as one that fast.
func (p Policy) micros() (iv, capacity int64) {
	iv = max(p.interval().Microseconds(), 1)
	return iv, iv * int64(p.Burst)
}

// Window is how long an exhausted policy takes to restore its whole burst,
// which is the "w" the RateLimit-Policy header announces.
func (p Policy) Window() time.Duration { return time.Duration(p.Burst) * p.interval() }

// Validate rejects a policy that cannot admit anything.
func (p Policy) Validate() error {
	if p.Rate <= 0 || math.IsInf(p.Rate, 0) || math.IsNaN(p.Rate) || p.Burst < 1 {
		return fmt.Errorf("rate limit %s: want rate > 0 and burst >= 1, got %v/s burst %d", p.Name, p.Rate, p.Burst)
	}
	return nil
}

// Result is one decision.
type Result struct {
	Allowed bool
	// Remaining is how many more requests would be admitted right now.
	Remaining int
	// RetryAfter is how long until the next request is admitted (zero when allowed).
	RetryAfter time.Duration
	// Reset is how long until the full burst is available again.
	Reset time.Duration
}

// gcra keeps one "theoretical arrival time" (TAT, microseconds on Redis's
// clock) per key. A request moves TAT one interval on; it is admitted while
// TAT stays within burst intervals of now. The key expires when TAT passes,
// so idle callers cost no memory.
//
// ARGV[3] asks for up to that many requests at once (a lease); the script
// grants more than one only while the key has at least 64 times as many
// left, so a lease never holds more than 1/64 of what the caller has left,
// and a policy with a burst under 128 is decided one request at a time.
// ARGV[4] returns that many requests of an earlier lease that went unused.
// The answer is {admitted, remaining, retry after, reset, granted}, the
// times in microseconds.
var gcra = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local refund = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') - refund * interval
if tat < now then tat = now end
local avail = math.floor((capacity - (tat - now)) / interval)
if avail < 1 then
  if refund > 0 then
    redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
  end
  return {0, 0, tat + interval - now - capacity, tat - now, 0}
end
local n = math.min(want, math.max(1, math.floor(avail / 64)))
local new_tat = tat + n * interval
local diff = new_tat - now
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil(diff / 1000) + 1)
return {1, avail - n, 0, diff, n}
`)

// Limiter decides against Redis.
type Limiter struct {
	b      batcher
	prefix string
	leases leases
}

// Client is what the limiter needs of a Redis client (*redis.Client has it).
type Client interface {
	redis.Scripter
	Pipeline() redis.Pipeliner
}

// New returns a limiter storing its keys under prefix.
func New(rdb Client, prefix string) *Limiter {
	return &Limiter{b: batcher{rdb: rdb}, prefix: prefix, leases: leases{byKey: map[string]*lease{}}}
}

// Allow spends one request of p for key: from this instance's lease for
// the key when it holds one, else in Redis.
func (l *Limiter) Allow(ctx context.Context, p Policy, key string) (Result, error) {
	return l.allow(ctx, p, key, 0)
}

// allow is Allow with the Redis round trip, when there is one, bounded by
// timeout (0: by ctx alone).
func (l *Limiter) allow(ctx context.Context, p Policy, key string, timeout time.Duration) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", p.Name, err)
	}
	iv, capacity := p.micros()
	k := l.prefix + p.Name + ":" + key
	res, ok, want, refund := l.leases.take(k, p, time.Now())
	if ok {
		return res, nil
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	vals, err := l.b.run(&decision{ctx: ctx, key: k, iv: iv, capacity: capacity, want: int64(want), refund: int64(refund)})
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", p.Name, err)
	}
	if vals[0] != 1 {
		return Result{
			RetryAfter: time.Duration(vals[2]) * time.Microsecond,
			Reset:      time.Duration(vals[3]) * time.Microsecond,
		}, nil
	}
	spare := vals[4] - 1
	l.leases.add(k, p, spare, vals[3], time.Now())
	// Answer as if the rest of the lease were not spent yet.
	return admitted(iv, capacity, vals[3]-spare*iv), nil
}

// admitted is the Result of an admitted request after which the key's TAT
// is reset microseconds ahead of Redis's clock (at least one interval).
func admitted(iv, capacity, reset int64) Result {
	reset = max(reset, iv)
	return Result{Allowed: true, Remaining: int(max(capacity-reset, 0) / iv), Reset: time.Duration(reset) * time.Microsecond}
}
