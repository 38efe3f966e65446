package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/pkg/web"

	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/inventory/internal/app"
	"github.com/ordo-platform/ordo/services/inventory/internal/httpapi"
	"github.com/ordo-platform/ordo/services/inventory/internal/readmodel"
)

var secret = []byte("test-identity-secret")

// testCatalog is small, with one SKU of exactly ten units for the race.
var testCatalog = []inventory.CatalogEntry{
	{SKU: "BAG-CANVAS", Name: "Canvas tote bag", Price: money.Euros(1890), InitialStock: 50},
	{SKU: "GRD-BURR-01", Name: "Manual burr grinder", Price: money.Euros(6900), InitialStock: 10},
	{SKU: "MUG-STONE-350", Name: "Stoneware mug, 350 ml", Price: money.Euros(1490), InitialStock: 60},
}

// env is one inventory service on a fresh database and Redis prefix, with
// its projection running.
type env struct {
	store  *postgres.Store
	rdb    *redis.Client
	prefix string
	runner *projection.Runner
	e      *echo.Echo
}

func newEnv(t *testing.T) *env {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	store, err := postgres.Open(context.Background(), testenv.Database(t), postgres.Options{Log: log, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	rdb, prefix := testenv.Redis(t)
	runner, err := projection.New(store, rdb, readmodel.Projection(), projection.Options{Prefix: prefix, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("projection: %v", err)
		}
	})
	v := &env{store: store, rdb: rdb, prefix: prefix, runner: runner}
	v.e = v.instance(t)
	pos, err := app.New(store, app.Options{}).Seed(context.Background(), testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	v.wait(t, pos)
	return v
}

// instance returns another replica's HTTP handler on the same store and
// Redis, with an app.Service (and so in-process SKU locks) of its own.
func (v *env) instance(t *testing.T) *echo.Echo {
	t.Helper()
	return httpapi.New(httpapi.Config{
		App:            app.New(v.store, app.Options{}),
		Catalog:        readmodel.NewCatalog(v.rdb, v.prefix),
		Waiter:         v.runner,
		IdentitySecret: secret,
		Log:            slog.New(slog.DiscardHandler),
	})
}

// wait waits for the projection to reach pos. The bound is generous: the
// store shows an event only once every older transaction on the whole
// server has ended, and other tests share the server.
func (v *env) wait(t *testing.T, pos es.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := v.runner.WaitFor(ctx, pos); err != nil {
		t.Fatal(err)
	}
}

// eventCount counts every stored event: unchanged means nothing was
// written. (Head would not do: it stops below the oldest transaction
// running anywhere on the server, so it may lag behind our own writes.)
func (v *env) eventCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := v.store.Pool().QueryRow(context.Background(), "SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// lastPosition is the position of a stream's last event.
func (v *env) lastPosition(t *testing.T, stream string) es.Position {
	t.Helper()
	events, err := v.store.ReadStream(context.Background(), stream, es.Backwards, es.End, 1)
	if err != nil {
		t.Fatal(err)
	}
	return events[0].Position
}

// stockEvents reads a SKU's stock stream.
func (v *env) stockEvents(t *testing.T, sku string) []es.Event {
	t.Helper()
	events, err := v.store.ReadStream(context.Background(), "stock-"+sku, es.Forwards, 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// caller is who a request claims to be; the zero caller sends no identity.
type caller struct{ user, role string }

var (
	nobody   = caller{}
	admin    = caller{"admin", web.RoleAdmin}
	customer = caller{"alice", web.RoleCustomer}
	saga     = caller{"order-saga", "service"}
)

type response struct {
	status int
	header http.Header
	body   []byte
}

// problem decodes a problem+json body, failing the test for any other.
func (r response) problem(t *testing.T) web.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != web.ContentTypeProblem {
		t.Fatalf("Content-Type %q, want %s; body %s", ct, web.ContentTypeProblem, r.body)
	}
	var p web.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
}

// do sends a request to e; body "" sends none.
func do(t *testing.T, e *echo.Echo, who caller, method, path, body string) response {
	t.Helper()
	return send(e, request(t, who, method, path, body))
}

// request builds a request as the gateway would forward it for who.
func request(t *testing.T, who caller, method, path, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != nobody {
		req.Header.Set(web.HeaderIdentity, web.SignIdentity(secret, web.Identity{User: who.user, Role: who.role}, time.Now()))
	}
	return req
}

func send(e *echo.Echo, req *http.Request) response {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}
