package load

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testGateway serves the part of the gateway API the generator uses, over
// real HTTP, with a known delay on every read and orders that are
// confirmed a known time after they were placed.
type testGateway struct {
	URL          string
	readDelay    time.Duration // every GET of the catalog, a product or the orders waits this long
	confirmAfter time.Duration

	mu       sync.Mutex
	orders   map[string]*testOrder
	byUser   map[string][]string // newest last
	keys     map[string]string   // idempotency key → order id
	restocks int
	seq      int
}

type testOrder struct {
	ID, Customer string
	Placed       time.Time
}

func newTestGateway(t *testing.T, readDelay, confirmAfter time.Duration) *testGateway {
	t.Helper()
	g := &testGateway{readDelay: readDelay, confirmAfter: confirmAfter, orders: map[string]*testOrder{},
		byUser: map[string][]string{}, keys: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/login", g.login)
	mux.HandleFunc("GET /api/v1/products", g.slow(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"items": []map[string]string{{"sku": "A"}, {"sku": "B"}, {"sku": "C"}}})
	}))
	mux.HandleFunc("GET /api/v1/products/{sku}", g.slow(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"sku": r.PathValue("sku")})
	}))
	mux.HandleFunc("POST /api/v1/admin/products/{sku}/restock", func(w http.ResponseWriter, _ *http.Request) {
		g.mu.Lock()
		g.restocks++
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET /api/v1/admin/status", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"services":{},"projections":{"order":{"orders":{"events":3,"checkpoint":"1.1"}}},"sagas":{"running":2}}`))
	})
	mux.HandleFunc("POST /api/v1/orders", g.place)
	mux.HandleFunc("GET /api/v1/orders/{id}", g.slow(g.order))
	mux.HandleFunc("GET /api/v1/orders", g.slow(g.list))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *testGateway) slow(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(g.readDelay)
		h(w, r)
	}
}

func (g *testGateway) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Username, Password string }
	if json.NewDecoder(r.Body).Decode(&in) != nil || in.Password != "demo" {
		writeJSON(w, 401, map[string]string{"type": "https://ordo.dev/problems/unauthenticated"})
		return
	}
	writeJSON(w, 200, map[string]any{"access_token": "tok-" + in.Username, "token_type": "Bearer", "expires_in": 3600})
}

func user(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer tok-")
}

func (g *testGateway) place(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		writeJSON(w, 400, map[string]string{"type": "about:blank"})
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	id, ok := g.keys[key]
	if !ok {
		g.seq++
		id = fmt.Sprintf("00000000-0000-0000-0000-%012d", g.seq)
		g.keys[key] = id
		g.orders[id] = &testOrder{ID: id, Customer: user(r), Placed: time.Now()}
		g.byUser[user(r)] = append(g.byUser[user(r)], id)
	}
	writeJSON(w, 202, map[string]string{"id": id, "status": "pending", "position": "5.5"})
}

// view is the order as the list and the order view show it.
func (g *testGateway) view(o *testOrder) map[string]any {
	status, updated := "pending", o.Placed
	if done := o.Placed.Add(g.confirmAfter); !time.Now().Before(done) {
		status, updated = "confirmed", done
	}
	return map[string]any{"id": o.ID, "status": status, "placed_at": o.Placed, "updated_at": updated}
}

func (g *testGateway) order(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	o := g.orders[r.PathValue("id")]
	if o == nil || o.Customer != user(r) {
		writeJSON(w, 404, map[string]string{"type": "https://ordo.dev/problems/not-found"})
		return
	}
	writeJSON(w, 200, g.view(o))
}

// list pages the caller's orders newest first; the cursor is an offset.
func (g *testGateway) list(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	from, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := g.byUser[user(r)]
	items := []map[string]any{}
	var next *string
	for i := len(ids) - 1 - from; i >= 0; i-- {
		if len(items) == limit {
			c := strconv.Itoa(from + limit)
			next = &c
			break
		}
		items = append(items, g.view(g.orders[ids[i]]))
	}
	writeJSON(w, 200, map[string]any{"items": items, "next_cursor": next})
}
