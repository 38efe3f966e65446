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

// Middleware limits each request by p under the key keyOf returns (an empty
// key skips the limit). It adds RateLimit-Policy and RateLimit to every
// answer and turns an exhausted limit into 429 with Retry-After. Redis
// errors are bounded by timeout and handled by mode. A nil Limiter limits
// nothing and adds no headers (the gateway's --rate-limits=false, for
// benchmarks that measure what the limiter costs).
func (l *Limiter) Middleware(p Policy, keyOf func(echo.Context) string, mode func(echo.Context) FailMode, timeout time.Duration, log *slog.Logger) echo.MiddlewareFunc {
	if l == nil {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	rejected := rejections().WithLabelValues(p.Name)
	policy := policyItem(p)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := keyOf(c)
			if key == "" {
				return next(c)
			}
			res, err := l.allow(c.Request().Context(), p, key, timeout)
			if err != nil {
				if mode(c) == FailOpen {
					log.WarnContext(c.Request().Context(), "rate limiter unavailable; admitting (fail-open)", "policy", p.Name, "err", err)
					return next(c)
				}
				return &web.Error{Kind: web.Unavailable, Type: "rate-limiter-unavailable", RetryAfter: 1, Err: err,
					Detail: "the rate limiter is unavailable; writes are refused until it is back"}
			}
			addHeaders(c.Response().Header(), policy, p, res)
			if !res.Allowed {
				rejected.Inc()
				return tooMany(c, p, res)
			}
			return next(c)
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
