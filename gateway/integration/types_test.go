package integration

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"

	"github.com/ordo-platform/ordo/pkg/money"
)

type product struct {
	SKU       string      `json:"sku"`
	Name      string      `json:"name"`
	Price     money.Money `json:"price"`
	Available int         `json:"available"`
}

type line struct {
	SKU       string      `json:"sku"`
	Quantity  int         `json:"quantity"`
	UnitPrice money.Money `json:"unit_price"`
}

type placed struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Position string `json:"position"`
}

// orderView is GET /api/v1/orders/{id}; Payment and the notifications are
// kept raw so a test can compare them whole.
type orderView struct {
	ID            string         `json:"id"`
	Status        string         `json:"status"`
	Lines         []line         `json:"lines"`
	Total         money.Money    `json:"total"`
	Payment       map[string]any `json:"payment"`
	Notifications []any          `json:"notifications"`
	Degraded      []string       `json:"degraded"`
	Stale         []string       `json:"stale"`
}

type serviceStatus struct {
	Ready   bool   `json:"ready"`
	Status  string `json:"status"`
	Breaker struct {
		State string `json:"state"`
	} `json:"breaker"`
}

func newKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "it-" + hex.EncodeToString(b)
}

func orderBody(sku string, qty int) map[string]any {
	return map[string]any{"lines": []any{map[string]any{"sku": sku, "quantity": qty}}}
}

// place places an order of qty × sku as token's user under a fresh key.
func (e *env) place(t *testing.T, token, sku string, qty int) placed {
	t.Helper()
	r := e.api.do(t, req{method: "POST", path: "/api/v1/orders", token: token,
		header: map[string]string{"Idempotency-Key": newKey(t)}, body: orderBody(sku, qty)})
	wantStatus(t, r, http.StatusAccepted)
	var p placed
	r.into(t, &p)
	if p.ID == "" || p.Position == "" || p.Status != "pending" {
		t.Fatalf("placed: %s, want id, position and status pending", r.body)
	}
	return p
}

// view reads the order view as token's user, after position when set.
func (e *env) view(t *testing.T, token, id, position string) (orderView, resp) {
	t.Helper()
	path := "/api/v1/orders/" + url.PathEscape(id)
	if position != "" {
		path += "?min_position=" + url.QueryEscape(position)
	}
	r := e.api.do(t, req{method: "GET", path: path, token: token})
	var v orderView
	if r.status == http.StatusOK {
		r.into(t, &v)
	}
	return v, r
}

// orderIDs lists every order of token's user, page by page, after position.
func (e *env) orderIDs(t *testing.T, token, position string) []string {
	t.Helper()
	var ids []string
	q := url.Values{"limit": {"100"}}
	if position != "" {
		q.Set("min_position", position)
	}
	for range 1000 {
		r := e.api.do(t, req{method: "GET", path: "/api/v1/orders?" + q.Encode(), token: token})
		wantStatus(t, r, http.StatusOK)
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		r.into(t, &page)
		for _, o := range page.Items {
			ids = append(ids, o.ID)
		}
		if page.NextCursor == nil {
			return ids
		}
		q.Set("cursor", *page.NextCursor)
	}
	t.Fatal("order list does not end")
	return nil
}

// serviceStates is the admin status per backend.
func (e *env) serviceStates(t *testing.T) map[string]serviceStatus {
	t.Helper()
	r := e.api.do(t, req{method: "GET", path: "/api/v1/admin/status", token: e.admin})
	wantStatus(t, r, http.StatusOK)
	var s struct {
		Services map[string]serviceStatus `json:"services"`
	}
	r.into(t, &s)
	return s.Services
}

func (e *env) product(t *testing.T, sku, position string) product {
	t.Helper()
	path := "/api/v1/products/" + url.PathEscape(sku)
	if position != "" {
		path += "?min_position=" + url.QueryEscape(position)
	}
	r := e.api.do(t, req{method: "GET", path: path})
	wantStatus(t, r, http.StatusOK)
	var p product
	r.into(t, &p)
	return p
}

func (e *env) pickSKUs(t *testing.T) {
	t.Helper()
	r := e.api.do(t, req{method: "GET", path: "/api/v1/products"})
	wantStatus(t, r, http.StatusOK)
	var list struct {
		Items []product `json:"items"`
	}
	r.into(t, &list)
	if len(list.Items) < 2 {
		t.Fatalf("catalog has %d products: %s", len(list.Items), r.body)
	}
	e.orderSKU, e.stockSKU = list.Items[0].SKU, list.Items[len(list.Items)-1].SKU
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
