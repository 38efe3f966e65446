package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/payment"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
	"github.com/ordo-platform/ordo/services/payment/internal/httpapi"
	"github.com/ordo-platform/ordo/services/payment/internal/provider"
	"github.com/ordo-platform/ordo/services/payment/internal/providersim"
	"github.com/ordo-platform/ordo/services/payment/internal/readmodel"
)

var (
	quiet  = slog.New(slog.NewTextHandler(io.Discard, nil))
	secret = []byte("test-secret")
	ctx    = context.Background()
)

type env struct {
	url   string
	store es.Store
	sim   *providersim.Sim
	rdr   readmodel.Reader
}

// newEnv serves the payment API on a free port with a fresh store, Redis
// key space and provider simulator, and its projection running.
func newEnv(t *testing.T, o provider.Options) *env {
	t.Helper()
	store, closeStore, err := platform.OpenStore(ctx, testenv.Database(t), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStore)
	rdb, prefix := testenv.Redis(t)
	sim, err := providersim.New(providersim.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim.Handler(quiet))
	t.Cleanup(func() { sim.Close(); simSrv.Close() })
	o.Backoff = time.Millisecond
	prov, err := provider.New(simSrv.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	reg := es.NewRegistry()
	payment.Register(reg)
	runner, err := readmodel.New(store, rdb, reg, prefix, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done; runner.Close() })
	e := httpapi.New(httpapi.Deps{
		App: app.New(store, reg, prov, quiet), Reader: readmodel.NewReader(rdb, prefix), Waiter: runner,
		Breaker: prov.Breaker, Secret: secret, Log: quiet,
		Checks: []web.Check{{Name: "payment-provider", Run: prov.Ping}},
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, store: store, sim: sim, rdr: readmodel.NewReader(rdb, prefix)}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request as user with role ("" role: no identity header).
func (e *env) do(t *testing.T, method, path, role, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set(web.HeaderIdentity, web.SignIdentity(secret, web.Identity{User: "tester", Role: role}, time.Now()))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, raw: string(b)}
	_ = json.Unmarshal(b, &a.body)
	return a
}

func (e *env) noStream(t *testing.T, orderID string) {
	t.Helper()
	if _, err := e.store.ReadStream(ctx, "payment-"+orderID, es.Forwards, 0, 1); !errors.Is(err, es.ErrStreamNotFound) {
		t.Errorf("payment %s was written: %v", orderID, err)
	}
}

const customer, admin = web.RoleCustomer, web.RoleAdmin

func TestCaptureThenRead(t *testing.T) {
	e := newEnv(t, provider.Options{})
	a := e.do(t, "POST", "/payments/o1/capture", customer, `{"amount":{"amount":1290,"currency":"EUR"}}`)
	if a.status != 202 || a.body["status"] != "captured" || a.body["position"] == "" || a.body["provider_ref"] == "" {
		t.Fatalf("capture: %d %s", a.status, a.raw)
	}
	g := e.do(t, "GET", "/payments/o1?min_position="+a.body["position"].(string), customer, "")
	if g.status != 200 {
		t.Fatalf("get: %d %s", g.status, g.raw)
	}
	want := map[string]any{"order_id": "o1", "status": "captured", "amount": map[string]any{"amount": 1290.0, "currency": "EUR"},
		"provider_ref": a.body["provider_ref"], "cancelled": false}
	if diff := cmp.Diff(want, g.body, cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "updated_at" })); diff != "" {
		t.Errorf("view (-want +got):\n%s", diff)
	}
	again := e.do(t, "POST", "/payments/o1/capture", customer, `{"amount":{"amount":1290,"currency":"EUR"}}`)
	if again.status != 202 || again.body["provider_ref"] != a.body["provider_ref"] || again.body["position"] != a.body["position"] {
		t.Errorf("capture again: %d %s, want the same capture", again.status, again.raw)
	}
	if c := e.do(t, "POST", "/payments/o1/capture", customer, `{"amount":{"amount":1,"currency":"EUR"}}`); c.status != 409 {
		t.Errorf("capture of another amount: %d %s, want 409", c.status, c.raw)
	}
}

func TestCaptureBadInput(t *testing.T) {
	e := newEnv(t, provider.Options{})
	long := strings.Repeat("x", 201)
	for _, tc := range []struct{ name, path, body, detail string }{
		{"malformed", "/payments/o1/capture", `{"amount":`, "malformed JSON"},
		{"unknown field", "/payments/o1/capture", `{"amount":{"amount":1,"currency":"EUR"},"status":"captured"}`, "unknown field"},
		{"no amount", "/payments/o1/capture", `{}`, `"amount" is required`},
		{"empty body", "/payments/o1/capture", ``, "empty"},
		{"zero", "/payments/o1/capture", `{"amount":{"amount":0,"currency":"EUR"}}`, "positive amount"},
		{"negative", "/payments/o1/capture", `{"amount":{"amount":-1,"currency":"EUR"}}`, "positive amount"},
		{"bad currency", "/payments/o1/capture", `{"amount":{"amount":1,"currency":"euro"}}`, "positive amount"},
		{"wrong type", "/payments/o1/capture", `{"amount":{"amount":"1","currency":"EUR"}}`, "must be an integer"},
		{"space in id", "/payments/o%201/capture", `{"amount":{"amount":1,"currency":"EUR"}}`, "white space"},
		{"long id", "/payments/" + long + "/capture", `{"amount":{"amount":1,"currency":"EUR"}}`, "the limit is 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do(t, "POST", tc.path, customer, tc.body)
			if d, _ := a.body["detail"].(string); a.status != 400 || !strings.Contains(d, tc.detail) ||
				a.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%d %s; want 400 problem mentioning %q", a.status, a.raw, tc.detail)
			}
		})
	}
	big := `{"amount":{"amount":1,"currency":"EUR"},"pad":"` + strings.Repeat("x", 70<<10) + `"}`
	if a := e.do(t, "POST", "/payments/o1/capture", customer, big); a.status != 413 {
		t.Errorf("oversized body: %d, want 413", a.status)
	}
	e.noStream(t, "o1")
	if e.sim.Requests() != 0 {
		t.Error("bad input reached the provider")
	}
	if a := e.do(t, "GET", "/payments/o1", customer, ""); a.status != 404 {
		t.Errorf("read after bad input: %d, want 404", a.status)
	}
}

func TestIdentityRequired(t *testing.T) {
	e := newEnv(t, provider.Options{})
	for _, r := range []struct{ method, path string }{
		{"POST", "/payments/o1/capture"}, {"POST", "/payments/o1/refund"}, {"POST", "/payments/o1/reconcile"},
		{"GET", "/payments/o1"}, {"GET", "/admin/breaker"},
	} {
		if a := e.do(t, r.method, r.path, "", `{"amount":{"amount":1,"currency":"EUR"}}`); a.status != 401 {
			t.Errorf("%s %s without identity: %d, want 401", r.method, r.path, a.status)
		}
	}
	e.noStream(t, "o1")
	if a := e.do(t, "GET", "/admin/breaker", customer, ""); a.status != 403 {
		t.Errorf("breaker as a customer: %d, want 403", a.status)
	}
	for _, p := range []string{"/healthz", "/readyz", "/openapi.yaml"} {
		if a := e.do(t, "GET", p, "", ""); a.status != 200 {
			t.Errorf("%s: %d %s", p, a.status, a.raw)
		}
	}
	if a := e.do(t, "GET", "/openapi.yaml", "", ""); !strings.HasPrefix(a.raw, "openapi: 3.1.0") {
		t.Errorf("openapi.yaml starts %.40q", a.raw)
	}
}

func TestRefundAndReconcile(t *testing.T) {
	e := newEnv(t, provider.Options{})
	for _, p := range []string{"/payments/none/refund", "/payments/none/reconcile"} {
		if a := e.do(t, "POST", p, customer, ""); a.status != 404 {
			t.Errorf("%s: %d %s, want 404", p, a.status, a.raw)
		}
	}
	e.do(t, "POST", "/payments/o1/capture", customer, `{"amount":{"amount":500,"currency":"EUR"}}`)
	for _, bad := range []string{`{"reason":"x"}`, `[]`, `{`} {
		if a := e.do(t, "POST", "/payments/o1/refund", customer, bad); a.status != 400 {
			t.Errorf("refund with body %s: %d, want 400", bad, a.status)
		}
	}
	if a := e.do(t, "POST", "/payments/o1/reconcile", customer, "{}"); a.status != 202 || a.body["status"] != "captured" {
		t.Errorf("reconcile of a captured payment: %d %s", a.status, a.raw)
	}
	a := e.do(t, "POST", "/payments/o1/refund", customer, "")
	if a.status != 202 || a.body["status"] != "refunded" || a.body["refund_ref"] == "" {
		t.Fatalf("refund: %d %s", a.status, a.raw)
	}
	g := e.do(t, "GET", "/payments/o1?min_position="+a.body["position"].(string), customer, "")
	if g.status != 200 || g.body["status"] != "refunded" || g.body["refund_ref"] != a.body["refund_ref"] {
		t.Errorf("read after refund: %d %s", g.status, g.raw)
	}
	if again := e.do(t, "POST", "/payments/o1/refund", customer, "{}"); again.status != 202 || again.body["refund_ref"] != a.body["refund_ref"] {
		t.Errorf("refund again: %d %s", again.status, again.raw)
	}
	if n := len(e.sim.Ledger().Refunds); n != 1 {
		t.Errorf("ledger has %d refunds", n)
	}
	_ = e.sim.SetFaults(providersim.Faults{DeclineRate: 1})
	e.do(t, "POST", "/payments/o2/capture", customer, `{"amount":{"amount":500,"currency":"EUR"}}`)
	if a := e.do(t, "POST", "/payments/o2/refund", customer, ""); a.status != 409 {
		t.Errorf("refund of a declined payment: %d %s, want 409", a.status, a.raw)
	}
}

func TestUnknownOutcomeShowsAndReconciles(t *testing.T) {
	e := newEnv(t, provider.Options{Timeout: 100 * time.Millisecond, Attempts: 1})
	_ = e.sim.SetFaults(providersim.Faults{LostResponseRate: 1})
	a := e.do(t, "POST", "/payments/o1/capture", customer, `{"amount":{"amount":500,"currency":"EUR"}}`)
	if a.status != 202 || a.body["status"] != "unknown" {
		t.Fatalf("capture with a lost answer: %d %s", a.status, a.raw)
	}
	g := e.do(t, "GET", "/payments/o1?min_position="+a.body["position"].(string), customer, "")
	if g.body["status"] != "unknown" {
		t.Errorf("read: %s", g.raw)
	}
	if ids, err := e.rdr.NeedsAttention(ctx); err != nil || !cmp.Equal(ids, []string{"o1"}) {
		t.Errorf("needs attention: %v %v, want [o1]", ids, err)
	}
	_ = e.sim.SetFaults(providersim.Faults{})
	r := e.do(t, "POST", "/payments/o1/reconcile", customer, "")
	if r.status != 202 || r.body["status"] != "captured" {
		t.Fatalf("reconcile: %d %s", r.status, r.raw)
	}
	e.do(t, "GET", "/payments/o1?min_position="+r.body["position"].(string), customer, "")
	if ids, _ := e.rdr.NeedsAttention(ctx); len(ids) != 0 {
		t.Errorf("needs attention after reconciling: %v", ids)
	}
}

func TestBreakerEndpointAndProviderDown(t *testing.T) {
	e := newEnv(t, provider.Options{Attempts: 1, BreakerFailures: 2, BreakerOpenFor: 200 * time.Millisecond})
	_ = e.sim.SetFaults(providersim.Faults{ErrorRate: 1})
	e.do(t, "POST", "/payments/o1/capture", customer, `{"amount":{"amount":500,"currency":"EUR"}}`)
	e.do(t, "POST", "/payments/o2/capture", customer, `{"amount":{"amount":500,"currency":"EUR"}}`)
	b := e.do(t, "GET", "/admin/breaker", admin, "")
	if b.status != 200 || b.body["state"] != "open" || b.body["name"] != "payment-provider" {
		t.Fatalf("breaker: %d %s, want open", b.status, b.raw)
	}
	a := e.do(t, "POST", "/payments/o3/capture", customer, `{"amount":{"amount":500,"currency":"EUR"}}`)
	if a.status != 503 || a.header.Get("Retry-After") == "" || !strings.HasSuffix(a.body["type"].(string), "/provider-unavailable") {
		t.Errorf("capture with the breaker open: %d %v %s", a.status, a.header, a.raw)
	}
	_ = e.sim.SetFaults(providersim.Faults{})
	time.Sleep(250 * time.Millisecond)
	if a := e.do(t, "POST", "/payments/o3/capture", customer, `{"amount":{"amount":500,"currency":"EUR"}}`); a.status != 202 {
		t.Errorf("capture after recovery: %d %s", a.status, a.raw)
	}
	if b := e.do(t, "GET", "/admin/breaker", admin, ""); b.body["state"] != "closed" {
		t.Errorf("breaker after recovery: %s", b.raw)
	}
}

func TestReadErrors(t *testing.T) {
	e := newEnv(t, provider.Options{})
	if a := e.do(t, "GET", "/payments/none", customer, ""); a.status != 404 {
		t.Errorf("unknown payment: %d", a.status)
	}
	if a := e.do(t, "GET", "/payments/o1?min_position=soon", customer, ""); a.status != 400 {
		t.Errorf("bad min_position: %d", a.status)
	}
	if a := e.do(t, "GET", "/payments/o1?min_position=999999999.0", customer, ""); a.status != 503 ||
		!strings.HasSuffix(a.body["type"].(string), "/not-caught-up") {
		t.Errorf("min_position in the future: %d %s, want 503 not-caught-up", a.status, a.raw)
	}
}

// TestReadyzNeedsTheProvider: readiness fails when the provider is gone.
func TestReadyzNeedsTheProvider(t *testing.T) {
	prov, err := provider.New("http://127.0.0.1:1", provider.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := httpapi.New(httpapi.Deps{Breaker: prov.Breaker, Secret: secret, Log: quiet,
		Checks: []web.Check{{Name: "payment-provider", Run: prov.Ping}}})
	srv := httptest.NewServer(e)
	defer srv.Close()
	res, err := get(t, srv.URL+"/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 503 || !strings.Contains(string(b), "payment-provider") {
		t.Errorf("readyz: %d %s", res.StatusCode, b)
	}
}

// get is http.Get with a context.
func get(t *testing.T, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}
