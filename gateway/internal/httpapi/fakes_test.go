package httpapi_test

// Fake backends: small httptest servers standing in for the order,
// inventory, payment and notify services and the provider simulator, so
// the gateway's own behaviour is tested without them. They follow the
// services' documented internal APIs and verify the signed identity the
// gateway sends, as the real services do.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/web"
)

const testSecret = "test-identity-secret"

type fakeOrder struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Status   string `json:"status"`
	Lines    []any  `json:"lines"`
	Total    any    `json:"total"`
	PlacedAt string `json:"placed_at"`
	Updated  string `json:"updated_at"`
}

// fakes holds every fake backend and what they saw.
type fakes struct {
	order, inventory, payment, notify, sim *httptest.Server

	mu         sync.Mutex
	orders     map[string]fakeOrder
	identities []web.Identity // identities the order fake verified, in order
	headers    []http.Header  // request headers the order fake saw

	placed       atomic.Int64  // POST /orders that reached the order fake
	placeGate    chan struct{} // when set, POST /orders waits for it
	paymentDown  atomic.Bool
	notifyDown   atomic.Bool
	catalogFails atomic.Int64 // answer 503 to this many catalog reads first
	catalogCalls atomic.Int64
	catalogDelay atomic.Int64 // nanoseconds
	notCaughtUp  atomic.Bool
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	f := &fakes{orders: map[string]fakeOrder{}}
	f.order = httptest.NewServer(f.orderMux(t))
	f.inventory = httptest.NewServer(f.inventoryMux())
	f.payment = httptest.NewServer(f.paymentMux())
	f.notify = httptest.NewServer(f.notifyMux())
	f.sim = httptest.NewServer(f.simMux())
	t.Cleanup(func() {
		for _, s := range []*httptest.Server{f.order, f.inventory, f.payment, f.notify, f.sim} {
			s.Close()
		}
	})
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func problem(w http.ResponseWriter, status int, typ string) {
	w.Header().Set("Content-Type", web.ContentTypeProblem)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(web.Problem{Type: web.ProblemTypeBase + typ, Title: http.StatusText(status), Status: status, Detail: typ, Instance: "/internal"})
}

// identity verifies the gateway's signature, as web.RequireIdentity does.
func (f *fakes) identity(w http.ResponseWriter, r *http.Request) (web.Identity, bool) {
	id, err := web.VerifyIdentity([]byte(testSecret), r.Header.Get(web.HeaderIdentity), time.Now())
	if err != nil {
		problem(w, http.StatusUnauthorized, "unauthenticated")
		return id, false
	}
	f.mu.Lock()
	f.identities = append(f.identities, id)
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	return id, true
}

func (f *fakes) orderMux(t *testing.T) http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		id, ok := f.identity(w, r)
		if !ok {
			return
		}
		if f.placeGate != nil {
			<-f.placeGate
		}
		n := f.placed.Add(1)
		o := fakeOrder{ID: fmt.Sprintf("o-%d-%d", n, time.Now().UnixNano()), Customer: id.User, Status: "pending",
			Lines:    []any{map[string]any{"sku": "SKU-1", "quantity": 1, "unit_price": map[string]any{"amount": 500, "currency": "EUR"}}},
			Total:    map[string]any{"amount": 500, "currency": "EUR"},
			PlacedAt: "2026-01-02T03:04:05Z", Updated: "2026-01-02T03:04:05Z"}
		f.mu.Lock()
		f.orders[o.ID] = o
		f.mu.Unlock()
		w.Header().Set("Location", "/orders/"+o.ID)
		writeJSON(w, http.StatusAccepted, map[string]string{"id": o.ID, "status": "pending", "position": fmt.Sprintf("%d.%d", n, n)})
	})
	// Unlike the real service, this fake returns any order to anyone, so
	// the gateway's own ownership check is what the tests see.
	m.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := f.identity(w, r); !ok {
			return
		}
		if f.notCaughtUp.Load() && r.URL.Query().Get("min_position") != "" {
			w.Header().Set("Retry-After", "1")
			problem(w, http.StatusServiceUnavailable, "not-caught-up")
			return
		}
		f.mu.Lock()
		o, ok := f.orders[r.PathValue("id")]
		f.mu.Unlock()
		if !ok {
			problem(w, http.StatusNotFound, "not-found")
			return
		}
		writeJSON(w, http.StatusOK, o)
	})
	// The timeline of a known order is its placement alone; the real service
	// also checks ownership, which the integration tests cover.
	m.HandleFunc("GET /orders/{id}/timeline", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := f.identity(w, r); !ok {
			return
		}
		f.mu.Lock()
		o, ok := f.orders[r.PathValue("id")]
		f.mu.Unlock()
		if !ok {
			problem(w, http.StatusNotFound, "not-found")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"events": []any{map[string]any{
			"position": "1.1", "stream": "order-" + o.ID, "type": "order.placed", "at": o.PlacedAt,
			"correlation_id": o.ID, "causation_id": "", "data": map[string]any{"order_id": o.ID},
		}}})
	})
	m.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		id, ok := f.identity(w, r)
		if !ok {
			return
		}
		items := []fakeOrder{}
		f.mu.Lock()
		for _, o := range f.orders {
			if o.Customer == id.User {
				items = append(items, o)
			}
		}
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nil})
	})
	m.HandleFunc("POST /orders/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		id, ok := f.identity(w, r)
		if !ok {
			return
		}
		f.mu.Lock()
		o, ok := f.orders[r.PathValue("id")]
		f.mu.Unlock()
		if !ok || (o.Customer != id.User && id.Role != web.RoleAdmin) {
			problem(w, http.StatusNotFound, "not-found")
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"position": "9.9"})
	})
	health(m)
	return m
}

func (f *fakes) inventoryMux() http.Handler {
	m := http.NewServeMux()
	products := []map[string]any{{"sku": "SKU-1", "name": "Mug", "price": map[string]any{"amount": 500, "currency": "EUR"}, "available": 10}}
	m.HandleFunc("GET /products", func(w http.ResponseWriter, r *http.Request) {
		f.catalogCalls.Add(1)
		time.Sleep(time.Duration(f.catalogDelay.Load()))
		if f.catalogFails.Add(-1) >= 0 {
			problem(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": products})
	})
	m.HandleFunc("GET /products/{sku}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("sku") != "SKU-1" {
			problem(w, http.StatusNotFound, "not-found")
			return
		}
		writeJSON(w, http.StatusOK, products[0])
	})
	m.HandleFunc("POST /products/{sku}/restock", func(w http.ResponseWriter, r *http.Request) {
		if id, ok := f.identity(w, r); ok && id.Role == web.RoleAdmin {
			writeJSON(w, http.StatusAccepted, map[string]string{"position": "3.3"})
		} else if ok {
			problem(w, http.StatusForbidden, "forbidden")
		}
	})
	health(m)
	return m
}

func (f *fakes) paymentMux() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /payments/{id}", func(w http.ResponseWriter, r *http.Request) {
		if f.paymentDown.Load() {
			problem(w, http.StatusInternalServerError, "internal")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"order_id": r.PathValue("id"), "status": "captured",
			"amount": map[string]any{"amount": 500, "currency": "EUR"}, "provider_ref": "ch_1", "updated_at": "2026-01-02T03:04:06Z"})
	})
	m.HandleFunc("GET /admin/breaker", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"provider": map[string]any{"state": "closed"}})
	})
	health(m)
	return m
}

func (f *fakes) notifyMux() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /orders/{id}/notifications", func(w http.ResponseWriter, r *http.Request) {
		if f.notifyDown.Load() {
			problem(w, http.StatusInternalServerError, "internal")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": []any{map[string]any{"kind": "order_placed", "sent_at": "2026-01-02T03:04:07Z", "status": "sent"}}})
	})
	health(m)
	return m
}

func (f *fakes) simMux() http.Handler {
	m := http.NewServeMux()
	var mu sync.Mutex
	knobs := map[string]any{"decline_rate": 0.0, "error_rate": 0.0, "latency_ms": 0, "lost_response_rate": 0.0}
	m.HandleFunc("GET /v1/faults", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		writeJSON(w, http.StatusOK, knobs)
	})
	m.HandleFunc("PUT /v1/faults", func(w http.ResponseWriter, r *http.Request) {
		var patch map[string]any
		_ = json.NewDecoder(r.Body).Decode(&patch)
		mu.Lock()
		defer mu.Unlock()
		for k, v := range patch {
			knobs[k] = v
		}
		writeJSON(w, http.StatusOK, knobs)
	})
	health(m)
	return m
}

func health(m *http.ServeMux) {
	m.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ready"}) })
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
}
