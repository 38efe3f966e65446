package httpapi_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/gateway/internal/ratelimit"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

func TestUserRateLimit(t *testing.T) {
	o := defaults()
	o.userLimit = ratelimit.Policy{Name: "user", Rate: 0.5, Burst: 3}
	g := newGateway(t, o, nil)
	alice := g.login(t, "alice")
	for i := range 3 {
		r := g.do(t, req{method: "GET", path: "/api/v1/orders", token: alice})
		wantStatus(t, r, http.StatusOK)
		if pol := r.header.Get("RateLimit-Policy"); !strings.Contains(pol, `"user";q=3;w=6`) {
			t.Fatalf("RateLimit-Policy %q", pol)
		}
		if rl := r.header.Get("RateLimit"); !strings.Contains(rl, `"user";r=`+string(rune('2'-i))) {
			t.Fatalf("request %d: RateLimit %q", i, rl)
		}
	}
	r := g.do(t, req{method: "GET", path: "/api/v1/orders", token: alice})
	wantStatus(t, r, http.StatusTooManyRequests)
	if ra := r.header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After %q, want 2 (one request costs 2s)", ra)
	}
	// Another user has a limit of their own.
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders", token: g.login(t, "bob")}), http.StatusOK)
}

func TestAddressRateLimitCoversLogin(t *testing.T) {
	o := defaults()
	o.addrLimit = ratelimit.Policy{Name: "addr", Rate: 0.001, Burst: 2} // no refill within any test run, however slow bcrypt is
	g := newGateway(t, o, nil)
	for range 2 {
		g.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "alice", "password": "x"}})
	}
	r := g.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "alice", "password": "demo"}})
	wantStatus(t, r, http.StatusTooManyRequests)
}

// With Redis down, reads fail open (no limit, no headers) and writes fail
// closed (503), as documented in openapi.yaml.
func TestRedisDown(t *testing.T) {
	o := defaults()
	o.rdb = redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	o.prefix = "ordo:t:down:"
	g := newGateway(t, o, nil)
	r := g.do(t, req{method: "GET", path: "/api/v1/products"})
	wantStatus(t, r, http.StatusOK)
	if r.header.Get("RateLimit") != "" {
		t.Errorf("fail-open answer has RateLimit %q", r.header.Get("RateLimit"))
	}
	r = g.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "alice", "password": "demo"}})
	wantStatus(t, r, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After on fail-closed 503")
	}
}

// Two gateway instances sharing one Redis admit one caller as one limit.
func TestTwoInstancesShareOneLimit(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	f := newFakes(t)
	t.Run("burst", func(t *testing.T) {
		o := defaults()
		o.rdb, o.prefix = rdb, prefix+"burst:"
		o.userLimit = ratelimit.Policy{Name: "user", Rate: 0.001, Burst: 100}
		a, b := newGateway(t, o, f), newGateway(t, o, f)
		tok := a.login(t, "alice")
		admitted := hammer(t, []*gw{a, b}, tok, 300, 0)
		if admitted < 95 || admitted > 105 {
			t.Fatalf("admitted %d of 300, want 100 ±5%%", admitted)
		}
	})
	t.Run("sustained", func(t *testing.T) {
		o := defaults()
		o.rdb, o.prefix = rdb, prefix+"rate:"
		o.userLimit = ratelimit.Policy{Name: "user", Rate: 20, Burst: 5}
		a, b := newGateway(t, o, f), newGateway(t, o, f)
		tok := a.login(t, "alice")
		start := time.Now()
		admitted := hammer(t, []*gw{a, b}, tok, 0, 3*time.Second)
		// Requests still in flight at the end were sent before now.
		want := 5 + 20*time.Since(start).Seconds()
		if d := float64(admitted) - want; d < -0.05*want || d > 0.05*want {
			t.Fatalf("admitted %d in %s, want %.0f ±5%%", admitted, time.Since(start).Round(time.Millisecond), want)
		}
	})
}

// hammer sends GETs through the gateways, alternating, either n in all or
// for d, and counts the admitted ones. It bypasses the contract check to
// keep the request rate up.
func hammer(t *testing.T, gs []*gw, tok string, n int, d time.Duration) int {
	t.Helper()
	var admitted, sent atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; ; i++ {
				if (n > 0 && sent.Add(1) > int64(n)) || (d > 0 && time.Now().After(deadline)) {
					return
				}
				hr, _ := http.NewRequestWithContext(t.Context(), "GET", gs[i%len(gs)].srv.URL+"/api/v1/products/SKU-1", nil)
				hr.Header.Set("Authorization", "Bearer "+tok)
				// The catalog has no user limit, so hit an authenticated route.
				hr.URL.Path = "/api/v1/orders"
				res, err := http.DefaultClient.Do(hr)
				if err != nil {
					t.Error(err)
					return
				}
				_ = res.Body.Close()
				switch res.StatusCode {
				case http.StatusOK:
					admitted.Add(1)
				case http.StatusTooManyRequests:
				default:
					t.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	return int(admitted.Load())
}

func TestBodyHeaderLimitsAndTimeline(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	alice := g.login(t, "alice")
	big := `{"lines":[{"sku":"` + strings.Repeat("A", 5000) + `","quantity":1}]}`
	wantStatus(t, g.do(t, req{method: "POST", path: "/api/v1/orders", token: alice, body: big,
		header: map[string]string{"Idempotency-Key": "big"}}), http.StatusRequestEntityTooLarge)
	hr, _ := http.NewRequestWithContext(t.Context(), "GET", g.srv.URL+"/api/v1/products", nil)
	hr.Header.Set("X-Filler", strings.Repeat("x", 9000))
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("big headers: %d, want 431", res.StatusCode)
	}
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders/x/timeline", token: alice}), http.StatusNotFound)
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders/" + strings.Repeat("y", 101) + "/timeline", token: alice}), http.StatusNotFound)
}
