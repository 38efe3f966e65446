package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
	"github.com/sony/gobreaker/v2"
	"gopkg.in/yaml.v3"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/pkg/web"

	"github.com/ordo-platform/ordo/services/notify"
	"github.com/ordo-platform/ordo/services/notify/internal/httpapi"
	"github.com/ordo-platform/ordo/services/notify/internal/readmodel"
	"github.com/ordo-platform/ordo/services/order"
)

var secret = []byte("test-identity-secret")

// fakeBreaker is a fixed httpapi.Breaker.
type fakeBreaker struct{ state gobreaker.State }

func (f fakeBreaker) Breaker() (string, gobreaker.State, gobreaker.Counts) {
	return "smtp", f.state, gobreaker.Counts{Requests: 4, TotalFailures: 3, ConsecutiveFailures: 3, TotalSuccesses: 1}
}

type env struct {
	store *postgres.Store
	e     *echo.Echo
	last  es.Position
}

// newEnv runs the feed projection over a fresh store in which alice's order
// a1 was confirmed (sent) and cancelled (requested, not yet sent), bob's
// order b1 is placed with no notification yet.
func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := postgres.Open(context.Background(), testenv.Database(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	rdb, prefix := testenv.Redis(t)
	runner, err := projection.New(store, rdb, readmodel.Projection(), projection.Options{Prefix: prefix})
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
	v := &env{store: store}
	v.emit(t, "order-a1", order.TypePlaced, order.Placed{OrderID: "a1", CustomerID: "alice"})
	v.emit(t, "order-b1", order.TypePlaced, order.Placed{OrderID: "b1", CustomerID: "bob"})
	conf, canc := notify.ID("a1", notify.KindOrderConfirmed), notify.ID("a1", notify.KindOrderCancelled)
	v.emit(t, "notification-"+conf, notify.TypeRequested, notify.Requested{OrderID: "a1", Kind: notify.KindOrderConfirmed, CustomerID: "alice", To: "alice@x.test"})
	v.emit(t, "notification-"+conf, notify.TypeSent, notify.Sent{OrderID: "a1", Kind: notify.KindOrderConfirmed, MessageID: "m1@x.test"})
	v.emit(t, "notification-"+canc, notify.TypeRequested, notify.Requested{OrderID: "a1", Kind: notify.KindOrderCancelled, CustomerID: "alice", To: "alice@x.test"})
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if err := runner.WaitFor(wctx, v.last); err != nil {
		t.Fatal(err)
	}
	v.e = httpapi.New(httpapi.Deps{
		Feed: readmodel.NewFeed(rdb, prefix), Waiter: runner, Breaker: fakeBreaker{gobreaker.StateOpen}, Secret: secret,
		Options: web.Options{Log: slog.New(slog.DiscardHandler)},
	})
	return v
}

func (v *env) emit(t *testing.T, stream, typ string, body any) {
	t.Helper()
	data, _ := json.Marshal(body)
	res, err := v.store.Append(context.Background(), stream, es.Any, es.EventData{Type: typ, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	v.last = res.Position
}

type response struct {
	status int
	header http.Header
	body   []byte
}

const nobody = ""

func sign(user, role string) string {
	return web.SignIdentity(secret, web.Identity{User: user, Role: role}, time.Now())
}

func get(t *testing.T, e *echo.Echo, identity, target string) response {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
	if identity != "" {
		req.Header.Set(web.HeaderIdentity, identity)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return response{status: rec.Code, header: rec.Header(), body: body}
}

type item struct {
	OrderID string  `json:"order_id"`
	Kind    string  `json:"kind"`
	SentAt  *string `json:"sent_at"`
	Status  string  `json:"status"`
}

func items(t *testing.T, r response) []item {
	t.Helper()
	var f struct{ Items []item }
	if err := json.Unmarshal(r.body, &f); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	for i := range f.Items {
		if f.Items[i].SentAt != nil {
			if _, err := time.Parse(time.RFC3339, *f.Items[i].SentAt); err != nil {
				t.Errorf("sent_at %q: %v", *f.Items[i].SentAt, err)
			}
			f.Items[i].SentAt = &[]string{"set"}[0]
		}
	}
	return f.Items
}

func TestCustomerFeed(t *testing.T) {
	v := newEnv(t)
	set := "set"
	want := []item{
		{OrderID: "a1", Kind: "order_confirmed", SentAt: &set, Status: "sent"},
		{OrderID: "a1", Kind: "order_cancelled", Status: "requested"},
	}
	for _, who := range []string{sign("alice", web.RoleCustomer), sign("root", web.RoleAdmin)} {
		r := get(t, v.e, who, "/customers/alice/notifications?min_position="+v.last.String())
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if diff := cmp.Diff(want, items(t, r)); diff != "" {
			t.Errorf("alice's feed (-want +got):\n%s", diff)
		}
	}
	if r := get(t, v.e, sign("bob", web.RoleCustomer), "/customers/bob/notifications"); r.status != http.StatusOK || string(r.body) != "{\"items\":[]}\n" {
		t.Errorf("bob's empty feed: %d %s", r.status, r.body)
	}
}

func TestOrderFeed(t *testing.T) {
	v := newEnv(t)
	set := "set"
	r := get(t, v.e, sign("alice", web.RoleCustomer), "/orders/a1/notifications")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if diff := cmp.Diff([]item{{Kind: "order_confirmed", SentAt: &set, Status: "sent"}, {Kind: "order_cancelled", Status: "requested"}}, items(t, r)); diff != "" {
		t.Errorf("a1's feed (-want +got):\n%s", diff)
	}
	if strings.Contains(string(r.body), "order_id") {
		t.Errorf("order feed repeats the order id: %s", r.body)
	}
	if r := get(t, v.e, sign("bob", web.RoleCustomer), "/orders/b1/notifications"); r.status != http.StatusOK || string(r.body) != "{\"items\":[]}\n" {
		t.Errorf("b1 (placed, nothing sent): %d %s", r.status, r.body)
	}
	if r := get(t, v.e, sign("root", web.RoleAdmin), "/orders/b1/notifications"); r.status != http.StatusOK {
		t.Errorf("admin reads b1: %d %s", r.status, r.body)
	}
}

// TestErrors: every bad request is a precise problem+json.
func TestErrors(t *testing.T) {
	v := newEnv(t)
	alice := sign("alice", web.RoleCustomer)
	long := strings.Repeat("x", 201)
	cases := []struct {
		name, identity, target string
		status                 int
		problem                string
	}{
		{"no identity", nobody, "/customers/alice/notifications", 401, "unauthenticated"},
		{"forged identity", "alice;admin;1;deadbeef", "/orders/a1/notifications", 401, "unauthenticated"},
		{"another customer's feed", alice, "/customers/bob/notifications", 403, "forbidden"},
		{"unknown order", alice, "/orders/nope/notifications", 404, "unknown-order"},
		{"another customer's order", alice, "/orders/b1/notifications", 404, "unknown-order"},
		{"order id with a space", alice, "/orders/a%201/notifications", 400, "invalid"},
		{"order id too long", alice, "/orders/" + long + "/notifications", 400, "invalid"},
		{"customer id with a newline", sign("root", web.RoleAdmin), "/customers/a%0Ab/notifications", 400, "invalid"},
		{"malformed min_position", alice, "/orders/a1/notifications?min_position=abc", 400, "invalid"},
		{"min_position not reached", alice, "/customers/alice/notifications?min_position=999999999999.1", 503, "not-caught-up"},
		{"breaker for a customer", alice, "/admin/breaker", 403, "forbidden"},
		{"breaker without identity", nobody, "/admin/breaker", 401, "unauthenticated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := get(t, v.e, c.identity, c.target)
			if r.status != c.status || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("%d %q %s; want %d problem+json", r.status, r.header.Get("Content-Type"), r.body, c.status)
			}
			var p struct{ Type string }
			if err := json.Unmarshal(r.body, &p); err != nil || !strings.HasSuffix(p.Type, "/"+c.problem) {
				t.Errorf("problem type %q (%v), want .../%s", p.Type, err, c.problem)
			}
		})
	}
}

func TestBreaker(t *testing.T) {
	v := newEnv(t)
	r := get(t, v.e, sign("root", web.RoleAdmin), "/admin/breaker")
	want := `{"name":"smtp","state":"open","counts":{"requests":4,"total_successes":1,"total_failures":3,"consecutive_successes":0,"consecutive_failures":3}}` + "\n"
	if r.status != http.StatusOK || string(r.body) != want {
		t.Errorf("%d %s", r.status, r.body)
	}
}

// TestOpenAPIDescribesEveryRoute checks that /openapi.yaml is OpenAPI 3.1
// and documents every route the server has.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	v := newEnv(t)
	r := get(t, v.e, nobody, "/openapi.yaml")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("%d %q", r.status, r.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                                   `yaml:"openapi"`
		Paths   map[string]map[string]struct{ Responses map[string]any } `yaml:"paths"`
	}
	if err := yaml.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	for _, rt := range v.e.Routes() {
		if strings.HasPrefix(rt.Method, "echo_") || rt.Path == "" {
			continue
		}
		path := param.ReplaceAllString(rt.Path, "{$1}")
		op, ok := doc.Paths[path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s %s is not documented", rt.Method, path)
			continue
		}
		if strings.Contains(path, "notifications") {
			for _, status := range []string{"200", "400", "401", "503"} {
				if _, ok := op.Responses[status]; !ok {
					t.Errorf("%s %s documents no %s", rt.Method, path, status)
				}
			}
		}
	}
}
