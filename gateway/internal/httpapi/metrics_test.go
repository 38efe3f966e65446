package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/ordo-platform/ordo/gateway/internal/ratelimit"
	"github.com/ordo-platform/ordo/pkg/metrics"
)

// scrape GETs /metrics without a token, as Prometheus does.
func (g *gw) scrape(t *testing.T) string {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), http.MethodGet, g.srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", res.StatusCode, body)
	}
	return string(body)
}

// value sums the process's series of family name whose labels include want.
// The gateways of one test binary share the process's registry, so tests
// compare values before and after, or use names no other test uses.
func value(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, want) {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// /metrics is outside the limits and the auth; 429s, replays and routes
// are counted.
func TestMetricsCountLimitsReplaysAndRoutes(t *testing.T) {
	o := defaults()
	o.userLimit = ratelimit.Policy{Name: "metrics-user", Rate: 0.001, Burst: 4}
	o.addrLimit = ratelimit.Policy{Name: "metrics-addr", Rate: 0.001, Burst: 6}
	g := newGateway(t, o, nil)
	alice := g.login(t, "alice")
	replays := value(t, "ordo_gateway_idempotency_replays_total", nil)

	id := g.place(t, alice, "metrics").json(t)["id"].(string)
	wantStatus(t, g.place(t, alice, "metrics"), http.StatusAccepted)
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders/" + id, token: alice}), http.StatusOK)
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders", token: alice}), http.StatusOK)
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders", token: alice}), http.StatusTooManyRequests)
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/products"}), http.StatusOK)
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/products"}), http.StatusTooManyRequests)
	var text string
	for range 10 { // past both bursts: a scrape is neither limited nor counted against a limit
		text = g.scrape(t)
	}

	if d := value(t, "ordo_gateway_idempotency_replays_total", nil) - replays; d != 1 {
		t.Errorf("replays went up by %g, want 1", d)
	}
	for policy, want := range map[string]float64{"metrics-user": 1, "metrics-addr": 1} {
		if got := value(t, "ordo_gateway_ratelimit_rejections_total", map[string]string{"policy": policy}); got != want {
			t.Errorf("rejections of %s = %g, want %g", policy, got, want)
		}
	}
	for _, want := range []string{
		`ordo_http_requests_total{code="200",method="GET",route="/api/v1/orders/:id"}`,
		`ordo_http_requests_total{code="429",method="GET",route="/api/v1/orders"}`,
		`ordo_gateway_ratelimit_rejections_total{policy="metrics-user"} 1`,
		`# TYPE ordo_gateway_breaker_state gauge`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("GET /metrics lacks %s", want)
		}
	}
	if strings.Contains(text, id) || strings.Contains(text, `route="/metrics"`) {
		t.Error("GET /metrics shows a raw order path or counts itself")
	}
}

// The breaker state gauge follows the breaker; each transition is counted.
func TestMetricsShowBreakers(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	alice := g.login(t, "alice")
	id := g.place(t, alice, "b").json(t)["id"].(string)
	payment := map[string]string{"upstream": "payment"}
	opened := value(t, "ordo_gateway_breaker_transitions_total", map[string]string{"upstream": "payment", "to": "open"})
	if s := value(t, "ordo_gateway_breaker_state", payment); s != 0 {
		t.Fatalf("payment breaker state %g before failures, want 0 (closed)", s)
	}
	g.fakes.paymentDown.Store(true)
	for range 4 {
		wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders/" + id, token: alice}), http.StatusOK)
	}
	// Open (2), or half-open (1) if its short open period already ran out
	// on a loaded machine.
	if s := value(t, "ordo_gateway_breaker_state", payment); s != 2 && s != 1 {
		t.Errorf("payment breaker state %g after failures, want 2 (open) or 1 (half-open)", s)
	}
	if s := value(t, "ordo_gateway_breaker_state", map[string]string{"upstream": "order"}); s != 0 {
		t.Errorf("order breaker state %g, want 0 (closed)", s)
	}
	if d := value(t, "ordo_gateway_breaker_transitions_total", map[string]string{"upstream": "payment", "to": "open"}) - opened; d < 1 {
		t.Errorf("payment breaker opened %g times more, want at least 1", d)
	}
	if text := g.scrape(t); !strings.Contains(text, `ordo_gateway_breaker_state{upstream="provider-sim"} 0`) {
		t.Error("GET /metrics lacks the provider-sim breaker")
	}
}
