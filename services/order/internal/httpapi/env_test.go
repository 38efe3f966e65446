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
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/es/estest"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/app"
	"github.com/ordo-platform/ordo/services/order/internal/httpapi"
	"github.com/ordo-platform/ordo/services/order/internal/readmodel"
)

var secret = []byte("test-identity-secret")

// Callers.
var (
	alice  = web.Identity{User: "alice", Role: web.RoleCustomer}
	bob    = web.Identity{User: "bob", Role: web.RoleCustomer}
	admin  = web.Identity{User: "root", Role: web.RoleAdmin}
	nobody = web.Identity{}
)

// catalog is what every test seeds, as inventory product.added events.
var catalog = map[string]money.Money{
	"COF-ETH-250":   money.Euros(1290),
	"MUG-STONE-350": money.Euros(1490),
	"KTL-GOOSE-1L":  money.Euros(4990),
}

// env is the order service wired as main wires it, on a fresh database and
// Redis prefix, with both projections running.
type env struct {
	t      *testing.T
	store  *postgres.Store
	reg    *es.Registry
	rdb    *redis.Client
	prefix string
	app    *app.Service
	prices *projection.Runner
	orders *projection.Runner
	e      *echo.Echo
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	store, err := postgres.Open(ctx, testenv.Database(t), postgres.Options{PollInterval: 20 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	rdb, prefix := testenv.Redis(t)
	reg := es.NewRegistry()
	order.Register(reg)
	inventory.Register(reg)
	opts := projection.Options{Prefix: prefix, Log: log}
	prices := startProjection(t, store, rdb, readmodel.Prices(reg), opts)
	orders := startProjection(t, store, rdb, readmodel.Orders(reg), opts)
	svc := app.New(store, reg, readmodel.NewCatalog(rdb, prefix, store, prices, 2*time.Second))
	e := httpapi.New(httpapi.Config{
		App: svc, Orders: readmodel.NewOrderReader(rdb, prefix), Waiter: orders,
		IdentitySecret: secret, Log: log,
	})
	en := &env{t: t, store: store, reg: reg, rdb: rdb, prefix: prefix, app: svc, prices: prices, orders: orders, e: e}
	for sku, price := range catalog {
		en.appendProduct(inventory.ProductAdded{SKU: sku, Name: "the " + sku, Price: price})
	}
	return en
}

// caughtUp waits until r has applied everything up to pos. Appended events
// become readable only once every older transaction in the PostgreSQL
// cluster has ended, so tests wait instead of assuming.
func (en *env) caughtUp(r *projection.Runner, pos es.Position) {
	en.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, pos); err != nil {
		en.t.Fatal(err)
	}
}

func startProjection(t *testing.T, store es.Store, rdb *redis.Client, p projection.Projection, opts projection.Options) *projection.Runner {
	t.Helper()
	r, err := projection.New(store, rdb, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("projection %s: %v", p.Name, err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait(); r.Close() })
	return r
}

// appendProduct writes an inventory product event as the inventory service
// would, and waits until the price catalog has it.
func (en *env) appendProduct(ev any) {
	en.t.Helper()
	var sku string
	switch e := ev.(type) {
	case inventory.ProductAdded:
		sku = e.SKU
	case inventory.ProductPriceChanged:
		sku = e.SKU
	}
	data, err := en.reg.Encode(es.NewUUID(), ev, es.Metadata{Actor: "inventory", SchemaVersion: 1})
	if err != nil {
		en.t.Fatal(err)
	}
	res, err := en.store.Append(context.Background(), es.StreamID(inventory.ProductCategory, sku), es.Any, data)
	if err != nil {
		en.t.Fatal(err)
	}
	en.caughtUp(en.prices, res.Position)
}

// response is a recorded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// problem decodes a problem+json answer, failing the test on anything else.
func (r response) problem(t *testing.T) web.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != web.ContentTypeProblem {
		t.Fatalf("Content-Type %q, want problem+json; body %s", ct, r.body)
	}
	var p web.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %s: %v", r.body, err)
	}
	return p
}

// decode decodes a JSON answer into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
}

// do sends a request as who (nobody: no identity header).
func (en *env) do(method, path string, who web.Identity, body string) response {
	en.t.Helper()
	return en.doHeaders(method, path, who, body, nil)
}

func (en *env) doHeaders(method, path string, who web.Identity, body string, headers map[string]string) response {
	en.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(en.t.Context(), method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != nobody {
		req.Header.Set(web.HeaderIdentity, web.SignIdentity(secret, who, time.Now()))
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	en.e.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

type placed struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Position string `json:"position"`
}

// place places an order that must be accepted.
func (en *env) place(who web.Identity, body string) placed {
	en.t.Helper()
	res := en.do("POST", "/orders", who, body)
	if res.status != http.StatusAccepted {
		en.t.Fatalf("POST /orders %s: status %d, body %s", body, res.status, res.body)
	}
	var p placed
	res.decode(en.t, &p)
	return p
}

// view reads an order that must be visible, waiting for min.
func (en *env) view(who web.Identity, id, min string) readmodel.OrderView {
	en.t.Helper()
	res := en.read("/orders/"+id+"?min_position="+min, who)
	if res.status != http.StatusOK {
		en.t.Fatalf("GET /orders/%s: status %d, body %s", id, res.status, res.body)
	}
	var v readmodel.OrderView
	res.decode(en.t, &v)
	return v
}

// orderEvents returns every order event in the store.
func (en *env) orderEvents() []es.Event {
	en.t.Helper()
	return estest.ReadAll(en.t, en.store, es.Start, es.Filter{Categories: []string{order.Category}})
}

// head is the store's last position.
func (en *env) head() es.Position {
	en.t.Helper()
	h, err := en.store.Head(context.Background())
	if err != nil {
		en.t.Fatal(err)
	}
	return h
}

// read sends a GET and, like a well-behaved client, retries while the
// answer is 503 not-caught-up: another transaction anywhere in the
// PostgreSQL cluster can hold events back for longer than one read waits.
func (en *env) read(path string, who web.Identity) response {
	en.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res := en.do("GET", path, who, "")
		if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" || time.Now().After(deadline) {
			return res
		}
		time.Sleep(100 * time.Millisecond)
	}
}
