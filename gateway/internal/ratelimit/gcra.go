// Package ratelimit is the gateway's distributed rate limiter: the generic
// cell rate algorithm (GCRA) run as one Lua script in Redis, using Redis's
// own clock (TIME), so every gateway instance sharing a Redis shares one
// limit per key and no instance's clock matters. It writes the IETF draft
// RateLimit-Policy and RateLimit headers and answers 429 with Retry-After.
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
var gcra = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local diff = new_tat - now
if diff > capacity then
  return {0, 0, diff - capacity, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil(diff / 1000) + 1)
return {1, math.floor((capacity - diff) / interval), 0, diff}
`)

// Limiter decides against Redis.
type Limiter struct {
	b      batcher
	prefix string
}

// Client is what the limiter needs of a Redis client (*redis.Client has it).
type Client interface {
	redis.Scripter
	Pipeline() redis.Pipeliner
}

// New returns a limiter storing its keys under prefix.
func New(rdb Client, prefix string) *Limiter {
	return &Limiter{b: batcher{rdb: rdb}, prefix: prefix}
}

// Allow spends one request of p for key.
func (l *Limiter) Allow(ctx context.Context, p Policy, key string) (Result, error) {
	iv := p.interval().Microseconds()
	capacity := iv * int64(p.Burst)
	vals, err := l.b.run(&decision{ctx: ctx, key: l.prefix + p.Name + ":" + key, iv: iv, capacity: capacity})
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", p.Name, err)
	}
	return Result{
		Allowed:    vals[0] == 1,
		Remaining:  int(vals[1]),
		RetryAfter: time.Duration(vals[2]) * time.Microsecond,
		Reset:      time.Duration(vals[3]) * time.Microsecond,
	}, nil
}
