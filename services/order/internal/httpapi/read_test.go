package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/order/internal/httpapi"
	"github.com/ordo-platform/ordo/services/order/internal/readmodel"
)

const oneMug = `{"lines":[{"sku":"MUG-STONE-350","quantity":1}]}`

func TestGetOrder(t *testing.T) {
	en := newEnv(t)
	p := en.place(alice, oneMug)
	en.view(alice, p.ID, p.Position) // read-your-writes; the cases below then read a caught-up model
	tests := []struct {
		name   string
		path   string
		who    web.Identity
		status int
		detail string
	}{
		{"owner", "/orders/" + p.ID + "?min_position=" + p.Position, alice, 200, ""},
		{"admin sees any order", "/orders/" + p.ID, admin, 200, ""},
		{"another customer's order", "/orders/" + p.ID, bob, 404, "order " + p.ID + " not found"},
		{"unknown order", "/orders/" + es.NewUUID().String(), alice, 404, "not found"},
		{"not an order id", "/orders/no%20such%20thing", alice, 404, "not found"},
		{"no identity", "/orders/" + p.ID, nobody, 401, "Ordo-Identity"},
		{"bad min_position", "/orders/" + p.ID + "?min_position=12", alice, 400, "min_position"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := en.do("GET", tt.path, tt.who, "")
			if res.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.status, res.body)
			}
			if tt.status != 200 {
				if pr := res.problem(t); !strings.Contains(pr.Detail, tt.detail) {
					t.Errorf("problem %+v, want detail containing %q", pr, tt.detail)
				}
			}
		})
	}
}

// TestGetOrderNotCaughtUp asks for a position the model cannot reach: the
// read must say so (503, Retry-After), never serve what it has.
func TestGetOrderNotCaughtUp(t *testing.T) {
	en := newEnv(t)
	p := en.place(alice, oneMug)
	pos, _ := es.ParsePosition(p.Position)
	future := es.Position{Commit: pos.Commit + 1_000_000, Prepare: pos.Prepare}
	start := time.Now()
	res := en.do("GET", "/orders/"+p.ID+"?min_position="+future.String(), alice, "")
	if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") != "1" {
		t.Fatalf("status %d Retry-After %q; body %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	if pr := res.problem(t); pr.Type != web.ProblemTypeBase+"not-caught-up" {
		t.Errorf("problem %+v", pr)
	}
	if waited := time.Since(start); waited < httpapi.ReadWait || waited > httpapi.ReadWait+2*time.Second {
		t.Errorf("waited %v, want about %v", waited, httpapi.ReadWait)
	}
}

type page struct {
	Items      []readmodel.OrderView `json:"items"`
	NextCursor *string               `json:"next_cursor"`
}

func (en *env) list(who web.Identity, query string) page {
	en.t.Helper()
	res := en.read("/orders?"+query, who)
	if res.status != http.StatusOK {
		en.t.Fatalf("GET /orders?%s: status %d, body %s", query, res.status, res.body)
	}
	var pg page
	res.decode(en.t, &pg)
	return pg
}

// TestListPages places 45 orders and pages through them 20 at a time: each
// order appears exactly once, newest first, and orders placed while paging
// neither repeat nor shift the pages.
func TestListPages(t *testing.T) {
	en := newEnv(t)
	var placedIDs []string
	var last placed
	for range 45 {
		last = en.place(alice, oneMug)
		placedIDs = append(placedIDs, last.ID)
	}
	en.place(bob, oneMug)

	var got []string
	var sizes []int
	var mid placed
	query := "limit=20&min_position=" + last.Position
	for {
		pg := en.list(alice, query)
		sizes = append(sizes, len(pg.Items))
		for _, v := range pg.Items {
			if v.Customer != "alice" {
				t.Fatalf("alice's list shows %s's order %s", v.Customer, v.ID)
			}
			got = append(got, v.ID)
		}
		if len(got) == 20 {
			mid = en.place(alice, oneMug) // placed mid-paging: newer than the cursor, so not in later pages
		}
		if pg.NextCursor == nil {
			break
		}
		query = "limit=20&cursor=" + *pg.NextCursor
	}
	want := slices.Clone(placedIDs)
	slices.Reverse(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged ids (-want newest first +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{20, 20, 5}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}

	if pg := en.list(alice, "min_position="+mid.Position); len(pg.Items) != 20 || pg.NextCursor == nil {
		t.Errorf("default page: %d items, next %v", len(pg.Items), pg.NextCursor)
	}
	if pg := en.list(alice, "limit=100"); len(pg.Items) != 46 || pg.NextCursor != nil {
		t.Errorf("limit 100: %d items, next %v", len(pg.Items), pg.NextCursor)
	}
	if pg := en.list(bob, "limit=100"); len(pg.Items) != 1 || pg.Items[0].Customer != "bob" {
		t.Errorf("bob's list: %+v", pg.Items)
	}
	if pg := en.list(web.Identity{User: "carol", Role: web.RoleCustomer}, ""); pg.Items == nil || len(pg.Items) != 0 || pg.NextCursor != nil {
		t.Errorf("carol's empty list: %+v", pg)
	}
}

func TestListRejectsBadInput(t *testing.T) {
	en := newEnv(t)
	for _, q := range []string{"limit=0", "limit=101", "limit=-1", "limit=ten", "cursor=!!", "cursor=bm90LWEtY3Vyc29y", "min_position=x"} {
		t.Run(q, func(t *testing.T) {
			res := en.do("GET", "/orders?"+q, alice, "")
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, body %s", res.status, res.body)
			}
			res.problem(t)
		})
	}
	if res := en.do("GET", "/orders", nobody, ""); res.status != http.StatusUnauthorized {
		t.Errorf("no identity: %d", res.status)
	}
}

func TestOpenAPIAndHealth(t *testing.T) {
	en := newEnv(t)
	res := en.do("GET", "/openapi.yaml", nobody, "")
	if res.status != 200 || !strings.HasPrefix(string(res.body), "openapi: 3.1") {
		t.Fatalf("openapi: %d %.40s", res.status, res.body)
	}
	for _, path := range []string{"/orders:", "/orders/{id}:", "/orders/{id}/cancel:", "/openapi.yaml:", "/healthz:", "/readyz:"} {
		if !strings.Contains(string(res.body), "\n  "+path+"\n") {
			t.Errorf("openapi.yaml does not describe %s", path)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if res := en.do("GET", path, nobody, ""); res.status != 200 {
			t.Errorf("%s: %d %s", path, res.status, res.body)
		}
	}
}
