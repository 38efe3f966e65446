package ratelimit

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordo-platform/ordo/pkg/web"
)

// FailMode says what a route class does when Redis cannot be asked.
type FailMode int

const (
	// FailOpen admits the request without a limit: reads and the catalog
	// stay up while Redis is down.
	FailOpen FailMode = iota
	// FailClosed answers 503: login and writes are where abuse costs most,
	// and an order write needs Redis for its idempotency record anyway.
	FailClosed
)

// ModeByMethod is the gateway's choice: safe methods fail open, the rest
// fail closed.
func ModeByMethod(c echo.Context) FailMode {
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return FailOpen
	}
	return FailClosed
}

// Rule is one policy applied under the key Key returns (an empty key
// skips it).
type Rule struct {
	Policy Policy
	Key    func(echo.Context) string
}

// Options say how a route's limits behave.
type Options struct {
	// Mode says what to do when Redis cannot be asked; Timeout bounds
	// the round trip.
	Mode    func(echo.Context) FailMode
	Timeout time.Duration
	Log     *slog.Logger
	// Speculate lets a GET or HEAD start its handler beside its decision
	// (see speculate.go): only for handlers that do nothing but safe,
	// idempotent reads.
	Speculate bool
}

// Middleware limits each request by p under the key keyOf returns (an empty
// key skips the limit). It adds RateLimit-Policy and RateLimit to every
// answer and turns an exhausted limit into 429 with Retry-After. Redis
// errors are bounded by timeout and handled by mode. A nil Limiter limits
// nothing and adds no headers (the gateway's --rate-limits=false, for
// benchmarks that measure what the limiter costs).
func (l *Limiter) Middleware(p Policy, keyOf func(echo.Context) string, mode func(echo.Context) FailMode, timeout time.Duration, log *slog.Logger) echo.MiddlewareFunc {
	return l.Limit([]Rule{{Policy: p, Key: keyOf}}, Options{Mode: mode, Timeout: timeout, Log: log})
}

// Limit is Middleware for a request under several policies at once, in
// order (the caller's address, then the caller): they are decided in one
// round trip, with the answers one middleware per policy would give: the
// first policy that rejects answers 429 and the policies after it are not
// charged. Headers list every policy decided, in order.
func (l *Limiter) Limit(rules []Rule, o Options) echo.MiddlewareFunc {
	if l == nil {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	r := &route{}
	for _, ru := range rules {
		r.items = append(r.items, policyItem(ru.Policy))
		r.rejected = append(r.rejected, rejections().WithLabelValues(ru.Policy.Name))
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			cs := make([]claim, 0, len(rules))
			for i, ru := range rules {
				if key := ru.Key(c); key != "" {
					cs = append(cs, claim{p: ru.Policy, key: key, rule: i})
				}
			}
			if len(cs) == 0 {
				return next(c)
			}
			ctx := c.Request().Context()
			if err := ctx.Err(); err != nil {
				return r.answer(c, cs, fmt.Errorf("rate limit %s: %w", cs[0].p.Name, err), o, next)
			}
			rest := l.local(cs)
			if len(rest) > 0 && o.Speculate && safe(c.Request().Method) && l.margins.reserve(rest) {
				return l.speculate(c, next, cs, rest, o, r)
			}
			var err error
			if len(rest) > 0 {
				err = l.remote(ctx, rest, o.Timeout)
			}
			return r.answer(c, cs, err, o, next)
		}
	}
}

func safe(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// route is what Limit keeps of its rules.
type route struct {
	items    []string // policyItem of each rule
	rejected []prometheus.Counter
}

// answer acts on a decision: err (Redis could not be asked) by the fail
// mode, a rejection with 429, an admission by calling next. next may be
// nil when the request is known to be rejected.
func (r *route) answer(c echo.Context, cs []claim, err error, o Options, next echo.HandlerFunc) error {
	if err != nil {
		if o.Mode(c) == FailOpen && next != nil {
			o.Log.WarnContext(c.Request().Context(), "rate limiter unavailable; admitting (fail-open)", "policy", policyNames(cs), "err", err)
			r.addHeaders(c.Response().Header(), cs)
			return next(c)
		}
		return &web.Error{Kind: web.Unavailable, Type: "rate-limiter-unavailable", RetryAfter: 1, Err: err,
			Detail: "the rate limiter is unavailable; writes are refused until it is back"}
	}
	r.addHeaders(c.Response().Header(), cs)
	for _, cl := range cs {
		if cl.decided && !cl.res.Allowed {
			r.rejected[cl.rule].Inc()
			return tooMany(c, cl.p, cl.res)
		}
	}
	if next == nil {
		return nil
	}
	return next(c)
}

// addHeaders adds the decided claims' RateLimit-Policy and RateLimit items.
func (r *route) addHeaders(h http.Header, cs []claim) {
	for _, cl := range cs {
		if cl.decided {
			addHeaders(h, r.items[cl.rule], cl.p, cl.res)
		}
	}
}

// tooMany writes the 429 problem itself: web's error kinds stop at 503
// and have no 429.
func tooMany(c echo.Context, p Policy, r Result) error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, ceilSeconds(r.RetryAfter))))
	return web.WriteProblem(c, web.Problem{
		Type: web.ProblemTypeBase + "rate-limited", Title: http.StatusText(http.StatusTooManyRequests),
		Status: http.StatusTooManyRequests, Instance: c.Request().URL.Path,
		Detail: fmt.Sprintf("rate limit %q exceeded (%g requests/s, burst %d); retry after Retry-After seconds", p.Name, p.Rate, p.Burst),
	})
}

// addHeaders appends this policy to the draft-ietf-httpapi-ratelimit-headers
// fields: RateLimit-Policy: "user";q=40;w=2 and RateLimit: "user";r=12;t=1.
// With both the address and the user limit, each field lists both. policy
// is policyItem(p).
func addHeaders(h http.Header, policy string, p Policy, r Result) {
	appendField(h, "RateLimit-Policy", policy)
	b := make([]byte, 0, len(p.Name)+32)
	b = strconv.AppendQuote(b, p.Name)
	b = append(b, ";r="...)
	b = strconv.AppendInt(b, int64(r.Remaining), 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, int64(ceilSeconds(r.Reset)), 10)
	appendField(h, "RateLimit", string(b))
}

// policyItem is p's item of the RateLimit-Policy field.
func policyItem(p Policy) string {
	return fmt.Sprintf("%q;q=%d;w=%d", p.Name, p.Burst, ceilSeconds(p.Window()))
}

func appendField(h http.Header, name, item string) {
	if old := h.Get(name); old != "" && !strings.Contains(old, item) {
		item = old + ", " + item
	}
	h.Set(name, item)
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
