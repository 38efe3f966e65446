package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/testenv"
)

// backend stands for a handler that reads from a backend: it counts its
// calls, marks its answer, and when block is set waits for its context to
// end (a backend call still in flight when the decision comes).
type backend struct {
	calls     atomic.Int64
	cancelled atomic.Int64
	block     atomic.Bool
}

func (b *backend) handler(c echo.Context) error {
	b.calls.Add(1)
	c.Response().Header().Set("X-Backend", "answered")
	if b.block.Load() {
		select {
		case <-c.Request().Context().Done():
			if errors.Is(context.Cause(c.Request().Context()), errRejected) {
				b.cancelled.Add(1)
			}
			return c.Request().Context().Err()
		case <-time.After(5 * time.Second):
		}
	}
	return c.String(http.StatusOK, "backend body")
}

func serve(l *Limiter, rules []Rule, speculate bool, h echo.HandlerFunc) *echo.Echo {
	e := echo.New()
	e.GET("/", h, l.Limit(rules, Options{Mode: ModeByMethod, Timeout: 5 * time.Second, Log: slog.Default(), Speculate: speculate}))
	return e
}

func get(e *echo.Echo) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil))
	return rec
}

func constKey(k string) func(echo.Context) string { return func(echo.Context) string { return k } }

// A read whose caller has much of its burst left starts before its
// decision; the answer is the one a decision first would give.
func TestSpeculativeReadAnswersAsBefore(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	p := Policy{Name: "addr", Rate: 0.001, Burst: 10}
	l := New(rdb, prefix)
	var b backend
	e := serve(l, []Rule{{Policy: p, Key: constKey("a")}}, true, b.handler)
	plain := serve(New(rdb, prefix+"plain:"), []Rule{{Policy: p, Key: constKey("a")}}, false, b.handler)
	for i := range 5 {
		got, want := get(e), get(plain)
		if got.Code != want.Code || got.Body.String() != want.Body.String() {
			t.Fatalf("request %d: %d %q, without speculation %d %q", i, got.Code, got.Body, want.Code, want.Body)
		}
		for _, h := range []string{"RateLimit", "RateLimit-Policy", "X-Backend", "Content-Type", "Retry-After"} {
			if got.Header().Get(h) != want.Header().Get(h) {
				t.Errorf("request %d: %s %q, without speculation %q", i, h, got.Header().Get(h), want.Header().Get(h))
			}
		}
	}
}

// Speculation needs half the burst left: a caller's first request (nothing
// known yet) and those past half its burst wait for their decision.
func TestSpeculationNeedsHalfTheBurst(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	p := Policy{Name: "addr", Rate: 0.001, Burst: 4}
	l := New(rdb, prefix)
	cs := []claim{{p: p, k: prefix + "addr:a"}}
	if l.margins.reserve(cs) {
		t.Fatal("speculated with nothing known of the caller")
	}
	e := serve(l, []Rule{{Policy: p, Key: constKey("a")}}, true, (&backend{}).handler)
	for i, want := range []bool{true, true, false} { // 3, 2, 1 of 4 left
		get(e)
		ok := l.margins.reserve(cs)
		if ok {
			l.margins.release(cs)
		}
		if ok != want {
			t.Fatalf("after request %d: speculate %v, want %v", i+1, ok, want)
		}
	}
}

// A speculative read the limit rejects (another instance spent the
// caller's burst) is cancelled and never answered: the client gets exactly
// the 429 a decision first gives. After it the caller, now known to be
// over its limit, no longer reaches the backend at all.
func TestRejectedSpeculativeReadIsNeverAnswered(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	p := Policy{Name: "addr", Rate: 0.001, Burst: 10}
	rules := []Rule{{Policy: p, Key: constKey("a")}}
	a, other := New(rdb, prefix), New(rdb, prefix)
	var b backend
	e := serve(a, rules, true, b.handler)
	if rec := get(e); rec.Code != http.StatusOK {
		t.Fatalf("first request: %d", rec.Code)
	}
	for {
		res, err := other.Allow(context.Background(), p, "a")
		if err != nil {
			t.Fatal(err)
		}
		if !res.Allowed {
			break
		}
	}
	// What a decision first answers now, from a third instance.
	var nb backend
	want := get(serve(New(rdb, prefix), rules, false, nb.handler))
	if want.Code != http.StatusTooManyRequests || nb.calls.Load() != 0 {
		t.Fatalf("without speculation: %d, %d backend calls", want.Code, nb.calls.Load())
	}

	b.block.Store(true)
	before := b.calls.Load()
	got := get(e)
	if b.calls.Load() != before+1 {
		t.Fatal("the read did not start before its decision")
	}
	if b.cancelled.Load() != 1 {
		t.Error("the rejected read's backend call was not cancelled")
	}
	if got.Code != http.StatusTooManyRequests || strings.Contains(got.Body.String(), "backend") {
		t.Fatalf("rejected speculative read answered %d %q", got.Code, got.Body)
	}
	if got.Header().Get("X-Backend") != "" {
		t.Error("a header the backend's answer set went out with the 429")
	}
	for _, h := range []string{"RateLimit", "RateLimit-Policy", "Retry-After", "Content-Type"} {
		if got.Header().Get(h) == "" || got.Header().Get(h) != want.Header().Get(h) {
			t.Errorf("%s %q, without speculation %q", h, got.Header().Get(h), want.Header().Get(h))
		}
	}
	if got.Body.String() != want.Body.String() {
		t.Errorf("body %q, without speculation %q", got.Body, want.Body)
	}

	b.block.Store(false)
	for range 3 {
		if rec := get(e); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("over its limit: %d", rec.Code)
		}
	}
	if b.calls.Load() != before+1 {
		t.Errorf("a caller over its limit reached the backend %d more times", b.calls.Load()-before-1)
	}
}

// Two policies are decided in one round trip; the first that rejects
// answers, and the ones after it are not charged.
func TestPoliciesDecidedInOneRoundTrip(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	addr := Policy{Name: "addr", Rate: 0.001, Burst: 2}
	user := Policy{Name: "user", Rate: 0.001, Burst: 5}
	l := New(rdb, prefix)
	var b backend
	e := serve(l, []Rule{{Policy: addr, Key: constKey("ip")}, {Policy: user, Key: constKey("alice")}}, false, b.handler)
	for i := range 2 {
		rec := get(e)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
		if pol := rec.Header().Get("RateLimit-Policy"); pol != `"addr";q=2;w=2000, "user";q=5;w=5000` {
			t.Errorf("RateLimit-Policy %q", pol)
		}
		if rl := rec.Header().Get("RateLimit"); !strings.HasPrefix(rl, `"addr";r=`+string(rune('1'-i))) || !strings.Contains(rl, `, "user";r=`+string(rune('4'-i))) {
			t.Errorf("request %d: RateLimit %q", i, rl)
		}
	}
	if d, _ := counts(l); d != 2 {
		t.Errorf("%d script runs for 2 requests under 2 policies: want one each", d)
	}
	rec := get(e)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("past the address limit: %d", rec.Code)
	}
	if rl := rec.Header().Get("RateLimit"); strings.Contains(rl, "user") {
		t.Errorf("RateLimit %q names the policy after the one that rejected", rl)
	}
	if res, err := l.Allow(context.Background(), user, "alice"); err != nil || res.Remaining != 2 {
		t.Errorf("user after 2 admitted and 1 refused by address: %+v, %v; want 2 left", res, err)
	}
}
