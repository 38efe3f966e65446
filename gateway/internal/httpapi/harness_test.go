package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/gateway/internal/auth"
	"github.com/ordo-platform/ordo/gateway/internal/httpapi"
	"github.com/ordo-platform/ordo/gateway/internal/idempotency"
	"github.com/ordo-platform/ordo/gateway/internal/ratelimit"
	"github.com/ordo-platform/ordo/gateway/internal/upstream"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/pkg/web"
)

const testJWTKey = "test-jwt-key-0123456789abcdef0123456789"

// options tweak a test gateway.
type options struct {
	userLimit, addrLimit ratelimit.Policy
	rdb                  redis.UniversalClient // nil: testenv's Redis
	prefix               string                // with rdb: the shared prefix
	openFor              time.Duration
	readTimeout          time.Duration
	redisTimeout         time.Duration
}

func defaults() options {
	return options{
		userLimit: ratelimit.Policy{Name: "user", Rate: 1000, Burst: 1000},
		addrLimit: ratelimit.Policy{Name: "addr", Rate: 1000, Burst: 1000},
		openFor:   200 * time.Millisecond, readTimeout: 2 * time.Second,
		// Generous: 100 concurrent requests under -race on two cores.
		redisTimeout: 2 * time.Second,
	}
}

// gw is a gateway under test with its fake backends.
type gw struct {
	t      *testing.T
	srv    *httptest.Server
	fakes  *fakes
	tokens *auth.Tokens
	rdb    redis.UniversalClient
	prefix string
}

func newGateway(t *testing.T, o options, f *fakes) *gw {
	t.Helper()
	if f == nil {
		f = newFakes(t)
	}
	rdb, prefix := o.rdb, o.prefix
	if rdb == nil {
		c, p := testenv.Redis(t)
		rdb, prefix = c, p
	}
	users, err := auth.ParseUsers(auth.DemoUsers)
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens([]byte(testJWTKey), time.Hour)
	client := func(name, url string) *upstream.Client {
		c, err := upstream.New(upstream.Options{Name: name, BaseURL: url, Secret: []byte(testSecret),
			Timeout: o.readTimeout, Retries: 1, Breaker: upstream.BreakerOptions{Failures: 5, OpenFor: o.openFor}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := httpapi.Config{
		Log: log, Users: users, Tokens: tokens, Redis: rdb,
		Limiter:   ratelimit.New(rdb, prefix+"rl:"),
		UserLimit: o.userLimit, AddrLimit: o.addrLimit,
		Idempotency: idempotency.NewStore(rdb, prefix+"idem:", 10*time.Second, 24*time.Hour),
		Backends: httpapi.Backends{Order: client("order", f.order.URL), Inventory: client("inventory", f.inventory.URL),
			Payment: client("payment", f.payment.URL), Notify: client("notify", f.notify.URL), Simulator: client("provider-sim", f.sim.URL)},
		Timeouts: httpapi.Timeouts{Read: o.readTimeout, Write: 5 * time.Second, OrderView: o.readTimeout,
			Admin: time.Second, Redis: o.redisTimeout},
		Cache:     httpapi.NewCache(rdb, prefix+"cache:", time.Hour, o.redisTimeout),
		BodyLimit: "4K", HeaderLimit: 8 << 10,
	}
	srv := httptest.NewServer(httpapi.New(cfg))
	t.Cleanup(srv.Close)
	return &gw{t: t, srv: srv, fakes: f, tokens: tokens, rdb: rdb, prefix: prefix}
}

// req is one call to the gateway.
type req struct {
	method, path, token string
	body                any // string is sent as is
	header              map[string]string
	// badRequest: the request deliberately breaks the contract; the test
	// asserts that the OpenAPI description rejects it too.
	badRequest bool
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

func (g *gw) do(t *testing.T, r req) resp {
	t.Helper()
	var body []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	default:
		body, _ = json.Marshal(b)
	}
	build := func() *http.Request {
		hr, err := http.NewRequestWithContext(t.Context(), r.method, g.srv.URL+r.path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			hr.Header.Set("Content-Type", "application/json")
		}
		if r.token != "" {
			hr.Header.Set("Authorization", "Bearer "+r.token)
		}
		for k, v := range r.header {
			hr.Header.Set(k, v)
		}
		return hr
	}
	in := validateRequest(t, build(), r.badRequest)
	hres, err := http.DefaultClient.Do(build())
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer func() { _ = hres.Body.Close() }()
	rb, err := io.ReadAll(hres.Body)
	if err != nil {
		t.Fatal(err)
	}
	validateResponse(t, in, hres, rb)
	return resp{status: hres.StatusCode, header: hres.Header, body: rb}
}

var contract = loadContract()

type spec struct {
	router routers.Router
	err    error
}

func loadContract() spec {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(httpapi.OpenAPI)
	if err != nil {
		return spec{err: err}
	}
	doc.Servers = nil // match paths on any test server address
	r, err := legacy.NewRouter(doc)
	return spec{router: r, err: err}
}

func validateRequest(t *testing.T, hr *http.Request, expectInvalid bool) *openapi3filter.RequestValidationInput {
	t.Helper()
	if contract.err != nil {
		t.Fatalf("openapi.yaml: %v", contract.err)
	}
	route, params, err := contract.router.FindRoute(hr)
	if err != nil {
		if expectInvalid {
			return nil
		}
		t.Fatalf("%s %s is not in openapi.yaml: %v", hr.Method, hr.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case expectInvalid && err == nil:
		t.Fatalf("%s %s: the test sends a bad request, but openapi.yaml accepts it", hr.Method, hr.URL.Path)
	case !expectInvalid && err != nil:
		t.Fatalf("%s %s: request breaks openapi.yaml: %v", hr.Method, hr.URL.Path, err)
	}
	return in
}

func validateResponse(t *testing.T, in *openapi3filter.RequestValidationInput, hres *http.Response, body []byte) {
	t.Helper()
	if in == nil {
		return
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: hres.StatusCode, Header: hres.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Fatalf("%s %s answered %d, which breaks openapi.yaml: %v\n%s", in.Request.Method, in.Request.URL.Path, hres.StatusCode, err, body)
	}
}

// login returns a token for a demo user, issued directly: bcrypt under
// -race costs seconds per login, and TestLogin covers the real endpoint.
func (g *gw) login(t *testing.T, user string) string {
	t.Helper()
	role := web.RoleCustomer
	if user == "admin" {
		role = web.RoleAdmin
	}
	tok, err := g.tokens.Issue(auth.User{Name: user, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// place places an order for token with a fresh key.
func (g *gw) place(t *testing.T, token, key string) resp {
	t.Helper()
	return g.do(t, req{method: "POST", path: "/api/v1/orders", token: token,
		header: map[string]string{"Idempotency-Key": key},
		body:   map[string]any{"lines": []any{map[string]any{"sku": "SKU-1", "quantity": 1}}}})
}

func wantStatus(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}
