package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/order/internal/httpapi"
	"github.com/ordo-platform/ordo/services/order/internal/saga"
)

// fakeSaga serves one order of alice's.
type fakeSaga struct{}

const sagaOrder = "0b7e3f0e-6c1a-4d7e-9a51-3a2f7f1b2c3d"

func (fakeSaga) Progress(_ context.Context, id string) (saga.Progress, error) {
	if id != sagaOrder {
		return saga.Progress{}, saga.ErrNoSaga
	}
	return saga.Progress{OrderID: id, CustomerID: "alice", Status: "confirmed",
		Steps: []saga.Entry{{Position: "1.1", Stream: "fulfilment-" + id, Type: "fulfilment.started", Data: json.RawMessage(`{}`)}}}, nil
}

func (fakeSaga) Timeline(_ context.Context, id string) ([]saga.Entry, error) {
	return []saga.Entry{{Position: "1.0", Stream: "order-" + id, Type: "order.placed", CorrelationID: id, Data: json.RawMessage(`{}`)}}, nil
}

func (fakeSaga) Stats(context.Context) (saga.Stats, error) {
	return saga.Stats{Started: 1, Completed: 1, Outcomes: map[string]int{"confirmed": 1}, DurationMS: map[string]int64{"p50": 10}}, nil
}

func TestSagaRoutes(t *testing.T) {
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Saga: fakeSaga{}, IdentitySecret: secret}))
	t.Cleanup(srv.Close)
	alice := web.Identity{User: "alice", Role: "customer"}
	bob := web.Identity{User: "bob", Role: "customer"}
	admin := web.Identity{User: "root", Role: web.RoleAdmin}
	cases := []struct {
		path string
		who  *web.Identity
		want int
		key  string
	}{
		{"/orders/" + sagaOrder + "/saga", &alice, 200, "steps"},
		{"/orders/" + sagaOrder + "/saga", &admin, 200, "steps"},
		{"/orders/" + sagaOrder + "/saga", &bob, 404, ""},
		{"/orders/" + sagaOrder + "/saga", nil, 401, ""},
		{"/orders/nope/saga", &alice, 404, ""},
		{"/orders/" + sagaOrder + "/timeline", &alice, 200, "events"},
		{"/orders/" + sagaOrder + "/timeline", &bob, 404, ""},
		{"/admin/saga/stats", &admin, 200, "outcomes"},
		{"/admin/saga/stats", &alice, 403, ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+c.path, nil)
		if c.who != nil {
			req.Header.Set(web.HeaderIdentity, web.SignIdentity(secret, *c.who, time.Now()))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET %s as %v: %d, want %d (%v)", c.path, c.who, resp.StatusCode, c.want, body)
			continue
		}
		if _, ok := body[c.key]; c.key != "" && !ok {
			t.Errorf("GET %s: body %v lacks %q", c.path, body, c.key)
		}
	}
}
