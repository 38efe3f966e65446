package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/web"
)

type product struct {
	SKU       string      `json:"sku"`
	Name      string      `json:"name"`
	Price     money.Money `json:"price"`
	Available int         `json:"available"`
}

func getProduct(t *testing.T, v *env, sku, query string) product {
	t.Helper()
	r := do(t, v.e, nobody, "GET", "/products/"+sku+query, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", sku, r.status, r.body)
	}
	var p product
	r.decode(t, &p)
	return p
}

func TestListProducts(t *testing.T) {
	v := newEnv(t)
	r := do(t, v.e, nobody, "GET", "/products", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	var got struct{ Items []product }
	r.decode(t, &got)
	var want []product
	for _, c := range testCatalog { // already ordered by SKU
		want = append(want, product{SKU: c.SKU, Name: c.Name, Price: c.Price, Available: c.InitialStock})
	}
	if diff := cmp.Diff(want, got.Items); diff != "" {
		t.Fatalf("GET /products (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(r.body), `"price":{"amount":1890,"currency":"EUR"}`) {
		t.Errorf("price is not {amount, currency}: %s", r.body)
	}
}

func TestGetProduct(t *testing.T) {
	v := newEnv(t)
	want := product{SKU: "GRD-BURR-01", Name: "Manual burr grinder", Price: money.Euros(6900), Available: 10}
	if diff := cmp.Diff(want, getProduct(t, v, "GRD-BURR-01", "")); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		name, path string
		status     int
		typ        string
	}{
		{"unknown SKU", "/products/NOPE-404", 404, "not-found"},
		{"not a SKU", "/products/grd-burr-01", 404, "not-found"},
		{"bad min_position", "/products/GRD-BURR-01?min_position=abc", 400, "invalid"},
		{"bad min_position on list", "/products?min_position=1", 400, "invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, v.e, nobody, "GET", tt.path, "")
			if p := r.problem(t); r.status != tt.status || p.Type != web.ProblemTypeBase+tt.typ {
				t.Fatalf("%d %+v, want %d %s", r.status, p, tt.status, tt.typ)
			}
		})
	}
}

func TestReadNotCaughtUp(t *testing.T) {
	v := newEnv(t)
	ahead := v.lastPosition(t, "stock-GRD-BURR-01")
	ahead.Commit += 1_000_000
	r := do(t, v.e, nobody, "GET", "/products/GRD-BURR-01?min_position="+ahead.String(), "")
	p := r.problem(t)
	if r.status != http.StatusServiceUnavailable || p.Type != web.ProblemTypeBase+"not-caught-up" || r.header.Get("Retry-After") == "" {
		t.Fatalf("%d %+v Retry-After %q, want 503 not-caught-up with Retry-After", r.status, p, r.header.Get("Retry-After"))
	}
}

func TestRestockReadYourWrites(t *testing.T) {
	v := newEnv(t)
	r := do(t, v.e, admin, "POST", "/products/GRD-BURR-01/restock", `{"quantity":7}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("restock: %d %s", r.status, r.body)
	}
	var w struct{ Position string }
	r.decode(t, &w)
	pos, err := es.ParsePosition(w.Position)
	if last := v.lastPosition(t, "stock-GRD-BURR-01"); err != nil || pos != last {
		t.Fatalf("position %q (%v), want the restock's %s", w.Position, err, last)
	}
	// No waiting of our own: min_position makes the read wait.
	if got := getProduct(t, v, "GRD-BURR-01", "?min_position="+w.Position); got.Available != 17 {
		t.Fatalf("after restocking 7 of 10, available %d, want 17", got.Available)
	}
	var list struct{ Items []product }
	do(t, v.e, nobody, "GET", "/products?min_position="+w.Position, "").decode(t, &list)
	if list.Items[1].SKU != "GRD-BURR-01" || list.Items[1].Available != 17 {
		t.Fatalf("list after restock: %+v", list.Items)
	}
	events := v.stockEvents(t, "GRD-BURR-01")
	md := events[len(events)-1].Metadata
	if md.Actor != "admin" || md.CausationID == "" {
		t.Errorf("restock metadata %+v, want actor admin and the request id as cause", md)
	}
}

// rejection is a request that must fail with a precise problem and write
// nothing.
type rejection struct {
	name         string
	who          caller
	method, path string
	body         string
	status       int
	typ, detail  string
}

func checkRejections(t *testing.T, v *env, cases []rejection) {
	t.Helper()
	before := v.eventCount(t)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, v.e, tt.who, tt.method, tt.path, tt.body)
			p := r.problem(t)
			if r.status != tt.status || p.Status != tt.status || p.Type != web.ProblemTypeBase+tt.typ || !strings.Contains(p.Detail, tt.detail) {
				t.Fatalf("%d %+v, want %d type %s detail containing %q", r.status, p, tt.status, tt.typ, tt.detail)
			}
		})
	}
	if after := v.eventCount(t); after != before {
		t.Fatalf("rejected requests wrote %d events", after-before)
	}
	if got := getProduct(t, v, "GRD-BURR-01", ""); got.Available != 10 {
		t.Fatalf("rejected requests changed the read model: available %d, want 10", got.Available)
	}
}

func TestRestockRejected(t *testing.T) {
	v := newEnv(t)
	const path = "/products/GRD-BURR-01/restock"
	huge := `{"quantity":1,"note":"` + strings.Repeat("x", 20_000) + `"}`
	checkRejections(t, v, []rejection{
		{"no identity", nobody, "POST", path, `{"quantity":1}`, 401, "unauthenticated", "Ordo-Identity"},
		{"customer", customer, "POST", path, `{"quantity":1}`, 403, "forbidden", "admin"},
		{"malformed JSON", admin, "POST", path, `{"quantity":`, 400, "invalid", "malformed JSON"},
		{"unknown field", admin, "POST", path, `{"quantity":1,"price":5}`, 400, "invalid", `unknown field "price"`},
		{"wrong type", admin, "POST", path, `{"quantity":"5"}`, 400, "invalid", `"quantity" must be an integer`},
		{"empty body", admin, "POST", path, ``, 400, "invalid", "empty"},
		{"missing quantity", admin, "POST", path, `{}`, 400, "invalid", "quantity 0"},
		{"zero quantity", admin, "POST", path, `{"quantity":0}`, 400, "invalid", "quantity 0"},
		{"negative quantity", admin, "POST", path, `{"quantity":-3}`, 400, "invalid", "quantity -3"},
		{"too many", admin, "POST", path, `{"quantity":1000001}`, 400, "invalid", "want 1 to 1000000"},
		{"unknown SKU", admin, "POST", "/products/NOPE-1/restock", `{"quantity":1}`, 404, "not-found", "NOPE-1"},
		{"not a SKU", admin, "POST", "/products/nope/restock", `{"quantity":1}`, 404, "not-found", "nope"},
		{"oversized body", admin, "POST", path, huge, 413, "too-large", "larger than"},
	})
}
