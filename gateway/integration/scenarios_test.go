package integration

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/money"
)

func (e *env) testLogin(t *testing.T) {
	// The three tokens in env came from the real endpoint; a wrong
	// password must not.
	r := e.api.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "alice", "password": "wrong"}})
	wantStatus(t, r, http.StatusUnauthorized)
	r = e.api.do(t, req{method: "GET", path: "/api/v1/orders", token: e.alice})
	wantStatus(t, r, http.StatusOK)
}

func (e *env) testCatalog(t *testing.T) {
	r := e.api.do(t, req{method: "GET", path: "/api/v1/products"})
	wantStatus(t, r, http.StatusOK)
	var list struct {
		Items []product `json:"items"`
	}
	r.into(t, &list)
	if len(list.Items) < 8 {
		t.Errorf("catalog has %d products, API.md promises at least 8", len(list.Items))
	}
	for _, p := range list.Items {
		if p.SKU == "" || p.Name == "" || p.Price.Amount <= 0 || p.Price.Currency == "" {
			t.Errorf("incomplete product %+v", p)
		}
	}
	one := e.product(t, list.Items[0].SKU, "")
	if diff := cmp.Diff(list.Items[0], one); diff != "" {
		t.Errorf("GET /products/{sku} differs from the list (-list +one):\n%s", diff)
	}
	r = e.api.do(t, req{method: "GET", path: "/api/v1/products/NO-SUCH-SKU"})
	wantStatus(t, r, http.StatusNotFound)
}

func (e *env) testPlaceAndRead(t *testing.T) {
	price := e.product(t, e.orderSKU, "").Price
	p := e.place(t, e.alice, e.orderSKU, 2)
	v, r := e.view(t, e.alice, p.ID, p.Position)
	wantStatus(t, r, http.StatusOK)
	want := []line{{SKU: e.orderSKU, Quantity: 2, UnitPrice: price}}
	if diff := cmp.Diff(want, v.Lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if v.ID != p.ID || v.Total != (money.Money{Amount: 2 * price.Amount, Currency: price.Currency}) {
		t.Errorf("view %s, want id %s and total 2×%v", r.body, p.ID, price)
	}
	if len(v.Degraded) != 0 || v.Notifications == nil {
		t.Errorf("every backend is up, yet degraded=%v notifications=%v", v.Degraded, v.Notifications)
	}
	// The saga is not ours to wait for: a pending order has no
	// notification and at most a pending payment.
	if v.Status == "pending" {
		if len(v.Notifications) != 0 {
			t.Errorf("pending order with notifications %v", v.Notifications)
		}
		if v.Payment != nil && v.Payment["status"] != "pending" {
			t.Errorf("pending order with payment %v", v.Payment)
		}
	} else {
		t.Logf("order already %s (the saga runs): payment %v, notifications %v", v.Status, v.Payment, v.Notifications)
	}
}

func (e *env) testConcurrentPlace(t *testing.T) {
	before := e.orderIDs(t, e.alice, "")
	key, body := newKey(t), orderBody(e.orderSKU, 1)
	const n = 100
	results := make([]resp, n)
	errs := make([]error, n)
	ready := make(chan struct{})
	done := make(chan int, n)
	for i := range n {
		go func() {
			<-ready
			results[i], errs[i] = e.api.try(t.Context(), req{method: "POST", path: "/api/v1/orders", token: e.alice,
				header: map[string]string{"Idempotency-Key": key}, body: body})
			done <- i
		}()
	}
	close(ready)
	for range n {
		<-done
	}
	ids, statuses := map[string]int{}, map[int]int{}
	for i, r := range results {
		if errs[i] != nil {
			t.Errorf("POST %d: %v", i, errs[i])
			continue
		}
		statuses[r.status]++
		switch r.status {
		case http.StatusAccepted:
			var p placed
			r.into(t, &p)
			ids[p.ID]++
		case http.StatusConflict: // the first was still in flight
			if r.header.Get("Retry-After") == "" {
				t.Errorf("409 without Retry-After: %s", r.body)
			}
		default:
			t.Errorf("POST %d: %d %s", i, r.status, r.body)
		}
	}
	t.Logf("statuses of %d identical POSTs: %v", n, statuses)
	if len(ids) != 1 {
		t.Fatalf("202 answers name %d order ids, want exactly 1: %v", len(ids), ids)
	}
	// The key now replays the one order, flagged as a replay.
	r := e.api.do(t, req{method: "POST", path: "/api/v1/orders", token: e.alice,
		header: map[string]string{"Idempotency-Key": key}, body: body})
	wantStatus(t, r, http.StatusAccepted)
	var p placed
	r.into(t, &p)
	if ids[p.ID] == 0 || r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %s Idempotent-Replayed=%q, want order %v flagged", r.body, r.header.Get("Idempotent-Replayed"), ids)
	}
	after := e.orderIDs(t, e.alice, p.Position)
	if len(after) != len(before)+1 || count(after, p.ID) != 1 {
		t.Errorf("alice had %d orders, has %d after %d identical POSTs (order %s listed %d times), want exactly one more",
			len(before), len(after), n, p.ID, count(after, p.ID))
	}
}

func (e *env) testSameKeyOtherBody(t *testing.T) {
	key := newKey(t)
	r := e.api.do(t, req{method: "POST", path: "/api/v1/orders", token: e.alice,
		header: map[string]string{"Idempotency-Key": key}, body: orderBody(e.orderSKU, 1)})
	wantStatus(t, r, http.StatusAccepted)
	r = e.api.do(t, req{method: "POST", path: "/api/v1/orders", token: e.alice,
		header: map[string]string{"Idempotency-Key": key}, body: orderBody(e.orderSKU, 3)})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	// No key at all is refused before anything is written.
	r = e.api.do(t, req{method: "POST", path: "/api/v1/orders", token: e.alice, body: orderBody(e.orderSKU, 1), badRequest: true})
	wantStatus(t, r, http.StatusBadRequest)
}

func (e *env) testOtherCustomer(t *testing.T) {
	p := e.place(t, e.alice, e.orderSKU, 1)
	if _, r := e.view(t, e.alice, p.ID, p.Position); r.status != http.StatusOK {
		t.Fatalf("alice reads her order: %d %s", r.status, r.body)
	}
	_, r := e.view(t, e.bob, p.ID, "")
	wantStatus(t, r, http.StatusNotFound)
	r = e.api.do(t, req{method: "POST", path: "/api/v1/orders/" + p.ID + "/cancel", token: e.bob})
	wantStatus(t, r, http.StatusNotFound)
	if slices.Contains(e.orderIDs(t, e.bob, ""), p.ID) {
		t.Errorf("bob's list shows alice's order %s", p.ID)
	}
	if v, _ := e.view(t, e.alice, p.ID, ""); v.Status == "cancelled" {
		t.Errorf("bob's cancel reached alice's order: %+v", v)
	}
}

func (e *env) testRestock(t *testing.T) {
	before := e.product(t, e.stockSKU, "").Available
	path := "/api/v1/admin/products/" + e.stockSKU + "/restock"
	r := e.api.do(t, req{method: "POST", path: path, token: e.alice, body: map[string]int{"quantity": 7}})
	wantStatus(t, r, http.StatusForbidden)
	r = e.api.do(t, req{method: "POST", path: path, token: e.admin, body: map[string]int{"quantity": 7}})
	wantStatus(t, r, http.StatusAccepted)
	var w struct {
		Position string `json:"position"`
	}
	r.into(t, &w)
	if w.Position == "" {
		t.Fatalf("restock answered without a position: %s", r.body)
	}
	if got := e.product(t, e.stockSKU, w.Position).Available; got != before+7 {
		t.Errorf("available %d after restocking 7 onto %d", got, before)
	}
}

func (e *env) testStatus(t *testing.T) {
	r := e.api.do(t, req{method: "GET", path: "/api/v1/admin/status", token: e.alice})
	wantStatus(t, r, http.StatusForbidden)
	got := e.serviceStates(t)
	for _, name := range []string{"order", "inventory", "payment", "notify", "provider-sim"} {
		s, ok := got[name]
		if !ok || !s.Ready || s.Status != "ready" || s.Breaker.State != "closed" {
			t.Errorf("%s: %+v (present %v), want ready with a closed breaker", name, s, ok)
		}
	}

	// Every service's projections report their lag.
	r = e.api.do(t, req{method: "GET", path: "/api/v1/admin/status", token: e.admin})
	wantStatus(t, r, http.StatusOK)
	var st struct {
		Projections map[string]map[string]struct {
			Events     *int   `json:"events"`
			Checkpoint string `json:"checkpoint"`
			Error      string `json:"error"`
		} `json:"projections"`
	}
	r.into(t, &st)
	for svc, names := range map[string][]string{"order": {"orders", "prices"}, "inventory": {"catalog"}, "payment": {"payments"}, "notify": {"feed"}} {
		for _, name := range names {
			lag, ok := st.Projections[svc][name]
			if !ok || lag.Events == nil || *lag.Events < 0 || lag.Checkpoint == "" || lag.Error != "" {
				t.Errorf("projection %s/%s: %+v (present %v), want its lag measured; status said %s", svc, name, lag, ok, r.body)
			}
		}
	}
}
