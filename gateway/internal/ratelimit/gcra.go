// Package ratelimit is the gateway's distributed rate limiter: the generic
// cell rate algorithm (GCRA) run as one Lua script in Redis, using Redis's
// own clock (TIME), so every gateway instance sharing a Redis shares one
// limit per key and no instance's clock matters. It writes the IETF draft
// RateLimit-Policy and RateLimit headers and answers 429 with Retry-After.
//
// A key far from its limit (a large burst mostly unspent) is charged in
// Redis a few requests at a time, its "lease", which this instance then
// admits without a round trip (see lease.go); every other decision is one
// script run per request, as the algorithm is written. A request under
// several policies (Limit: the caller's address, then the caller) has all
// of them decided in that one run, stopping at the first that rejects.
//
// A safe read on a route that opts in (Options.Speculate) starts its
// handler beside its round trip when the caller's last known decision left
// at least half its burst, and its answer goes out only once the decision
// admits it; a rejected one is cancelled and answered with the usual 429
// (see speculate.go).
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
// One run decides each key in turn, with four arguments per key (interval,
// capacity, want, refund), and stops at the first key that rejects: the
// keys after it are neither charged nor answered, as if each had been
// asked only once the one before it admitted. So a request under two
// policies (the caller's address and the caller) is decided in one round
// trip with the answers it would get from two.
//
// want asks for up to that many requests at once (a lease); the script
// grants more than one only while the key has at least 64 times as many
// left, so a lease never holds more than 1/64 of what the caller has left,
// and a policy with a burst under 128 is decided one request at a time.
// refund returns that many requests of an earlier lease that went unused.
// The answer is {admitted, remaining, retry after, reset, granted} per key
// decided, one after the other, the times in microseconds.
var gcra = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
for i = 1, #KEYS do
  local a = (i - 1) * 4
  local interval = tonumber(ARGV[a + 1])
  local capacity = tonumber(ARGV[a + 2])
  local want = tonumber(ARGV[a + 3])
  local refund = tonumber(ARGV[a + 4])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0') - refund * interval
  if tat < now then tat = now end
  local avail = math.floor((capacity - (tat - now)) / interval)
  if avail < 1 then
    if refund > 0 then
      redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
    end
    for _, v in ipairs({0, 0, tat + interval - now - capacity, tat - now, 0}) do out[#out + 1] = v end
    return out
  end
  local n = math.min(want, math.max(1, math.floor(avail / 64)))
  local new_tat = tat + n * interval
  local diff = new_tat - now
  redis.call('SET', KEYS[i], string.format('%d', new_tat), 'PX', math.ceil(diff / 1000) + 1)
  for _, v in ipairs({1, avail - n, 0, diff, n}) do out[#out + 1] = v end
end
return out
`)

// answerLen is how many values the script answers per key.
const answerLen = 5

// Limiter decides against Redis.
type Limiter struct {
	b       batcher
	prefix  string
	leases  leases
	margins margins
}

// Client is what the limiter needs of a Redis client (*redis.Client has it).
type Client interface {
	redis.Scripter
	Pipeline() redis.Pipeliner
}

// New returns a limiter storing its keys under prefix.
func New(rdb Client, prefix string) *Limiter {
	return &Limiter{b: batcher{rdb: rdb}, prefix: prefix, leases: leases{byKey: map[string]*lease{}},
		margins: margins{byKey: map[string]*margin{}}}
}

// Allow spends one request of p for key: from this instance's lease for
// the key when it holds one, else in Redis.
func (l *Limiter) Allow(ctx context.Context, p Policy, key string) (Result, error) {
	cs := []claim{{p: p, key: key}}
	if err := l.decide(ctx, cs, 0); err != nil {
		return Result{}, err
	}
	return cs[0].res, nil
}

// claim is one policy's part of a request's decision.
type claim struct {
	p   Policy
	key string // the caller's key under p, without the limiter's prefix
	// rule is p's place among the route's rules.
	rule int
	// k is the key in Redis; want and refund are what the script is asked
	// (see gcra), set by local.
	k            string
	want, refund int
	// decided is set once res holds p's answer.
	decided bool
	res     Result
}

// decide answers cs in order as one request under every policy: the
// claims from leases here, the rest in one script run (0 timeout: bounded
// by ctx alone). After a rejection the later claims are left undecided
// and uncharged.
func (l *Limiter) decide(ctx context.Context, cs []claim, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rate limit %s: %w", cs[0].p.Name, err)
	}
	rest := l.local(cs)
	if len(rest) == 0 {
		return nil
	}
	return l.remote(ctx, rest, timeout)
}

// local decides the leading claims this instance's leases can answer and
// returns the rest, which need Redis (none after a rejection: a lease
// never rejects). A claim after the first that needs Redis does not spend
// its lease: it is asked for one request, charged only when the claims
// before it admit.
func (l *Limiter) local(cs []claim) (rest []claim) {
	now := time.Now()
	for i := range cs {
		c := &cs[i]
		c.k = l.prefix + c.p.Name + ":" + c.key
		if rest != nil {
			c.want, c.refund = 1, 0
			continue
		}
		res, ok, want, refund := l.leases.take(c.k, c.p, now)
		if ok {
			c.res, c.decided = res, true
			l.margins.record(c.k, res, now)
			continue
		}
		c.want, c.refund = want, refund
		rest = cs[i:]
	}
	return rest
}

// remote decides cs (from local) in one script run, bounded by timeout
// (0: by ctx alone).
func (l *Limiter) remote(ctx context.Context, cs []claim, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	d := &decision{ctx: ctx, keys: make([]string, len(cs)), args: make([]any, 0, 4*len(cs))}
	for i, c := range cs {
		iv, capacity := c.p.micros()
		d.keys[i] = c.k
		d.args = append(d.args, iv, capacity, c.want, c.refund)
	}
	vals, err := l.b.run(d)
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", cs[0].p.Name, err)
	}
	now := time.Now()
	for i := range cs {
		if len(vals) < (i+1)*answerLen {
			break // an earlier claim was rejected
		}
		l.answer(&cs[i], vals[i*answerLen:(i+1)*answerLen], now)
	}
	return nil
}

// answer sets c's result from its part of the script's answer.
func (l *Limiter) answer(c *claim, v []int64, now time.Time) {
	iv, capacity := c.p.micros()
	c.decided = true
	if v[0] != 1 {
		c.res = Result{RetryAfter: time.Duration(v[2]) * time.Microsecond, Reset: time.Duration(v[3]) * time.Microsecond}
	} else {
		spare := v[4] - 1
		l.leases.add(c.k, c.p, spare, v[3], now)
		// Answer as if the rest of the lease were not spent yet.
		c.res = admitted(iv, capacity, v[3]-spare*iv)
	}
	l.margins.record(c.k, c.res, now)
}

// admitted is the Result of an admitted request after which the key's TAT
// is reset microseconds ahead of Redis's clock (at least one interval).
func admitted(iv, capacity, reset int64) Result {
	reset = max(reset, iv)
	return Result{Allowed: true, Remaining: int(max(capacity-reset, 0) / iv), Reset: time.Duration(reset) * time.Microsecond}
}
